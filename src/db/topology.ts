import type { Connection } from 'mongoose';

/**
 * True when the database can serve change streams: a replica-set member or a mongos, as its own
 * `hello` says (setName, or msg "isdbgrid"). A standalone server cannot, whatever the driver is told.
 */
export async function servesChangeStreams(connection: Connection): Promise<boolean> {
  const hello = await connection.db!.admin().command({ hello: 1 });
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}

/** The same, false when the server cannot be asked now (the worker then polls, as on a standalone). */
export async function changeStreamsAvailable(
  connection: Connection,
  onError: (err: unknown) => void,
): Promise<boolean> {
  try {
    return await servesChangeStreams(connection);
  } catch (err) {
    onError(err);
    return false;
  }
}
