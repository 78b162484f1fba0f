/** Shared set-up for the engine's tests: one engine per test file, a client per test as needed. */
import { MongoClient, type Db } from 'mongodb';
import { startEngine, type CommandEvent } from '../support/mongo-engine/index.js';

export interface EngineHarness {
  uri: string;
  /** Every command the engine answered, in order (for asserting what a driver sent). */
  commands: CommandEvent[];
  client(): Promise<MongoClient>;
  /** A database of its own for one test, so tests never see each other's data. */
  db(): Promise<Db>;
  close(): Promise<void>;
}

let dbCounter = 0;

export async function startHarness(options: { ttlIntervalMs?: number } = {}): Promise<EngineHarness> {
  const commands: CommandEvent[] = [];
  const engine = await startEngine({ ...options, onCommand: (event) => commands.push(event) });
  const clients: MongoClient[] = [];
  const client = async () => {
    const created = new MongoClient(engine.uri, { serverSelectionTimeoutMS: 5000 });
    clients.push(created);
    await created.connect();
    return created;
  };
  return {
    uri: engine.uri,
    commands,
    client,
    db: async () => {
      const shared = clients[0] ?? (await client());
      return shared.db(`engine_test_${++dbCounter}`);
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
      await engine.close();
    },
  };
}

/** Polls until `check` holds or the time is up; returns whether it held. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 5000,
  stepMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return check();
}
