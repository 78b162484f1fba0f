import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { Actor } from '../audit/record.js';
import type { Context } from '../context.js';
import type { PathwayDoc } from '../db/models/pathway.js';
import type { PathwayEnrolmentDoc } from '../db/models/pathwayEnrolment.js';
import type { PersonDoc } from '../db/models/person.js';
import { HttpError, isDuplicateKey, NotFoundError, writeErrorsOf } from '../errors.js';
import { settleEnrolments } from './settle.js';

/**
 * Learners following pathways: subscribing, being enrolled by an instructor, sharing their progress
 * by a public link and withdrawing it. A new follower is counted at once from the badges they hold.
 */

const LEARNER_ROLE = /(^|#|\/)(Learner|Student)$/;

/**
 * Enrols these people in a pathway (an existing enrolment stays as it is) and counts their progress.
 * Answers how many were new.
 */
export async function enrol(
  ctx: Context,
  pathway: PathwayDoc,
  personIds: Types.ObjectId[],
  via: PathwayEnrolmentDoc['via'],
  actor: Actor,
): Promise<number> {
  if (personIds.length === 0) return 0;
  const now = ctx.now();
  let added = 0;
  try {
    const answer = await ctx.models.pathwayEnrolments.collection.insertMany(
      personIds.map((personId) => ({
        platformId: pathway.platformId,
        pathwayId: pathway._id,
        personId,
        via,
        enrolledBy: actor,
        enrolledAt: now,
        completedSteps: [],
        currentStep: null,
        completedAt: null,
        badgeCredentialId: null,
        shareId: null,
        withdrawnShareIds: [],
        updatedAt: now,
      })),
      { ordered: false },
    );
    added = answer.insertedCount;
  } catch (err) {
    // Those who follow it already keep their enrolment as it is.
    const errors = writeErrorsOf(err);
    if (errors.length === 0 || errors.some((w) => !isDuplicateKey(w))) throw err;
    added = personIds.length - errors.length;
  }
  const enrolments = await ctx.models.pathwayEnrolments
    .find({ pathwayId: pathway._id, personId: { $in: personIds } })
    .lean<PathwayEnrolmentDoc[]>();
  await settleEnrolments(ctx, pathway, enrolments);
  return added;
}

/** An instructor enrols every learner of their course (as the LMS's launches and roster name them). */
export async function enrolCourseLearners(
  ctx: Context,
  pathway: PathwayDoc,
  courseRef: Types.ObjectId,
  actor: Actor,
): Promise<{ added: number; learners: number }> {
  const roster = await ctx.models.people
    .find({ platformId: pathway.platformId, [`roles.${String(courseRef)}`]: { $exists: true } }, { roles: 1 })
    .limit(10_000)
    .lean<Pick<PersonDoc, '_id' | 'roles'>[]>();
  const learners = roster.filter((p) =>
    ((p.roles as unknown as Record<string, string[]>)[String(courseRef)] ?? []).some((r) =>
      LEARNER_ROLE.test(r),
    ),
  );
  const added = await enrol(
    ctx,
    pathway,
    learners.map((p) => p._id),
    'enrolled',
    actor,
  );
  return { added, learners: learners.length };
}

/** A learner's own enrolment in a pathway, or null. */
export async function enrolmentOf(
  ctx: Context,
  pathway: Pick<PathwayDoc, '_id'>,
  personId: Types.ObjectId,
): Promise<PathwayEnrolmentDoc | null> {
  return ctx.models.pathwayEnrolments
    .findOne({ pathwayId: pathway._id, personId })
    .lean<PathwayEnrolmentDoc>();
}

/** A learner stops following a pathway: their record of it goes (a shared link then answers 404). */
export async function unsubscribe(ctx: Context, pathway: Pick<PathwayDoc, '_id'>, personId: Types.ObjectId) {
  await ctx.models.pathwayEnrolments.deleteOne({ pathwayId: pathway._id, personId });
}

/** Shares the learner's progress by a public link (the same link while it stays shared). */
export async function sharePathway(ctx: Context, enrolment: PathwayEnrolmentDoc): Promise<string> {
  if (enrolment.shareId) return enrolment.shareId;
  const shareId = randomBytes(16).toString('base64url');
  const done = await ctx.models.pathwayEnrolments.findOneAndUpdate(
    { _id: enrolment._id, shareId: null },
    { $set: { shareId } },
    { returnDocument: 'after' },
  );
  if (done) return shareId;
  const again = await ctx.models.pathwayEnrolments.findById(enrolment._id).lean<PathwayEnrolmentDoc>();
  if (!again?.shareId) throw new NotFoundError('Your place on this pathway');
  return again.shareId;
}

/** Withdraws the public link for good: it answers 410 from now on. */
export async function unsharePathway(ctx: Context, enrolment: PathwayEnrolmentDoc): Promise<void> {
  if (!enrolment.shareId) return;
  await ctx.models.pathwayEnrolments.updateOne(
    { _id: enrolment._id, shareId: enrolment.shareId },
    { $set: { shareId: null }, $push: { withdrawnShareIds: enrolment.shareId } },
  );
}

export const SHARE_ID = /^[A-Za-z0-9_-]{22}$/;

/** The enrolment behind a public link; a withdrawn link is 410 (gone), an unknown one 404. */
export async function sharedEnrolment(ctx: Context, shareId: string): Promise<PathwayEnrolmentDoc> {
  if (!SHARE_ID.test(shareId)) throw new NotFoundError('Shared pathway');
  const found = await ctx.models.pathwayEnrolments.findOne({ shareId }).lean<PathwayEnrolmentDoc>();
  if (found) return found;
  if (await ctx.models.pathwayEnrolments.exists({ withdrawnShareIds: shareId }))
    throw new HttpError(410, 'gone', 'Its owner no longer shares their progress on this pathway.');
  throw new NotFoundError('Shared pathway');
}

/** How many learners stand at each step of a pathway, and how many finished it. */
export async function learnersPerStep(
  ctx: Context,
  pathway: PathwayDoc,
): Promise<{ perStep: Map<string, number>; finished: number; total: number }> {
  const rows = await ctx.models.pathwayEnrolments.aggregate<{ _id: string | null; n: number }>([
    { $match: { pathwayId: pathway._id } },
    { $group: { _id: '$currentStep', n: { $sum: 1 } } },
  ]);
  const perStep = new Map<string, number>();
  let finished = 0;
  let total = 0;
  const first = pathway.steps.find((s) => !s.optional)?.id ?? null;
  for (const r of rows) {
    total += r.n;
    if (r._id === 'done') finished += r.n;
    // Not counted yet (null), or at a step an edit removed: at the first step until counted again.
    else {
      const at = r._id && pathway.steps.some((s) => s.id === r._id) ? r._id : first;
      if (at) perStep.set(at, (perStep.get(at) ?? 0) + r.n);
    }
  }
  return { perStep, finished, total };
}

export const asObjectId = (id: string) => new Types.ObjectId(id);
