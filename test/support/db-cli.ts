/**
 * `npm run db`: the in-memory MongoDB wire-protocol engine on its own, for a developer's tools
 * or for checking it against MongoDB's own spec tests. Port from PORT_DB, else a free one;
 * with ENGINE_REPLICA_SET=<name>, a one-member replica set of that name (change streams).
 */
import { startEngine } from './mongo-engine/index.js';

function portFromEnv(): number {
  const raw = process.env.PORT_DB;
  if (raw === undefined || raw === '') return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT_DB must be a TCP port number (0-65535), got ${JSON.stringify(raw)}`);
  }
  return port;
}

const replicaSet = process.env.ENGINE_REPLICA_SET || undefined;
const engine = await startEngine({ port: portFromEnv(), replicaSet });
console.log(engine.uri);
console.log(
  `In-memory MongoDB test engine${replicaSet ? ` (replica set ${replicaSet})` : ''} (test equipment, not for production); nothing is kept after exit.`,
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    engine.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`closing the engine failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  });
}
