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
};

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
    async stop(graceMs) {
      connected = false;
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
