import type { Config } from './config.js';
import type { Models } from './db/models/index.js';
import type { JobQueue } from './jobs/queue.js';
import type { Logger } from './logger.js';
import type { Sealer } from './security/encryption.js';

/** What services need from the outside world, passed in rather than imported, so tests can vary it. */
export type Context = {
  config: Config;
  models: Models;
  sealer: Sealer;
  jobs: JobQueue;
  logger: Logger;
  now: () => Date;
};
