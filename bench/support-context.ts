import type { Connection } from 'mongoose';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import type { Context } from '../src/context.js';
import { connectDatabase } from '../src/db/connection.js';
import { createModels, ensureIndexes } from '../src/db/models/index.js';
import { createJobQueue } from '../src/jobs/queue.js';
import { createSealer } from '../src/security/encryption.js';
import { withDevDefaults } from '../test/support/dev-env.js';

/**
 * Laurel's context on `uri` for a bench that runs Laurel's functions itself (no web server, no
 * Agenda processing: `processEveryMs` only sets how often Agenda would look), with the driver's
 * command monitoring on, so that round trips can be counted.
 */
export async function benchContext(
  uri: string,
  processEveryMs: number,
): Promise<{ ctx: Context; connection: Connection }> {
  const { env } = withDevDefaults({ NODE_ENV: 'test', MONGODB_URI: uri });
  const config = loadConfig(env);
  const connection = await connectDatabase(uri, { monitorCommands: true });
  const models = createModels(connection);
  await ensureIndexes(models);
  const logger = pino({ level: 'silent' });
  const jobs = createJobQueue(connection, { processEveryMs, logger });
  await jobs.agenda.ready;
  const ctx: Context = {
    config,
    models,
    sealer: createSealer(config.encryptionKey),
    jobs,
    logger,
    now: () => new Date(),
  };
  return { ctx, connection };
}
