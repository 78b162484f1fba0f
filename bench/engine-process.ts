/**
 * The in-memory engine for the benches, in a process of its own: prints its URI, and answers IPC
 * messages: `commands` with how many commands it has served, so the bench can report database
 * round trips per request (deterministic, unlike latency on a shared machine); `profile-start` and
 * `{ profileStop: path }` with a CPU profile of the engine written to `path` between the two, so a
 * bench can profile the database side of one measured phase (bench/profile.ts).
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { startEngine } from '../test/support/mongo-engine/index.js';
import { engineStats } from '../test/support/mongo-engine/planner.js';

// Counted by the engine itself: an `onCommand` listener would copy every command and reply.
const engine = await startEngine();
let session: Session | undefined;
console.log(engine.uri);
process.on('message', (message: unknown) => {
  if (message === 'commands') process.send?.({ commands: engineStats.commands });
  else if (message === 'profile-start') void profileStart();
  else if (typeof message === 'object' && message && 'profileStop' in message)
    void profileStop(String(message.profileStop));
});

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

process.once('SIGTERM', () => {
  void engine.close().then(() => process.exit(0));
});
