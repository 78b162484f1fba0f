import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Laurel as deployed, in a process of its own (`src/main.ts` through tsx's loader), for benches
 * whose load generator must not share Laurel's event loop and whose memory and CPU figures must be
 * Laurel's alone (read from /proc). With `probe`, the process also loads bench/laurel-probe.ts and
 * answers the bench over IPC: its heap after a forced collection, and CPU profiles of one phase.
 */

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const words = (value: string | undefined) => (value ? value.split(' ').filter(Boolean) : []);

/** CPU time (user + system) in ms a process has used so far, from /proc (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident memory of a process in MB, from /proc. */
export function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return round(kb / 1024);
}

export type HeapFigures = { usedMb: number; totalMb: number; externalMb: number; arrayBuffersMb: number };

export type LaurelProcess = {
  child: ChildProcess;
  url: string;
  /** After a forced full collection (probe only): the heap that is live. */
  heapAfterGc(): Promise<HeapFigures>;
  /** Starts a CPU profile of Laurel's process (probe only); the function returned writes it to a path. */
  profile(): Promise<(path: string) => Promise<void>>;
  stop(): Promise<void>;
};

export async function startLaurelProcess(
  env: Record<string, string>,
  options: { probe?: boolean } = {},
): Promise<LaurelProcess> {
  const root = path.resolve(import.meta.dirname, '..');
  // node itself with tsx's loader (not the tsx launcher, which would be a second process), so the
  // memory read is that of the process serving. BENCH_LAUREL_NODE_ARGS passes node flags (e.g.
  // `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const probe = options.probe ? ['--expose-gc', '--import', './bench/laurel-probe.ts'] : [];
  const nodeArgs = [...words(process.env.BENCH_LAUREL_NODE_ARGS), '--import', 'tsx', ...probe, 'src/main.ts'];
  const child = spawn(process.execPath, nodeArgs, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', ...(options.probe ? (['ipc'] as const) : [])],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  // BENCH_LAUREL_LOG names a file for Laurel's log (with BENCH_LAUREL_LOG_LEVEL=info, a line per request).
  if (process.env.BENCH_LAUREL_LOG) child.stdout!.pipe(createWriteStream(process.env.BENCH_LAUREL_LOG));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  // Logs are kept to warnings (a line per request would be measured too), so readiness is polled.
  for (const deadline = Date.now() + 60_000; ;) {
    if (exited) throw new Error(`bench: Laurel exited:\n${out}`);
    if (Date.now() > deadline) throw new Error(`bench: Laurel did not start:\n${out}`);
    const ready = await fetch(`${env.PUBLIC_URL}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const ask = async <T>(message: unknown): Promise<T> => {
    if (!child.send) throw new Error('bench: Laurel was started without the probe');
    const answer = once(child, 'message') as Promise<[T]>;
    child.send(message as never);
    return (await answer)[0];
  };
  return {
    child,
    url: env.PUBLIC_URL!,
    heapAfterGc: () => ask<HeapFigures>('heap'),
    profile: async () => {
      await ask('profile-start');
      return async (file: string) => {
        await ask({ profileStop: file });
      };
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
