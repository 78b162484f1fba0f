/**
 * The in-memory engine for the benches, in a process of its own: prints its URI, and answers IPC
 * messages: `commands` with how many commands it has served, so the bench can report database
 * round trips per request (deterministic, unlike latency on a shared machine); `profile-start` and
 * `{ profileStop: path }` with a CPU profile of the engine written to `path` between the two, so a
 * bench can profile the database side of one measured phase (bench/profile.ts).
 */
import { startEngine } from '../test/support/mongo-engine/index.js';
import { engineStats } from '../test/support/mongo-engine/planner.js';
import { answerProfileRequests } from './ipc-profiler.js';

// Counted by the engine itself: an `onCommand` listener would copy every command and reply.
const engine = await startEngine();
console.log(engine.uri);
process.on('message', (message: unknown) => {
  if (message === 'commands') process.send?.({ commands: engineStats.commands });
  else answerProfileRequests(message);
});

process.once('SIGTERM', () => {
  void engine.close().then(() => process.exit(0));
});
