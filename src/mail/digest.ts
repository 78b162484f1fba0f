import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { CourseDoc } from '../db/models/course.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { DigestSubscriptionDoc } from '../db/models/digestSubscription.js';
import type { PersonDoc } from '../db/models/person.js';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import { visibleTemplateFilter } from '../courses/scope.js';
import { isDuplicateKey } from '../errors.js';
import { isCourseStaff } from '../lti/roles.js';
import type { Mailer } from './mailer.js';
import { digestIsEmpty, digestMail, type CourseDigest } from './messages.js';
import { digestUnsubscribeUrl } from './unsubscribe.js';

/**
 * Instructors' weekly digest of a course: what happened to its badges in the week (awards,
 * revocations, credentials that could not be issued, learners who moved closer to a badge). An
 * instructor opts in per course from the instructor page; a recurring job (hourly) sends each
 * digest whose week is over. A subscription is claimed by moving `nextDueAt` past a lease, so two
 * workers never send the same week; a crash leaves the lease to run out and the week is sent again.
 * A week where nothing happened sends nothing.
 */
export const WEEK_MS = 7 * 86_400_000;
const LEASE_MS = 10 * 60_000;
const RETRY_MS = 60 * 60_000;
const MAX_ATTEMPTS = 5;
const BATCH = 100;
const LIMIT = 2000;

export type DigestOwner = { platformId: Types.ObjectId; courseRef: Types.ObjectId; personId: Types.ObjectId };

export async function digestSubscriptionOf(ctx: Context, who: DigestOwner) {
  return ctx.models.digestSubscriptions.findOne(who).lean<DigestSubscriptionDoc>();
}

/** Opts in (idempotent): the first digest covers the week from now. */
export async function subscribeToDigest(ctx: Context, who: DigestOwner): Promise<void> {
  const now = ctx.now();
  try {
    await ctx.models.digestSubscriptions.updateOne(
      who,
      {
        $setOnInsert: {
          createdAt: now,
          coveredUntil: now,
          nextDueAt: new Date(now.getTime() + WEEK_MS),
          lastSentAt: null,
          attempts: 0,
          error: null,
        },
      },
      { upsert: true },
    );
  } catch (err) {
    // Two opt-ins at once: the other one made it.
    if (!isDuplicateKey(err)) throw err;
  }
}

export async function unsubscribeFromDigest(ctx: Context, who: DigestOwner): Promise<void> {
  await ctx.models.digestSubscriptions.deleteOne(who);
}

const nameOf = (p: Pick<PersonDoc, 'name' | 'lmsUserId'> | undefined) =>
  p?.name ?? (p?.lmsUserId ? `learner ${p.lmsUserId}` : 'a learner without a name');

const byName = <T extends { badge: string }>(list: T[]) =>
  list.sort((a, b) => a.badge.localeCompare(b.badge));

/** What happened to the badges of a course between `from` and `to`. */
export async function gatherCourseDigest(
  ctx: Context,
  scope: { platformId: Types.ObjectId; courseRef: Types.ObjectId },
  from: Date,
  to: Date,
): Promise<CourseDigest> {
  const [course, templates] = await Promise.all([
    ctx.models.courses
      .findOne({ _id: scope.courseRef, platformId: scope.platformId }, { title: 1 })
      .lean<CourseDoc>(),
    ctx.models.templates.find(visibleTemplateFilter(scope), { name: 1 }).limit(LIMIT).lean<TemplateDoc[]>(),
  ]);
  const badge = new Map(templates.map((t) => [String(t._id), t.name]));
  // By template first (the unique index's prefix), then this course's own credentials and progress.
  const base = {
    templateId: { $in: templates.map((t) => t._id) },
    platformId: scope.platformId,
    courseRef: scope.courseRef,
  };
  const window = { $gte: from, $lt: to };
  const fields = { templateId: 1, personId: 1, revokedReason: 1 };
  const [awarded, revoked, failed, progressed] = await Promise.all([
    ctx.models.credentials
      .find({ ...base, awardedAt: window }, fields)
      .limit(LIMIT)
      .lean<CredentialDoc[]>(),
    ctx.models.credentials
      .find({ ...base, status: 'revoked', revokedAt: window }, fields)
      .limit(LIMIT)
      .lean<CredentialDoc[]>(),
    ctx.models.credentials
      .find({ ...base, status: 'failed' }, fields)
      .limit(LIMIT)
      .lean<CredentialDoc[]>(),
    ctx.models.progress
      .find(
        { ...base, completedAt: null, ratio: { $gt: 0 }, updatedAt: window },
        { templateId: 1, personId: 1 },
      )
      .limit(LIMIT)
      .lean<ProgressDoc[]>(),
  ]);
  const personIds = [...new Set([...awarded, ...revoked, ...failed].map((c) => String(c.personId)))];
  const people = personIds.length
    ? await ctx.models.people
        .find({ platformId: scope.platformId, _id: { $in: personIds } }, { name: 1, lmsUserId: 1 })
        .lean<PersonDoc[]>()
    : [];
  const person = new Map(people.map((p) => [String(p._id), p]));
  const learner = (c: CredentialDoc) => nameOf(person.get(String(c.personId)));
  const badgeOf = (c: { templateId: Types.ObjectId }) => badge.get(String(c.templateId)) ?? 'a badge';

  const awards = new Map<string, string[]>();
  for (const c of awarded) awards.set(badgeOf(c), [...(awards.get(badgeOf(c)) ?? []), learner(c)]);
  const moving = new Map<string, Set<string>>();
  for (const p of progressed)
    moving.set(badgeOf(p), (moving.get(badgeOf(p)) ?? new Set()).add(String(p.personId)));
  return {
    courseTitle: course?.title ?? 'your course',
    from,
    to,
    awards: byName([...awards].map(([b, learners]) => ({ badge: b, learners: learners.sort() }))),
    revocations: byName(
      revoked.map((c) => ({ badge: badgeOf(c), learner: learner(c), reason: c.revokedReason })),
    ),
    failures: byName(failed.map((c) => ({ badge: badgeOf(c), learner: learner(c) }))),
    inProgress: byName([...moving].map(([b, who]) => ({ badge: b, learners: who.size }))),
    learnersInProgress: new Set(progressed.map((p) => String(p.personId))).size,
  };
}

