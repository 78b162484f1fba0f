import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/**
 * The in-memory engine in a process of its own (`npm run db`), as a real MongoDB would be: its work
 * competes neither with the load generator nor with Laurel inside one event loop. `nodeArgs` are
 * flags for that process (e.g. `--cpu-prof`).
 */
export async function startChildDatabase(
  nodeArgs: string[] = [],
): Promise<{ uri: string; kind: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'test/support/db-cli.ts'], {
    cwd: new URL('..', import.meta.url),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  const url = new URL(first.trim());
  url.pathname = `/laurel_load_${randomBytes(4).toString('hex')}`;
  return {
    uri: url.toString(),
    kind: 'engine (child process)',
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
