import type { Context } from '../context.js';
import type { PlatformDoc } from '../db/models/platform.js';
import { isDuplicateKey, writeErrorsOf } from '../errors.js';
import { JOBS } from '../jobs/names.js';
import { wakeJob } from '../jobs/queue.js';
import type { NormalisedEvent } from './normalise.js';

export type StoreResult = { stored: number; duplicates: number };

export const PROCESS_EVENTS_JOB = JOBS.processEvents;

/**
 * Stores events once each: the unique (platform, event id) index turns a resend into a counted
 * duplicate. Returns only after MongoDB acknowledged the writes.
 */
export async function storeEvents(
  ctx: Context,
  platform: Pick<PlatformDoc, '_id'>,
  events: readonly NormalisedEvent[],
  source: string,
): Promise<StoreResult> {
  const receivedAt = ctx.now();
  const docs = events.map((e) => ({
    platformId: platform._id,
    eventId: e.id,
    type: e.type,
    occurredAt: e.occurredAtDate,
    receivedAt,
    source,
    course: e.course ? { id: e.course.id, title: e.course.title ?? null } : null,
    user: { id: e.user.id, email: e.user.email ?? null, name: e.user.name ?? null },
    data: e.data,
    courseRef: null,
    personRef: null,
    status: 'pending',
    attempts: 0,
    lockedUntil: null,
    claim: null,
    processedAt: null,
    error: null,
  }));
  try {
    const result = await ctx.models.events.collection.insertMany(docs, { ordered: false });
    return { stored: result.insertedCount, duplicates: 0 };
  } catch (err) {
    const e = err as { insertedCount?: number; result?: { insertedCount?: number } };
    const writeErrors = writeErrorsOf(err);
    if (writeErrors.length === 0 || writeErrors.some((w) => !isDuplicateKey(w))) throw err;
    const stored = e.insertedCount ?? e.result?.insertedCount ?? docs.length - writeErrors.length;
    return { stored, duplicates: writeErrors.length };
  }
}

/**
 * Wakes a worker to process what was stored: in a worker process at once, in this process; from a
 * web process through one waiting wake-up job, however many requests ask (the job finds the events
 * itself).
 */
export async function queueEventProcessing(ctx: Context): Promise<void> {
  await wakeJob(ctx.jobs, JOBS.processEvents);
}
