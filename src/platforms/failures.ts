import { Types } from 'mongoose';
import { recordAudit, type Actor } from '../audit/record.js';
import type { Context } from '../context.js';
import type { AgsCourseDoc } from '../db/models/agsPoll.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { LearningEventDoc } from '../db/models/learningEvent.js';
import type { TemplateDoc } from '../db/models/template.js';
import { ConflictError, notFound } from '../errors.js';
import { retryCredential } from '../issuers/openbadges/issue.js';
import { JOBS } from '../jobs/names.js';
import { wakeJob } from '../jobs/queue.js';

/**
 * The work of one platform that gave up and waits for a person: learning events whose processing
 * failed five times, credentials whose issuance failed, and course gradebooks (AGS) whose polling
 * keeps failing. Each kind is retried in its own way; all are listed and retried here, for the LMS
 * administrator's page and the admin API alike.
 */
export const FAILURE_KINDS = ['event', 'credential', 'gradebook'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export type Failure = {
  kind: FailureKind;
  id: string;
  /** What failed, in words (the event's type and learner, the badge and learner, the course). */
  subject: string;
  error: string | null;
  at: Date | null;
  attempts: number;
};

/** The newest failures of a platform, at most `limit` of each kind. */
export async function listFailures(ctx: Context, platformId: Types.ObjectId, limit = 50): Promise<Failure[]> {
  const [events, credentials, gradebooks] = await Promise.all([
    ctx.models.events
      .find({ platformId, status: 'failed' })
      .sort({ receivedAt: -1 })
      .limit(limit)
      .lean<LearningEventDoc[]>(),
    ctx.models.credentials
      .find({ platformId, status: 'failed' })
      .sort({ awardedAt: -1 })
      .limit(limit)
      .lean<CredentialDoc[]>(),
    ctx.models.agsCourses
      .find({ platformId, lastError: { $ne: null } })
      .sort({ updatedAt: -1 })
      .limit(limit)
      .lean<AgsCourseDoc[]>(),
  ]);
  const templateIds = [...new Set(credentials.map((c) => String(c.templateId)))];
  const templates = templateIds.length
    ? await ctx.models.templates
        .find({ _id: { $in: templateIds.map((id) => new Types.ObjectId(id)) } }, { name: 1 })
        .lean<Pick<TemplateDoc, '_id' | 'name'>[]>()
    : [];
  const names = new Map(templates.map((t) => [String(t._id), t.name]));
  return [
    ...events.map((e) => ({
      kind: 'event' as const,
      id: String(e._id),
      subject: `${e.type} for ${e.user.name ?? e.user.id}${e.course ? ` in ${e.course.title ?? e.course.id}` : ''}`,
      error: e.error,
      at: e.receivedAt,
      attempts: e.attempts,
    })),
    ...credentials.map((c) => ({
      kind: 'credential' as const,
      id: String(c._id),
      subject: `${names.get(String(c.templateId)) ?? 'A badge'} for ${c.userId}`,
      error: c.error ?? null,
      at: c.awardedAt,
      attempts: c.issueAttempts ?? 0,
    })),
    ...gradebooks.map((g) => ({
      kind: 'gradebook' as const,
      id: String(g._id),
      subject: `Reading the gradebook of ${g.contextTitle ?? g.contextId}`,
      error: g.lastError ?? null,
      at: g.lastPolledAt ?? null,
      attempts: g.failures,
    })),
  ];
}

/**
 * Retries one failure of the platform at once: the event goes back to pending, the credential to
 * awarded (its outbox), the gradebook is polled at the next run. Another platform's id, or one that
 * no longer failed, is 404 or 409 — never a change to something else.
 */
export async function retryFailure(
  ctx: Context,
  platformId: Types.ObjectId,
  kind: FailureKind,
  id: string,
  actor: Actor,
): Promise<void> {
  if (!Types.ObjectId.isValid(id) || !/^[0-9a-f]{24}$/i.test(id)) throw notFound(`The ${kind} ${id}`);
  const _id = new Types.ObjectId(id);
  if (kind === 'credential') {
    const credential = await ctx.models.credentials.findOne({ _id, platformId }).lean<CredentialDoc>();
    if (!credential) throw notFound(`The credential ${id}`);
    await retryCredential(ctx, credential, actor);
    return;
  }
  if (kind === 'event') {
    const done = await ctx.models.events.updateOne(
      { _id, platformId, status: 'failed' },
      { $set: { status: 'pending', attempts: 0, error: null, lockedUntil: null, claim: null } },
    );
    if (done.matchedCount === 0) await refuseRetry(ctx.models.events, _id, platformId, 'event', id);
    await audit(ctx, actor, platformId, 'event.retried', 'event', id);
    await wakeJob(ctx.jobs, JOBS.processEvents);
    return;
  }
  const done = await ctx.models.agsCourses.updateOne(
    { _id, platformId, lastError: { $ne: null } },
    { $set: { retryAt: null, failures: 0 } },
  );
  if (done.matchedCount === 0) await refuseRetry(ctx.models.agsCourses, _id, platformId, 'gradebook', id);
  await audit(ctx, actor, platformId, 'gradebook.retried', 'gradebook', id);
}

async function refuseRetry(
  model: { exists(filter: object): Promise<unknown> },
  _id: Types.ObjectId,
  platformId: Types.ObjectId,
  kind: FailureKind,
  id: string,
): Promise<never> {
  if (!(await model.exists({ _id, platformId }))) throw notFound(`The ${kind} ${id}`);
  throw new ConflictError('not_failed', `The ${kind} ${id} has not failed; there is nothing to retry.`);
}

const audit = (
  ctx: Context,
  actor: Actor,
  platformId: Types.ObjectId,
  action: string,
  type: string,
  id: string,
) => recordAudit(ctx.models, { actor, action, platformId, target: { type, id } });
