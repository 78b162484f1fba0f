import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import type { Config } from './config.js';
import { connectDatabase, databaseAnswers } from './db/connection.js';
import { createJobQueue, type JobQueue } from './jobs/queue.js';
import { createLogger, type Logger } from './logger.js';
import { createApp, finishApp } from './web/app.js';
import { apiRouter } from './web/api/index.js';
import type { Context } from './context.js';
import { createModels, ensureIndexes } from './db/models/index.js';
import { defineJobs, drainOnStart, scheduleRecurringJobs } from './jobs/definitions.js';
import { createSealer } from './security/encryption.js';
import { createLti, type Lti } from './lti/index.js';
import { defineLtiJobs } from './lti/jobs.js';
import { courseRouter } from './web/course/index.js';
import { publicRouter } from './web/public/index.js';
import { framingPolicy } from './web/framing.js';
import { adminRouter } from './web/admin/index.js';
import { backpackRouter } from './web/backpack/index.js';
import { createMailer, type Mailer } from './mail/mailer.js';
import { changeStreamsAvailable } from './db/topology.js';
import { watchForWork, type WorkWatcher } from './jobs/watchForWork.js';
import { defineMailJobs, scheduleMailJobs } from './mail/jobs.js';

export type Laurel = {
  config: Config;
  logger: Logger;
  app: Express;
  server: http.Server;
  /** The URL the server actually listens on (PORT 0 picks a free port). */
  url: string;
  connection: Connection;
  queue: JobQueue;
  /** The change-stream wake-ups of a worker on a replica set (src/jobs/watchForWork.ts). */
  watcher?: WorkWatcher;
  ctx: Context;
  /** ltijs and Laurel's LTI routes, services and platform store. */
  lti: Lti;
  /** Graceful stop: refuse new requests, let jobs finish or unlock, close the database. */
  close(): Promise<void>;
};

/** Composition root: database, job queue and web app, wired and listening. */
export async function startLaurel(
  config: Config,
  options: { logger?: Logger; mailer?: Mailer } = {},
): Promise<Laurel> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const connection = await connectDatabase(config.mongodbUri);
  const models = createModels(connection);
  await ensureIndexes(models);
  const queue = createJobQueue(connection, {
    processEveryMs: config.jobsProcessEveryMs,
    lockLifetimeMs: config.jobsLockLifetimeMs,
    logger,
  });
  const ctx: Context = {
    config,
    models,
    sealer: createSealer(config.encryptionKey),
    jobs: queue,
    logger,
    now: () => new Date(),
  };
  defineJobs(ctx);
  // A given mailer (the demo records what it would send) stands in for SMTP_URL's.
  const mailer = options.mailer ?? createMailer(config);
  defineMailJobs(ctx, mailer);
  const lti = await createLti(ctx, connection);
  defineLtiJobs(ctx, { nrps: lti.provider.NamesAndRoles });
  let watcher: WorkWatcher | undefined;
  if (config.role !== 'web') {
    await queue.startProcessing();
    await scheduleRecurringJobs(ctx);
    await drainOnStart(ctx);
    await scheduleMailJobs(ctx, mailer);
    // On a replica set, work stored by other processes wakes this one at once (change streams);
    // on a standalone server only Agenda's polling does.
    const available = await changeStreamsAvailable(connection, (err) =>
      logger.warn({ err }, 'could not ask the database whether it serves change streams; polling only'),
    );
    if (available) watcher = watchForWork(ctx);
  }

  const app = createApp({
    config,
    logger,
    checkReady: async () => ({ database: await databaseAnswers(connection), jobs: queue.isReady() }),
  });
  // A worker only processes jobs: it answers /healthz and /readyz for its orchestrator, nothing else.
  if (config.role !== 'worker') {
    app.use(framingPolicy(ctx, lti.db));
    app.use('/api/v1', apiRouter(ctx, { platformHooks: lti.platformHooks, ltiProvider: lti.provider }));
    lti.mount(app);
    app.use(courseRouter(ctx, lti, { mailOn: mailer !== null }));
    app.use(publicRouter(ctx));
    app.use(adminRouter(ctx, { platformHooks: lti.platformHooks }));
    app.use(backpackRouter(ctx, { ltiDb: lti.db, mailer }));
  }
  finishApp(app, logger);

  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://localhost:${port}`;
  logger.info({ url, publicUrl: config.publicUrl, role: config.role }, 'Laurel is listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info('Laurel is shutting down');
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await watcher?.stop();
      const jobs = await queue.stop(config.shutdownGraceMs);
      logger.info(
        { drained: jobs.drained, leftForAnotherWorker: jobs.left, graceMs: config.shutdownGraceMs },
        `job queue stopped: ${jobs.drained} running job(s) finished, ${jobs.left} left for another worker`,
      );
      server.closeAllConnections();
      await serverClosed;
      // ltijs stores through this connection too (src/lti/database.ts): closing it closes ltijs's store.
      mailer?.close();
      await connection.close();
      logger.info('Laurel stopped');
    })());

  return { config, logger, app, server, url, connection, queue, watcher, ctx, lti, close };
}
