import { Agenda } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import type { Connection } from 'mongoose';
import type { Logger } from '../logger.js';

export type JobQueue = {
  agenda: Agenda;
  /** Starts processing jobs (worker role); a web-only process only queues them. */
  startProcessing(): Promise<void>;
  /** True once Agenda reached its collection (and, for workers, is processing). */
  isReady(): boolean;
  /**
   * Lets running jobs finish within the grace period, then unlocks the rest for another worker;
   * answers how many finished (drained) and how many were still running (left).
   */
  stop(graceMs: number): Promise<{ drained: number; left: number }>;
  /**
   * Asks for a job's work to be done soon. In a worker process with a drain registered for it, the
   * drain runs here at once (one loop per name: a wake-up while it runs makes it go round once
   * more). Elsewhere (a web process) one wake-up job is queued: at most one waits per name, however
   * many requests ask, so a burst costs one job, not one per request. The recurring runs of the same
   * jobs remain the safety net for a wake-up lost in a crash.
   */
  wake?(name: string): Promise<void>;
  /** Registers the in-process drain of a job (worker role; started by startProcessing). */
  onWake?(name: string, drain: () => Promise<void>): void;
  /** Resolves when no in-process drain is running (tests and benchmarks). */
  idle?(): Promise<void>;
};

/** Wakes a job's work (JobQueue.wake); a queue without wake-ups (the CLI's) runs no jobs at all. */
export async function wakeJob(jobs: JobQueue, name: string): Promise<void> {
  if (jobs.wake) await jobs.wake(name);
}

/**
 * Agenda on Laurel's own database connection, so jobs live beside the data they act on and a
 * crash leaves them in MongoDB to be picked up again.
 */
export function createJobQueue(
  connection: Connection,
  options: { processEveryMs: number; lockLifetimeMs?: number; logger: Logger },
): JobQueue {
  // mongoose and the backend share one `mongodb` driver package (pinned in package.json).
  const backend = new MongoBackend({ mongo: connection.db as never, collection: 'agendaJobs' });
  const agenda = new Agenda({
    backend,
    name: `laurel-${process.pid}`,
    processEvery: options.processEveryMs,
    // A worker that dies keeps its jobs locked this long; Agenda also checks running jobs at half of it.
    defaultLockLifetime: options.lockLifetimeMs ?? 5 * 60_000,
  });
  let connected = false;
  let processing = false;
  let wantProcessing = false;
  const drains = new Map<string, () => Promise<void>>();
  const loops = new Map<string, { again: boolean; done: Promise<void> }>();
  const runLoop = (name: string, drain: () => Promise<void>) => {
    const running = loops.get(name);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false, done: Promise.resolve() };
    loops.set(name, state);
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await drain();
        } while (state.again && processing);
      } catch (err) {
        options.logger.warn({ err, job: name }, 'in-process run failed; the recurring job retries');
      } finally {
        loops.delete(name);
      }
    })();
  };
  const idle = async () => {
    while (loops.size) await Promise.all([...loops.values()].map((l) => l.done));
  };
  agenda.on('error', (err: Error) => options.logger.error({ err }, 'job queue error'));
  agenda.on('fail', (err: Error, job: { attrs: { name: string; _id?: unknown } }) =>
    options.logger.warn({ err, job: job.attrs.name, jobId: String(job.attrs._id) }, 'job failed'),
  );
  void agenda.ready.then(
    () => (connected = true),
    (err: unknown) => options.logger.error({ err }, 'job queue could not connect'),
  );
  return {
    agenda,
    async startProcessing() {
      wantProcessing = true;
      await agenda.start();
      processing = true;
    },
    isReady: () => connected && (!wantProcessing || processing),
    async wake(name: string) {
      const drain = drains.get(name);
      if (processing && drain) return runLoop(name, drain);
      // One waiting wake-up job per name: a job not yet locked by a worker is reused.
      await agenda
        .create(name, { wake: true })
        .unique({ 'data.wake': true, lockedAt: null }, { insertOnly: true })
        .schedule(new Date())
        .save();
    },
    onWake(name: string, drain: () => Promise<void>) {
      drains.set(name, drain);
    },
    idle,
    async stop(graceMs) {
      connected = false;
      const running = processing;
      processing = false;
      if (running)
        await Promise.race([idle(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
      processing = running;
      let result = { drained: 0, left: 0 };
      if (processing) {
        processing = false;
        const drain = await agenda.drain({ timeout: graceMs, closeConnection: false });
        result = { drained: drain.completed, left: drain.running };
      }
      await agenda.stop(false);
      return result;
    },
  };
}
