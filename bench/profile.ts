import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/**
 * A CPU profile of one phase of a bench, written to `BENCH_CPU_PROFILE`/<name>.cpuprofile when
 * that variable names a directory (open it in Chrome DevTools); otherwise the phase just runs.
 * `node --cpu-prof` profiles the whole run, setup included; this keeps to what is measured. With
 * `database` (the engine's own process), its profile of the same phase goes to <name>-db.cpuprofile.
 */
export async function profiled<T>(
  name: string,
  phase: () => Promise<T>,
  database?: { profile?: () => Promise<(path: string) => Promise<void>> },
): Promise<T> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return phase();
  await mkdir(dir, { recursive: true });
  const stopDatabase = await database?.profile?.();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await phase();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    await stopDatabase?.(join(dir, `${name}-db.cpuprofile`));
  }
}
