import type { ChangeStream } from 'mongodb';
import type { Context } from '../context.js';
import { wakeJob } from './queue.js';
import { WORK_WATCHES, type WatchedChange, type WorkWatch } from './changeWakeups.js';

/** Backoff between attempts to open a watch again after it failed: doubling, capped. */
export const WATCH_RETRY_MS = { first: 1000, max: 30_000 };

export type WorkWatcher = {
  /** True while every watch is open (tests; /readyz does not depend on it). */
  watching(): boolean;
  stop(): Promise<void>;
};

/**
 * Wakes this worker's in-process loops the moment another process stores work (events, outbox
 * entries, recalculation requests), through one change stream per watched collection
 * (src/jobs/changeWakeups.ts says which changes count). Only on a replica set or mongos; the
 * caller checks (src/db/topology.ts).
 *
 * The driver resumes a stream by itself after a resumable error (a dropped connection, a
 * failover). Any other error closes it: it is logged, and the watch is opened again with a growing
 * delay; meanwhile the worker still finds work through Agenda (wake-up jobs from web processes and
 * the recurring runs), as without change streams. Each (re)opening wakes its loops once, so work
 * stored while no stream was open is not left for the next poll.
 */
export function watchForWork(ctx: Context, watches: WorkWatch[] = WORK_WATCHES): WorkWatcher {
  let stopped = false;
  const open = new Map<WorkWatch, ChangeStream>();
  const timers = new Set<NodeJS.Timeout>();

  const wake = (watch: WorkWatch, change: WatchedChange) => {
    for (const job of watch.wakes(change)) {
      void wakeJob(ctx.jobs, job).catch((err: unknown) =>
        ctx.logger.warn({ err, job }, 'a change-stream wake-up failed; the recurring job runs it'),
      );
    }
  };
  const wakeAll = (watch: WorkWatch) => {
    for (const job of watch.loops) void wakeJob(ctx.jobs, job).catch(() => undefined);
  };

  const start = (watch: WorkWatch, failedDelayMs: number) => {
    if (stopped) return;
    // The wait before reopening after a failure: growing while openings fail, reset once one works.
    let delayMs = failedDelayMs;
    let stream: ChangeStream;
    try {
      stream = ctx.models[watch.model].collection.watch(watch.pipeline, { fullDocument: 'default' });
    } catch (err) {
      return retry(watch, delayMs, err);
    }
    open.set(watch, stream);
    // A failing stream may emit both 'close' and 'error', in either order: it is reopened once.
    let ended = false;
    const end = (err: unknown) => {
      if (ended || stopped) return;
      ended = true;
      open.delete(watch);
      void stream.close().catch(() => undefined);
      retry(watch, delayMs, err);
    };
    stream.on('change', (change: WatchedChange) => wake(watch, change));
    stream.on('error', end);
    // Later than an 'error' of the same failure, which names the cause.
    stream.on('close', () => setImmediate(() => end(new Error('the change stream closed'))));
    // The first answer (the aggregate's postBatchResumeToken) says the stream is open.
    stream.once('resumeTokenChanged', () => {
      delayMs = WATCH_RETRY_MS.first;
      ctx.logger.info(
        { collection: watch.model },
        'change stream open: work stored elsewhere wakes this worker',
      );
      wakeAll(watch);
    });
  };

  const retry = (watch: WorkWatch, delayMs: number, err: unknown) => {
    if (stopped) return;
    const e = err as { message?: string; code?: unknown; codeName?: unknown };
    // Only the driver's message and code: they name the server, never credentials.
    ctx.logger.warn(
      { collection: watch.model, code: e.code, codeName: e.codeName, error: e.message, retryInMs: delayMs },
      'change stream failed; polling meanwhile, opening it again',
    );
    const timer = setTimeout(() => {
      timers.delete(timer);
      start(watch, Math.min(delayMs * 2, WATCH_RETRY_MS.max));
    }, delayMs);
    timer.unref();
    timers.add(timer);
  };

  for (const watch of watches) start(watch, WATCH_RETRY_MS.first);

  return {
    watching: () => !stopped && open.size === watches.length,
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      const streams = [...open.values()];
      open.clear();
      await Promise.all(streams.map((s) => s.close().catch(() => undefined)));
    },
  };
}
