import mongoose, { type Connection } from 'mongoose';

/** Opens Laurel's own mongoose connection (ltijs keeps a separate one to the same database). */
export async function connectDatabase(
  uri: string,
  options: { monitorCommands?: boolean } = {},
): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    ...options,
    serverSelectionTimeoutMS: 10_000,
    // Indexes are part of the data contract (uniqueness of credentials, idempotency of events).
    autoIndex: true,
  });
  await connection.asPromise();
  return connection;
}

/** True when the database answers a ping within the timeout. */
export async function databaseAnswers(connection: Connection, timeoutMs = 2000): Promise<boolean> {
  if (connection.readyState !== 1 || !connection.db) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const ping = connection.db.admin().command({ ping: 1 });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('ping timed out')), timeoutMs);
    });
    const answer = await Promise.race([ping, timeout]);
    return answer?.ok === 1;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
