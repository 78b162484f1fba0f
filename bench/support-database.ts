import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export type BenchDatabase = {
  uri: string;
  kind: string;
  /** The engine's process (CPU accounting); none for an external MongoDB. */
  pid?: number;
  /** Commands the engine has served so far (every client's); absent for an external MongoDB. */
  commands?: () => Promise<number>;
  /** Starts a CPU profile of the engine's process; the function returned writes it to a path. */
  profile?: () => Promise<(path: string) => Promise<void>>;
  stop(): Promise<void>;
};

/**
 * A database of its own for one bench, named `<prefix>_<random>`: under MONGODB_URI when set, else
 * the in-memory engine in a process of its own (bench/engine-process.ts), as a real MongoDB would be,
 * so that this process's time, memory and CPU profile are Laurel's (and the client's) alone.
 * `BENCH_DB_NODE_ARGS` passes node flags to that child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
export async function separateDatabase(prefix: string): Promise<BenchDatabase> {
  const dbName = `${prefix}_${randomBytes(4).toString('hex')}`;
  if (process.env.MONGODB_URI) {
    const url = new URL(process.env.MONGODB_URI);
    url.pathname = `/${dbName}`;
    return { uri: url.toString(), kind: 'external', stop: async () => undefined };
  }
  const flags = process.env.BENCH_DB_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', 'bench/engine-process.ts'], {
    cwd: new URL('..', import.meta.url),
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const url = new URL(line.trim());
  url.pathname = `/${dbName}`;
  return {
    uri: url.toString(),
    kind: 'engine (child process)',
    pid: child.pid,
    commands: async () => {
      const answer = once(child, 'message') as Promise<[{ commands: number }]>;
      child.send('commands');
      return (await answer)[0].commands;
    },
    profile: async () => {
      const started = once(child, 'message');
      child.send('profile-start');
      await started;
      return async (path: string) => {
        const written = once(child, 'message');
        child.send({ profileStop: path });
        await written;
      };
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** The p-th percentile (nearest rank) of ascending `sorted`; 0 when empty. */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
    : 0;

/** mulberry32: a deterministic, well mixed generator, so that runs compare. Answers 0 ≤ n' < n. */
export function seededRandom(seed: number): (n: number) => number {
  let s = seed | 0;
  return (n) => {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); 0 elsewhere. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return 0;
  }
}
