import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_DEFAULTS } from './dev-env.js';

/**
 * Laurel as a separate worker process (`LAUREL_ROLE=worker`, `src/main.ts` as `npm start` runs it,
 * with tsx's loader), so that a test can kill it with SIGKILL: no shutdown hook, no drain, no unlock, as
 * when a machine dies. Its log (pino JSON lines) is kept for a failing test's message.
 */
export type WorkerProcess = {
  pid: number;
  /** Resolves once the worker listens (its jobs are then defined and processing). */
  ready: Promise<void>;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  log(): string;
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function spawnWorker(
  env: { MONGODB_URI: string; PUBLIC_URL: string } & Record<string, string>,
): WorkerProcess {
  // tsx's loader inside one node process: the tsx command would run node as a child, which a
  // SIGKILL of the command leaves running.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      PORT: '0',
      LAUREL_ROLE: 'worker',
      LTI_KEY: DEV_DEFAULTS.LTI_KEY!,
      ADMIN_API_KEY: DEV_DEFAULTS.ADMIN_API_KEY!,
      ENCRYPTION_KEY: DEV_DEFAULTS.ENCRYPTION_KEY!,
      LOG_LEVEL: 'info',
      JOBS_PROCESS_EVERY_MS: '200',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Laurel is listening')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() =>
      reject(new Error(`the worker exited before it was ready:\n${output.slice(-4000)}`)),
    );
  });
  ready.catch(() => undefined);
  return {
    pid: child.pid!,
    ready,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    log: () => output,
  };
}

/** Polls `check` until it answers true; throws, naming `what`, after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A promise, or an error naming `what` after `timeoutMs`. */
export function within<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
