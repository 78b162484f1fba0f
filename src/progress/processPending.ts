import type { Context } from '../context.js';
import type { LearningEventDoc } from '../db/models/learningEvent.js';
import { newRunCache, processEvent } from './processEvent.js';

const LOCK_MS = 2 * 60_000;
const MAX_ATTEMPTS = 5;

/**
 * Claims stored events one at a time (oldest first) and processes them until none is left or
 * the budget is spent. A claim is an atomic status change with a lock expiry, so several workers
 * share the queue and a crashed worker's events are picked up again after the lock runs out.
 */
export async function processPendingEvents(
  ctx: Context,
  budget = 1000,
): Promise<{ processed: number; failed: number }> {
  const cache = newRunCache();
  let processed = 0;
  let failed = 0;
  for (let i = 0; i < budget; i++) {
    const now = ctx.now();
    const ev = await ctx.models.events
      .findOneAndUpdate(
        {
          status: { $in: ['pending', 'processing'] },
          $or: [{ lockedUntil: null }, { lockedUntil: { $lte: now } }],
        },
        {
          $set: { status: 'processing', lockedUntil: new Date(now.getTime() + LOCK_MS) },
          $inc: { attempts: 1 },
        },
        { sort: { receivedAt: 1, _id: 1 }, returnDocument: 'after' },
      )
      .lean<LearningEventDoc>();
    if (!ev) break;
    try {
      const { refs } = await processEvent(ctx, ev, cache);
      await ctx.models.events.updateOne(
        { _id: ev._id },
        { $set: { status: 'processed', processedAt: ctx.now(), lockedUntil: null, error: null, ...refs } },
      );
      processed++;
    } catch (err) {
      failed++;
      const message = err instanceof Error ? err.message : String(err);
      const giveUp = ev.attempts >= MAX_ATTEMPTS;
      ctx.logger.warn(
        { err, eventId: ev.eventId, platformId: String(ev.platformId), attempt: ev.attempts, giveUp },
        'processing a learning event failed',
      );
      // Back off before the next attempt: the lock doubles as the retry delay.
      await ctx.models.events.updateOne(
        { _id: ev._id },
        {
          $set: {
            status: giveUp ? 'failed' : 'pending',
            error: message.slice(0, 500),
            lockedUntil: giveUp ? null : new Date(ctx.now().getTime() + 1000 * 2 ** ev.attempts),
          },
        },
      );
      cache.people.clear();
      cache.courses.clear();
    }
  }
  return { processed, failed };
}
