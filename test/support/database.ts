import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';

export type TestDatabase = {
  /** A connection string naming a database of its own, so test files never share data. */
  uri: string;
  kind: 'external' | 'memory-server' | 'engine';
  /** One line for people: which database this is and whether anything is kept. */
  description: string;
  stop(): Promise<void>;
};

/**
 * Picks the database for tests and the demo, in the order ARCHITECTURE.md gives:
 * MONGODB_URI; else a mongod started by mongodb-memory-server when a binary is already on
 * this machine (never a download, which cannot succeed offline); else the in-memory
 * wire-protocol engine.
 */
export async function startTestDatabase(
  options: { dbName?: string; port?: number; ttlIntervalMs?: number } = {},
): Promise<TestDatabase> {
  const dbName = options.dbName ?? `laurel_test_${randomBytes(6).toString('hex')}`;
  const external = process.env.MONGODB_URI;
  if (external) {
    const uri = withDatabase(external, dbName);
    return {
      uri,
      kind: 'external',
      description: `MongoDB at MONGODB_URI, database ${dbName}`,
      stop: async () => {
        // Only databases this helper named itself are dropped.
        if (options.dbName) return;
        const client = await MongoClient.connect(uri);
        try {
          await client.db(dbName).dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  }
  const binary = await locateMongod();
  if (binary) {
    const { MongoMemoryServer } = await import('mongodb-memory-server-core');
    const server = await MongoMemoryServer.create({
      binary: { systemBinary: binary },
      instance: options.port ? { port: options.port } : {},
    });
    return {
      uri: withDatabase(server.getUri(), dbName),
      kind: 'memory-server',
      description: `mongod (${binary}) started by mongodb-memory-server; nothing is kept after exit`,
      stop: async () => {
        await server.stop();
      },
    };
  }
  const { startEngine } = await import('./mongo-engine/index.js');
  const engine = await startEngine({ port: options.port, ttlIntervalMs: options.ttlIntervalMs });
  return {
    uri: withDatabase(engine.uri, dbName),
    kind: 'engine',
    description: `the in-memory MongoDB wire-protocol engine at ${engine.uri} (test equipment); nothing is kept after exit`,
    stop: () => engine.close(),
  };
}

/** A mongod binary that exists on this machine now: MONGOMS_SYSTEM_BINARY or an earlier download. */
async function locateMongod(): Promise<string | undefined> {
  if (process.env.LAUREL_TEST_ENGINE === '1') return undefined;
  const { DryMongoBinary } = await import('mongodb-memory-server-core');
  try {
    const given = process.env.MONGOMS_SYSTEM_BINARY;
    if (given) return await DryMongoBinary.getSystemPath(given);
    return await DryMongoBinary.locateBinary(DryMongoBinary.getEnsuredOptions());
  } catch {
    return undefined;
  }
}

/** Replaces the database of a connection string (which may list several hosts, so not a URL). */
export function withDatabase(uri: string, dbName: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!match) throw new Error(`Not a MongoDB connection string: ${uri.replace(/\/\/[^@]*@/, '//***@')}`);
  return `${match[1]}/${dbName}${match[2] ?? ''}`;
}