/** Subscriptions whose week is over, each claimed with a lease (one worker per digest). */
async function claimDue(ctx: Context): Promise<DigestSubscriptionDoc[]> {
  const claimed: DigestSubscriptionDoc[] = [];
  for (let i = 0; i < BATCH; i++) {
    const now = ctx.now();
    const sub = await ctx.models.digestSubscriptions
      .findOneAndUpdate(
        { nextDueAt: { $lte: now } },
        { $set: { nextDueAt: new Date(now.getTime() + LEASE_MS) } },
        { sort: { nextDueAt: 1 }, returnDocument: 'before' },
      )
      .lean<DigestSubscriptionDoc>();
    if (!sub) break;
    claimed.push(sub);
  }
  return claimed;
}

export type DigestRun = { sent: number; skipped: number; failed: number };

type Outcome = 'sent' | 'skipped';

async function sendOne(ctx: Context, mailer: Mailer, sub: DigestSubscriptionDoc): Promise<Outcome> {
  const to = ctx.now();
  const done = async (outcome: Outcome, error: string | null) => {
    await ctx.models.digestSubscriptions.updateOne(
      { _id: sub._id },
      {
        $set: {
          coveredUntil: to,
          nextDueAt: new Date(to.getTime() + WEEK_MS),
          attempts: 0,
          error,
          ...(outcome === 'sent' ? { lastSentAt: to } : {}),
        },
      },
    );
    return outcome;
  };
  const instructor = await ctx.models.people
    .findOne({ _id: sub.personId, platformId: sub.platformId }, { email: 1, name: 1, roles: 1 })
    .lean<PersonDoc>();
  // Their course roles as last seen (a launch or a roster): one who no longer teaches the course
  // no longer hears about its learners. No roles known (an LMS administrator, say): kept.
  const roles = (instructor?.roles as unknown as Record<string, string[]> | undefined)?.[
    String(sub.courseRef)
  ];
  if (roles?.length && !isCourseStaff(roles)) {
    await ctx.models.digestSubscriptions.deleteOne({ _id: sub._id });
    return 'skipped';
  }
  const email = instructor?.email;
  if (!email) return done('skipped', 'the instructor has no e-mail address');
  if (await ctx.models.mailOptOuts.exists({ _id: email })) return done('skipped', 'the address unsubscribed');
  const scope = { platformId: sub.platformId, courseRef: sub.courseRef };
  const digest = await gatherCourseDigest(ctx, scope, sub.coveredUntil, to);
  if (digestIsEmpty(digest)) return done('skipped', null);
  await mailer.send(
    digestMail({
      to: email,
      instructorName: instructor.name ?? null,
      digest,
      unsubscribeUrl: digestUnsubscribeUrl(ctx.config, String(sub._id)),
    }),
  );
  return done('sent', null);
}

/** One run of the digest job: send every digest whose week is over. */
export async function sendCourseDigests(ctx: Context, mailer: Mailer | null): Promise<DigestRun> {
  const run: DigestRun = { sent: 0, skipped: 0, failed: 0 };
  if (!mailer) return run;
  for (const sub of await claimDue(ctx)) {
    try {
      run[await sendOne(ctx, mailer, sub)]++;
    } catch (err) {
      run.failed++;
      const attempts = sub.attempts + 1;
      const message = `sending failed: ${(err as Error).message}`;
      ctx.logger.warn(
        { digest: String(sub._id), attempts, err: (err as Error).message },
        'a course digest could not be sent',
      );
      // Retried hourly; after MAX_ATTEMPTS the week is given up (the next one still covers from it).
      const now = ctx.now().getTime();
      await ctx.models.digestSubscriptions.updateOne(
        { _id: sub._id },
        {
          $set:
            attempts >= MAX_ATTEMPTS
              ? { attempts: 0, error: message, nextDueAt: new Date(now + WEEK_MS) }
              : { attempts, error: message, nextDueAt: new Date(now + RETRY_MS) },
        },
      );
    }
  }
  return run;
}
