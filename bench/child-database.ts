import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export type ChildDatabase = {
  uri: string;
  kind: string;
  /** Commands the engine has served so far (every client's, Laurel's background jobs included). */
  commands(): Promise<number>;
  stop(): Promise<void>;
};

/**
 * The in-memory engine in a process of its own (bench/engine-process.ts), as a real MongoDB would
 * be: its work competes neither with the load generator nor with Laurel inside one event loop.
 * `nodeArgs` are flags for that process (e.g. `--cpu-prof`).
 */
export async function startChildDatabase(nodeArgs: string[] = []): Promise<ChildDatabase> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'bench/engine-process.ts'], {
    cwd: new URL('..', import.meta.url),
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  const url = new URL(first.trim());
  url.pathname = `/laurel_load_${randomBytes(4).toString('hex')}`;
  return {
    uri: url.toString(),
    kind: 'engine (child process)',
    commands: async () => {
      const answer = once(child, 'message') as Promise<[{ commands: number }]>;
      child.send('commands');
      return (await answer)[0].commands;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
