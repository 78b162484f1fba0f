import { randomUUID } from 'node:crypto';
import type { AnyBulkWriteOperation } from 'mongodb';
import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { LearningEventDoc } from '../db/models/learningEvent.js';
import { ONE_REPLY } from '../db/oneReply.js';
import { processEventBatch, resolveBatch, type ResolvedBatch } from './processBatch.js';

const MAX_ATTEMPTS = 5;
export const EVENT_BATCH_SIZE = 500;

/**
 * Claims stored events in batches (oldest first) and applies them until none is left or the
 * budget is spent. A claim is two round trips for the whole batch: the ids of the oldest free
 * events, then one update that takes them with a lock expiry and a token (only those still free:
 * a concurrent worker's claim wins, and the batch is read back by token when it did). Several
 * workers share the queue; a crashed worker's events are picked up again when its lock runs out,
 * and applying an event twice changes nothing (fulfilments are a set; awards are unique).
 */
export async function processPendingEvents(
  ctx: Context,
  budget = 10_000,
  options: { batchSize?: number } = {},
): Promise<{ processed: number; failed: number; awarded: number }> {
  const batchSize = options.batchSize ?? EVENT_BATCH_SIZE;
  let processed = 0;
  let failed = 0;
  let awarded = 0;
  // The next batch is claimed while this one is applied, and this one's processed marks are written
  // while the next is applied, so that the database works while this process computes. Batches are
  // still applied one after the other, in queue order: a mark not yet written leaves the event
  // `processing` under this run's claim, which nothing else reads differently (history replay reads
  // waiting events too), and a crash before it lands only means the event is applied again.
  // The claimed batch's people and courses are looked up as soon as it is claimed, so that they too
  // are read while the batch before is applied (resolving depends on no earlier batch).
  let next: Promise<Prefetched> | null = prefetch(ctx, Math.min(batchSize, budget));
  let marking: Promise<void> = Promise.resolve();
  while (next) {
    const { batch, resolved }: Prefetched = await next;
    if (batch.length === 0) break;
    const left: number = budget - processed - failed - batch.length;
    next = left > 0 ? prefetch(ctx, Math.min(batchSize, left)) : null;
    let result: Awaited<ReturnType<typeof processEventBatch>>;
    try {
      result = await processEventBatch(ctx, batch, { resolved });
    } catch (err) {
      failed += batch.length;
      ctx.logger.warn({ err, events: batch.length }, 'processing a batch of learning events failed');
      const message = err instanceof Error ? err.message : String(err);
      await marking;
      await markFailed(
        ctx,
        batch.map((event) => ({ event, error: message })),
      );
      continue;
    }
    processed += result.done.length;
    failed += result.failed.length;
    awarded += result.awarded.length;
    await marking;
    marking = markOutcomes(ctx, result);
  }
  await marking;
  return { processed, failed, awarded };
}

/**
 * The processed and failed marks of an applied batch; if the processed marks cannot be written, the
 * batch is marked for a retry instead (applying it again changes nothing). Never throws.
 */
async function markOutcomes(
  ctx: Context,
  result: Awaited<ReturnType<typeof processEventBatch>>,
): Promise<void> {
  try {
    await markProcessed(ctx, result.done);
  } catch (err) {
    ctx.logger.warn({ err, events: result.done.length }, 'marking learning events processed failed');
    const message = err instanceof Error ? err.message : String(err);
    await markFailed(
      ctx,
      result.done.map(({ event }) => ({ event, error: message })),
    );
  }
  if (result.failed.length) await markFailed(ctx, result.failed);
}

type Prefetched = { batch: LearningEventDoc[]; resolved?: Promise<ResolvedBatch> };

/**
 * A claim started now and awaited later, then the claimed events' refs resolved: failures are
 * handled where they are awaited (the claim by the run, the refs by the batch, which then fails as
 * a whole as before), not as unhandled rejections.
 */
function prefetch(ctx: Context, limit: number): Promise<Prefetched> {
  const claim = claimEvents(ctx, limit).then((batch) => {
    if (batch.length === 0) return { batch };
    const resolved = resolveBatch(ctx, batch);
    resolved.catch(() => undefined);
    return { batch, resolved };
  });
  claim.catch(() => undefined);
  return claim;
}

