import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { loadConfig } from '../../src/config.js';
import { startLaurel, type Laurel } from '../../src/laurel.js';
import type { Mailer } from '../../src/mail/mailer.js';
import { withDevDefaults } from './dev-env.js';
import { startTestDatabase, type TestDatabase } from './database.js';

export type TestLaurel = { laurel: Laurel; db: TestDatabase; url: string; stop(): Promise<void> };

/** Laurel on a free port and a database of its own, quiet unless LAUREL_TEST_LOG is set. */
export async function startTestLaurel(
  env: Record<string, string> = {},
  options: { logger?: Logger; mailer?: Mailer; db?: TestDatabase } = {},
): Promise<TestLaurel> {
  // A given database (e.g. the engine as a replica set) is stopped with this Laurel.
  const db = options.db ?? (await startTestDatabase());
  try {
    const { env: full } = withDevDefaults(
      {
        NODE_ENV: 'test',
        PORT: '0',
        MONGODB_URI: db.uri,
        JOBS_PROCESS_EVERY_MS: '200',
        // Agenda keeps a timer of half this per job run alive; short, so test processes exit promptly.
        JOBS_LOCK_LIFETIME_MS: '4000',
        ...env,
      },
      {},
    );
    const config = loadConfig(full);
    const logger = options.logger ?? pino({ level: process.env.LAUREL_TEST_LOG ?? 'silent' });
    const laurel = await startLaurel(config, {
      logger,
      ...(options.mailer ? { mailer: options.mailer } : {}),
    });
    return {
      laurel,
      db,
      url: laurel.url,
      stop: async () => {
        await laurel.close();
        await db.stop();
      },
    };
  } catch (err) {
    await db.stop();
    throw err;
  }
}

/** A free TCP port now (a race with another process is possible but harmless in tests: start fails loudly). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
