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

/**
 * One `T` per Laurel, made on its first use: a Laurel's per-process caches hang off its context, so
 * tests that run several Laurels in one process never share one.
 */
export function perContext<T>(make: (ctx: Context) => T): (ctx: Context) => T {
  const made = new WeakMap<Context, T>();
  return (ctx) => {
    let value = made.get(ctx);
    if (value === undefined) {
      value = make(ctx);
      made.set(ctx, value);
    }
    return value;
  };
}
