import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from './config.js';
import { startLaurel } from './laurel.js';

/** Process entry for `npm start`: validated config, then Laurel, stopped cleanly on a signal. */
async function main(): Promise<void> {
  // `npm start` reads .env from the working folder when there is one; the environment wins over it.
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const laurel = await startLaurel(config);
  // A request handler's rejected promise is caught where Laurel can (catchAsyncErrors, express 5);
  // any that still escapes is logged and the process goes on serving every other school.
  process.on('unhandledRejection', (reason: unknown) =>
    laurel.logger.error({ err: reason }, 'unhandled promise rejection; Laurel keeps running'),
  );
  const stop = (signal: string) => {
    laurel.logger.info({ signal }, 'signal received');
    laurel.close().then(
      () => process.exit(0),
      (err: unknown) => {
        laurel.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Laurel could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