/** Takes up to `limit` free events (pending, or processing with a lapsed lock) for this run. */
export async function claimEvents(ctx: Context, limit: number): Promise<LearningEventDoc[]> {
  const now = ctx.now();
  const free: Record<string, unknown> = {
    status: { $in: ['pending', 'processing'] },
    $or: [{ lockedUntil: null }, { lockedUntil: { $lte: now } }],
  };
  const candidates = await ctx.models.events
    .find(free)
    .sort({ receivedAt: 1, _id: 1 })
    .limit(limit)
    .batchSize(limit)
    .lean<LearningEventDoc[]>();
  if (candidates.length === 0) return [];
  const claim = randomUUID();
  const lockedUntil = new Date(now.getTime() + ctx.config.claimLeaseMs);
  // The free events up to the last one found, in queue order: a range, cheap for any planner. One
  // that became free meanwhile below that bound is taken too (then the batch is read back).
  const last = candidates[candidates.length - 1]!;
  const taken = await ctx.models.events.updateMany(
    {
      // Top-level equality and range, so that a planner narrows by the (status, receivedAt) index.
      status: { $in: ['pending', 'processing'] },
      receivedAt: { $lte: last.receivedAt },
      $and: [
        { $or: [{ lockedUntil: null }, { lockedUntil: { $lte: now } }] },
        { $or: [{ receivedAt: { $lt: last.receivedAt } }, { _id: { $lte: last._id } }] },
      ],
    },
    { $set: { status: 'processing', lockedUntil, claim }, $inc: { attempts: 1 } },
  );
  if (taken.modifiedCount === candidates.length)
    return candidates.map((e) => ({
      ...e,
      status: 'processing',
      lockedUntil,
      claim,
      attempts: e.attempts + 1,
    }));
  if (taken.modifiedCount === 0) return [];
  // Another worker took some of them meanwhile: ours are the ones carrying our token.
  return ctx.models.events
    .find({ claim })
    .sort({ receivedAt: 1, _id: 1 })
    .batchSize(ONE_REPLY)
    .lean<LearningEventDoc[]>();
}

/**
 * The processed marks of a batch, with the refs each event resolved to, in one bulk write: one
 * statement for each set of events that need the same refs written (none, for the events that
 * carried theirs since they were stored; the course, for events of a course first seen in this run).
 */
async function markProcessed(
  ctx: Context,
  done: {
    event: LearningEventDoc;
    courseRef: LearningEventDoc['courseRef'];
    personRef: LearningEventDoc['personRef'];
  }[],
) {
  if (done.length === 0) return;
  const processedAt = ctx.now();
  const text = (id: Types.ObjectId | null | undefined) => (id ? String(id) : null);
  const groups = new Map<
    string,
    { claim: string | null; set: Record<string, unknown>; ids: Types.ObjectId[] }
  >();
  for (const { event, courseRef, personRef } of done) {
    const set: Record<string, unknown> = {
      status: 'processed',
      processedAt,
      lockedUntil: null,
      claim: null,
      error: null,
    };
    if (text(event.courseRef) !== text(courseRef)) set.courseRef = courseRef;
    if (text(event.personRef) !== text(personRef)) set.personRef = personRef;
    const key = `${event.claim}:${'courseRef' in set ? text(courseRef) : '='}:${'personRef' in set ? text(personRef) : '='}`;
    const group = groups.get(key) ?? { claim: event.claim ?? null, set, ids: [] as Types.ObjectId[] };
    group.ids.push(event._id);
    groups.set(key, group);
  }
  // Only while this run's claim holds: a run whose lock lapsed leaves the event to its new owner.
  const ops: AnyBulkWriteOperation[] = [...groups.values()].map(({ claim, set, ids }) =>
    ids.length === 1
      ? { updateOne: { filter: { _id: ids[0], claim }, update: { $set: set } } }
      : { updateMany: { filter: { _id: { $in: ids }, claim }, update: { $set: set } } },
  );
  await ctx.models.events.collection.bulkWrite(ops, { ordered: false });
}

/** Back off before the next attempt (the lock doubles as the retry delay); give up after five. */
async function markFailed(ctx: Context, failed: { event: LearningEventDoc; error: string }[]) {
  const now = ctx.now().getTime();
  for (const { event, error } of failed)
    ctx.logger.warn(
      { eventId: event.eventId, platformId: String(event.platformId), attempt: event.attempts, error },
      'processing a learning event failed',
    );
  await ctx.models.events.collection
    .bulkWrite(
      failed.map(({ event, error }) => {
        const giveUp = event.attempts >= MAX_ATTEMPTS;
        return {
          updateOne: {
            filter: { _id: event._id, claim: event.claim },
            update: {
              $set: {
                status: giveUp ? 'failed' : 'pending',
                error: error.slice(0, 500),
                claim: null,
                lockedUntil: giveUp ? null : new Date(now + 1000 * 2 ** event.attempts),
              },
            },
          },
        };
      }),
      { ordered: false },
    )
    .catch((err: unknown) => ctx.logger.error({ err }, 'could not record failed learning events'));
}
