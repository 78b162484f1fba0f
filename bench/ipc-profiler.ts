import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * CPU profiles of a bench's child process on its parent's request over IPC: `profile-start`, then
 * `{ profileStop: path }` writes the profile taken between the two to `path`; each is answered once
 * done, so the parent can profile exactly one measured phase.
 */
export function answerProfileRequests(message: unknown): boolean {
  if (message === 'profile-start') {
    void profileStart();
    return true;
  }
  if (typeof message === 'object' && message && 'profileStop' in message) {
    void profileStop(String(message.profileStop));
    return true;
  }
  return false;
}

let session: Session | undefined;

async function profileStart() {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  process.send?.({ profiling: true });
}

async function profileStop(path: string) {
  if (!session) return;
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  session = undefined;
  await writeFile(path, JSON.stringify(profile));
  process.send?.({ profiled: path });
}
