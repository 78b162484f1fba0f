/**
 * The in-memory engine for the load bench, in a process of its own: prints its URI, and answers an
 * IPC message `commands` with how many commands it has served, so the bench can report database
 * round trips per request (deterministic, unlike latency on a shared machine).
 */
import { startEngine } from '../test/support/mongo-engine/index.js';

let commands = 0;
const engine = await startEngine({ onCommand: () => commands++ });
console.log(engine.uri);
process.on('message', (message) => {
  if (message === 'commands') process.send?.({ commands });
});
process.once('SIGTERM', () => {
  void engine.close().then(() => process.exit(0));
});
