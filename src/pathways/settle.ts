import type { Types } from 'mongoose';
import { awardMany, type AwardRequest } from '../awards/award.js';
import type { Context } from '../context.js';
import { LIVE_STATUSES, type CredentialDoc } from '../db/models/credential.js';
import type { PathwayDoc } from '../db/models/pathway.js';
import type { PathwayEnrolmentDoc } from '../db/models/pathwayEnrolment.js';
import type { PersonDoc } from '../db/models/person.js';
import type { TemplateDoc } from '../db/models/template.js';
import { currentStepOf, pathwayProgress, type PathwayProgress } from './progress.js';

/**
 * Brings learners' pathway records up to date with the badges they hold: records newly done steps
 * with the time, where they stand, when they finished, and awards the pathway's own badge through the
 * normal award pipeline (awardMany), whose unique index keeps it exactly once however many runs see
 * the pathway finished at the same moment. Every write is conditional, so concurrent runs agree.
 */

const PAGE = 500;
const MAX_ROUNDS = 3;

export const stepInputsOf = (pathway: Pick<PathwayDoc, 'steps'>) =>
  pathway.steps.map((s) => ({
    id: s.id,
    templateIds: s.templateIds.map(String),
    atLeast: s.atLeast,
    prerequisites: s.prerequisites,
    optional: s.optional,
  }));

export const recordedOf = (e: Pick<PathwayEnrolmentDoc, 'completedSteps'>) =>
  new Map(e.completedSteps.map((c) => [c.stepId, new Date(c.at)]));

/** The templates of `templateIds` each person holds a live credential of. */
export async function heldTemplates(
  ctx: Context,
  platformId: Types.ObjectId,
  personIds: Types.ObjectId[],
  templateIds: Types.ObjectId[],
): Promise<Map<string, Set<string>>> {
  const held = new Map<string, Set<string>>(personIds.map((p) => [String(p), new Set<string>()]));
  if (personIds.length === 0 || templateIds.length === 0) return held;
  const credentials = await ctx.models.credentials
    .find(
      {
        platformId,
        personId: { $in: personIds },
        templateId: { $in: templateIds },
        status: { $in: LIVE_STATUSES },
      },
      { personId: 1, templateId: 1 },
    )
    .lean<Pick<CredentialDoc, 'personId' | 'templateId'>[]>();
  for (const c of credentials) held.get(String(c.personId))?.add(String(c.templateId));
  return held;
}

/** Records what `progress` says is new for one enrolment; false when another run changed it first. */
async function record(ctx: Context, e: PathwayEnrolmentDoc, progress: PathwayProgress): Promise<boolean> {
  const now = ctx.now();
  const current = currentStepOf(progress);
  if (progress.newlyDone.length === 0 && current === e.currentStep) return true;
  const update: Record<string, unknown> = {
    $set: { currentStep: current, updatedAt: new Date(Math.max(now.getTime(), e.updatedAt.getTime() + 1)) },
  };
  if (progress.newlyDone.length)
    update.$push = { completedSteps: { $each: progress.newlyDone.map((stepId) => ({ stepId, at: now })) } };
  const done = await ctx.models.pathwayEnrolments.updateOne({ _id: e._id, updatedAt: e.updatedAt }, update);
  return done.matchedCount === 1;
}

/**
 * Settles these enrolments of one pathway. Answers how many pathway badges were awarded (0 or more;
 * a repeat or a concurrent run awards none).
 */
export async function settleEnrolments(
  ctx: Context,
  pathway: PathwayDoc,
  enrolments: PathwayEnrolmentDoc[],
): Promise<number> {
  const steps = stepInputsOf(pathway);
  let pending = enrolments;
  const finished: PathwayEnrolmentDoc[] = [];
  for (let round = 0; pending.length && round < MAX_ROUNDS; round++) {
    const held = await heldTemplates(
      ctx,
      pathway.platformId,
      pending.map((e) => e.personId),
      pathway.templateIds,
    );
    const retry: Types.ObjectId[] = [];
    for (const e of pending) {
      const progress = pathwayProgress(steps, held.get(String(e.personId)) ?? new Set(), recordedOf(e));
      if (!(await record(ctx, e, progress))) {
        retry.push(e._id);
        continue;
      }
      if (progress.complete) finished.push(e);
    }
    pending = retry.length
      ? await ctx.models.pathwayEnrolments.find({ _id: { $in: retry } }).lean<PathwayEnrolmentDoc[]>()
      : [];
  }
  if (pending.length)
    ctx.logger.warn(
      { pathwayId: String(pathway._id), learners: pending.length },
      'pathway progress kept changing under this run; the next award or recount settles it',
    );
  if (finished.length === 0) return 0;
  const now = ctx.now();
  await ctx.models.pathwayEnrolments.updateMany(
    { _id: { $in: finished.map((e) => e._id) }, completedAt: null },
    { $set: { completedAt: now } },
  );
  return awardPathwayBadge(ctx, pathway, finished);
}

