/** What the engine refuses, and how: exactly as a standalone mongod 7.0 would. */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { Long } from 'mongodb';
import { startHarness, type EngineHarness } from './helpers.js';

let harness: EngineHarness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

test('an unknown command is CommandNotFound (59), naming the command', async () => {
  const db = await harness.db();
  await expect(db.command({ frobnicate: 1 })).rejects.toMatchObject({
    code: 59,
    codeName: 'CommandNotFound',
    message: "no such command: 'frobnicate'",
  });
  const reply = harness.commands.find((c) => c.name === 'frobnicate')?.reply;
  expect(reply).toEqual({
    ok: 0,
    errmsg: "no such command: 'frobnicate'",
    code: 59,
    codeName: 'CommandNotFound',
  });
  // Object.prototype names are not commands either.
  await expect(db.command({ constructor: 1 })).rejects.toMatchObject({ code: 59 });
});

test('create on an existing collection is NamespaceExists (48); drop of a missing one is 26', async () => {
  const db = await harness.db();
  await db.createCollection('things');
  await expect(db.command({ create: 'things' })).rejects.toMatchObject({
    code: 48,
    codeName: 'NamespaceExists',
    message: `Collection already exists. NS: ${db.databaseName}.things`,
  });
  await expect(db.command({ drop: 'missing' })).rejects.toMatchObject({ code: 26, message: 'ns not found' });
  await expect(db.command({ create: 'capped', capped: true, size: 1024 })).rejects.toMatchObject({ code: 2 });
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
  expect(names).toEqual(['things']);
  const [info] = await db.listCollections({ name: 'things' }).toArray();
  expect(info).toMatchObject({ name: 'things', type: 'collection', options: {}, idIndex: { name: '_id_' } });
  expect(await db.collection('things').drop()).toBe(true);
  expect(await db.listCollections().toArray()).toEqual([]);
});

test('dropDatabase and listDatabases', async () => {
  const db = await harness.db();
  await db.collection('a').insertOne({ x: 1 });
  const admin = (await harness.client()).db('admin');
  const listed = await admin.command({ listDatabases: 1, nameOnly: true });
  expect(listed.databases.map((d: { name: string }) => d.name)).toContain(db.databaseName);
  await expect(db.command({ listDatabases: 1 })).rejects.toMatchObject({ code: 13 });
  expect(await db.dropDatabase()).toBe(true);
  const after = await admin.command({ listDatabases: 1, nameOnly: true });
  expect(after.databases.map((d: { name: string }) => d.name)).not.toContain(db.databaseName);
});

test('transactions and txnNumber are refused as on a standalone (20 IllegalOperation)', async () => {
  const db = await harness.db();
  const standalone = {
    code: 20,
    codeName: 'IllegalOperation',
    message: 'Transaction numbers are only allowed on a replica set member or mongos',
  };
  await expect(
    db.command({ insert: 'c', documents: [{ a: 1 }], txnNumber: Long.fromNumber(1) }),
  ).rejects.toMatchObject(standalone);
  await expect(
    db.command({ find: 'c', txnNumber: Long.fromNumber(1), startTransaction: true, autocommit: false }),
  ).rejects.toMatchObject(standalone);
  const client = await harness.client();
  const session = client.startSession();
  try {
    // Whichever side refuses first (driver or engine), the transaction never runs.
    await expect(
      session.withTransaction(async () => {
        await client.db(db.databaseName).collection('c').insertOne({ a: 2 }, { session });
      }),
    ).rejects.toThrow();
  } finally {
    await session.endSession();
  }
  expect(await db.collection('c').countDocuments()).toBe(0);
  // The driver does not send txnNumber (retryable writes) to a standalone.
  expect(
    harness.commands.filter((c) => c.name === 'insert' && 'txnNumber' in c.body && c.reply.ok === 1),
  ).toEqual([]);
});

test('validates fields strictly, with the IDL errors mongod gives', async () => {
  const db = await harness.db();
  await expect(db.command({ insert: 'c' })).rejects.toMatchObject({
    code: 40414,
    message: "BSON field 'insert.documents' is missing but a required field",
  });
  await expect(db.command({ find: 'c', filter: 5 })).rejects.toMatchObject({
    code: 14,
    codeName: 'TypeMismatch',
    message: "BSON field 'find.filter' is the wrong type 'int', expected type 'object'",
  });
  await expect(db.command({ find: 'c', limit: 'ten' })).rejects.toMatchObject({
    code: 14,
    message:
      "BSON field 'find.limit' is the wrong type 'string', expected types '[long, int, decimal, double']'",
  });
  await expect(db.command({ find: 'c', frobnicate: true })).rejects.toMatchObject({
    code: 40415,
    message: "BSON field 'find.frobnicate' is an unknown field.",
  });
  await expect(db.command({ delete: 'c', deletes: [{ q: {}, limit: 2 }] })).rejects.toMatchObject({
    code: 9,
    message: 'The limit field in delete objects must be 0 or 1. Got 2',
  });
  await expect(db.command({ find: 'c', filter: { a: { $frob: 1 } } })).rejects.toMatchObject({
    code: 2,
    message: 'unknown operator: $frob',
  });
  await expect(db.command({ find: 'c', sort: { a: 2 } })).rejects.toMatchObject({ code: 15975 });
  await expect(db.command({ find: '' })).rejects.toMatchObject({ code: 73 });
  await expect(
    db.command({ update: 'c', updates: [{ q: {}, u: { a: 1, $set: { b: 1 } } }] }),
  ).resolves.toMatchObject({ writeErrors: [{ index: 0, code: 52 }] });
  await expect(
    db.command({ update: 'c', updates: [{ q: {}, u: { a: 1 }, multi: true }] }),
  ).resolves.toMatchObject({ writeErrors: [{ index: 0, code: 9 }] });
});

test('ping, buildInfo and hello describe a standalone mongod 7.0', async () => {
  const admin = (await harness.client()).db('admin');
  expect(await admin.command({ ping: 1 })).toEqual({ ok: 1 });
  expect(await admin.command({ buildInfo: 1 })).toMatchObject({ version: '7.0.0', ok: 1 });
  const hello = await admin.command({ hello: 1, helloOk: true });
  expect(hello).toMatchObject({
    isWritablePrimary: true,
    helloOk: true,
    maxWireVersion: 21,
    minWireVersion: 0,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    logicalSessionTimeoutMinutes: 30,
    ok: 1,
  });
  expect(hello.localTime).toBeInstanceOf(Date);
  expect(typeof hello.connectionId).toBe('number');
  expect(hello).not.toHaveProperty('setName');
});