/** The pathway's own badge for learners who finished it and hold none from it yet. */
async function awardPathwayBadge(
  ctx: Context,
  pathway: PathwayDoc,
  finished: PathwayEnrolmentDoc[],
): Promise<number> {
  const waiting = finished.filter((e) => !e.badgeCredentialId);
  if (!pathway.badgeTemplateId || waiting.length === 0) return 0;
  const template = await ctx.models.templates
    .findOne({ _id: pathway.badgeTemplateId, platformId: pathway.platformId })
    .lean<TemplateDoc>();
  // A withdrawn (or draft) badge awards nothing, as for any badge; the finish stays recorded.
  if (!template || template.state !== 'active') return 0;
  const people = await ctx.models.people
    .find({ _id: { $in: waiting.map((e) => e.personId) } }, { ids: 1, sub: 1, lmsUserId: 1 })
    .lean<Pick<PersonDoc, '_id' | 'ids' | 'sub' | 'lmsUserId'>[]>();
  const personOf = new Map(people.map((p) => [String(p._id), p]));
  const requests: AwardRequest[] = [];
  const forEnrolment: PathwayEnrolmentDoc[] = [];
  for (const e of waiting) {
    const person = personOf.get(String(e.personId));
    if (!person) continue;
    requests.push({
      template,
      personId: e.personId,
      userId: person.lmsUserId ?? person.sub ?? person.ids[0]!,
      courseRef: template.courseRef ?? pathway.courseRef,
      courseId: template.courseId,
      evidence: [],
      actor: { type: 'system', id: null, name: 'Laurel pathways' },
      reason: `Finished the pathway “${pathway.name}”.`,
    });
    forEnrolment.push(e);
  }
  const outcomes = await awardMany(ctx, requests);
  let awarded = 0;
  await Promise.all(
    outcomes.map(async (o, i) => {
      if (o.awarded) awarded++;
      // The live credential of the badge, ours or one held before: the pathway's badge is then settled.
      if (o.credential && (o.awarded || o.reason === 'already-live'))
        await ctx.models.pathwayEnrolments.updateOne(
          { _id: forEnrolment[i]!._id, badgeCredentialId: null },
          { $set: { badgeCredentialId: o.credential._id } },
        );
    }),
  );
  return awarded;
}

/** Counts every learner of a pathway again (after an edit), a page at a time. */
export async function recountPathway(ctx: Context, pathway: PathwayDoc): Promise<number> {
  let awarded = 0;
  let after: Types.ObjectId | null = null;
  for (;;) {
    const filter: Record<string, unknown> = { pathwayId: pathway._id };
    if (after) filter._id = { $gt: after };
    const page = await ctx.models.pathwayEnrolments
      .find(filter)
      .sort({ _id: 1 })
      .limit(PAGE)
      .lean<PathwayEnrolmentDoc[]>();
    if (page.length === 0) return awarded;
    awarded += await settleEnrolments(ctx, pathway, page);
    after = page[page.length - 1]!._id;
  }
}

/**
 * After awards: settles the enrolments of these people in the pathways that name one of these
 * templates, and only those. Answers how many pathway badges were awarded.
 */
export async function settleAfterAwards(
  ctx: Context,
  awards: { platformId: Types.ObjectId; personId: Types.ObjectId; templateId: Types.ObjectId }[],
): Promise<number> {
  const byPlatform = new Map<string, typeof awards>();
  for (const a of awards)
    byPlatform.set(String(a.platformId), [...(byPlatform.get(String(a.platformId)) ?? []), a]);
  let awarded = 0;
  for (const list of byPlatform.values()) {
    const platformId = list[0]!.platformId;
    const pathways = await ctx.models.pathways
      .find({ platformId, templateIds: { $in: [...new Set(list.map((a) => String(a.templateId)))] } })
      .lean<PathwayDoc[]>();
    if (pathways.length === 0) continue;
    const enrolments = await ctx.models.pathwayEnrolments
      .find({
        pathwayId: { $in: pathways.map((p) => p._id) },
        personId: { $in: list.map((a) => a.personId) },
      })
      .lean<PathwayEnrolmentDoc[]>();
    for (const pathway of pathways) {
      // Only the people whose award names a template of this pathway.
      const names = new Set(pathway.templateIds.map(String));
      const people = new Set(
        list.filter((a) => names.has(String(a.templateId))).map((a) => String(a.personId)),
      );
      const mine = enrolments.filter(
        (e) => e.pathwayId.equals(pathway._id) && people.has(String(e.personId)),
      );
      if (mine.length) awarded += await settleEnrolments(ctx, pathway, mine);
    }
  }
  return awarded;
}
