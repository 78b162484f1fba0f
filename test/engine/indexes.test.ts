/** Unique, compound, sparse and TTL indexes, and the catalogue commands. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import { eventually, startHarness, type EngineHarness } from './helpers.js';

let harness: EngineHarness;

beforeAll(async () => {
  harness = await startHarness({ ttlIntervalMs: 100 });
});

afterAll(async () => {
  await harness.close();
});

describe('unique indexes', () => {
  test('refuse a duplicate insert with code 11000, keyPattern and keyValue', async () => {
    const db = await harness.db();
    const users = db.collection('users');
    await users.createIndex({ email: 1 }, { unique: true });
    await users.insertOne({ email: 'a@x.org' });
    const error = await users.insertOne({ email: 'a@x.org' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error).toMatchObject({
      code: 11000,
      keyPattern: { email: 1 },
      keyValue: { email: 'a@x.org' },
      message: `E11000 duplicate key error collection: ${db.databaseName}.users index: email_1 dup key: { email: "a@x.org" }`,
    });
    // Two documents without the field collide too: a missing field indexes as null.
    await users.insertOne({ name: 'no email' });
    await expect(users.insertOne({ name: 'also none' })).rejects.toMatchObject({
      code: 11000,
      keyValue: { email: null },
    });
  });

  test('refuse a duplicate made by update, upsert and findOneAndUpdate', async () => {
    const db = await harness.db();
    const users = db.collection('users');
    await users.createIndex({ email: 1 }, { unique: true });
    await users.insertMany([{ email: 'a@x.org' }, { email: 'b@x.org' }]);
    await expect(users.updateOne({ email: 'b@x.org' }, { $set: { email: 'a@x.org' } })).rejects.toMatchObject(
      {
        code: 11000,
        keyPattern: { email: 1 },
        keyValue: { email: 'a@x.org' },
      },
    );
    await expect(
      users.updateOne({ email: 'c@x.org' }, { $set: { email: 'a@x.org' } }, { upsert: true }),
    ).rejects.toMatchObject({
      code: 11000,
      keyValue: { email: 'a@x.org' },
    });
    await expect(
      users.findOneAndUpdate(
        { email: 'b@x.org' },
        { $set: { email: 'a@x.org' } },
        { returnDocument: 'after' },
      ),
    ).rejects.toMatchObject({ code: 11000, codeName: 'DuplicateKey', keyValue: { email: 'a@x.org' } });
    // Nothing was changed by the refused writes.
    expect((await users.find({}, { projection: { _id: 0 } }).toArray()).map((d) => d.email)).toEqual([
      'a@x.org',
      'b@x.org',
    ]);
  });

  test('compound and sparse keys, and an unordered batch that goes on after a duplicate', async () => {
    const db = await harness.db();
    const platforms = db.collection('platforms');
    await platforms.createIndex({ platformUrl: 1, clientId: 1 }, { unique: true });
    await platforms.createIndex({ kid: 1 }, { unique: true, sparse: true });
    await platforms.insertMany([
      { platformUrl: 'u', clientId: '1' },
      { platformUrl: 'u', clientId: '2' },
    ]);
    const error = await platforms
      .insertMany(
        [
          { platformUrl: 'u', clientId: '1' },
          { platformUrl: 'v', clientId: '1' },
        ],
        { ordered: false },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    const writeErrors = [(error as MongoBulkWriteError).writeErrors].flat();
    expect(writeErrors).toHaveLength(1);
    expect(writeErrors[0].code).toBe(11000);
    // The driver keeps only part of each write error; the reply itself carries keyPattern/keyValue.
    const reply = harness.commands
      .filter((c) => c.name === 'insert' && c.db === db.databaseName)
      .at(-1)?.reply;
    expect(reply).toMatchObject({ n: 1, ok: 1 });
    expect(reply?.writeErrors).toEqual([
      {
        index: 0,
        code: 11000,
        keyPattern: { platformUrl: 1, clientId: 1 },
        keyValue: { platformUrl: 'u', clientId: '1' },
        errmsg: `E11000 duplicate key error collection: ${db.databaseName}.platforms index: platformUrl_1_clientId_1 dup key: { platformUrl: "u", clientId: "1" }`,
      },
    ]);
    expect(writeErrors[0].errmsg).toContain(
      'index: platformUrl_1_clientId_1 dup key: { platformUrl: "u", clientId: "1" }',
    );
    expect(await platforms.countDocuments()).toBe(3);
    // Documents without a kid are left out of the sparse index, so they never collide.
    await platforms.insertOne({ platformUrl: 'w', clientId: '1', kid: 'k' });
    await expect(platforms.insertOne({ platformUrl: 'w', clientId: '2', kid: 'k' })).rejects.toMatchObject({
      code: 11000,
    });
  });

  test('cannot be built over existing duplicates', async () => {
    const db = await harness.db();
    const states = db.collection('states');
    await states.insertMany([{ state: 's' }, { state: 's' }]);
    await expect(states.createIndex({ state: 1 }, { unique: true })).rejects.toMatchObject({
      code: 11000,
      keyValue: { state: 's' },
    });
    const names = (await states.listIndexes().toArray()).map((i) => i.name);
    expect(names).toEqual(['_id_']);
  });
});

describe('index catalogue', () => {
  test('the same spec again is a no-op; the same name with another spec is a conflict', async () => {
    const db = await harness.db();
    const c = db.collection('catalogue');
    await c.createIndex({ a: 1 }, { name: 'a_idx' });
    const again = await db.command({
      createIndexes: 'catalogue',
      indexes: [{ key: { a: 1 }, name: 'a_idx' }],
    });
    expect(again).toMatchObject({
      numIndexesBefore: 2,
      numIndexesAfter: 2,
      note: 'all indexes already exist',
      ok: 1,
    });
    await expect(c.createIndex({ b: 1 }, { name: 'a_idx' })).rejects.toMatchObject({
      code: 86,
      codeName: 'IndexKeySpecsConflict',
    });
    await expect(c.createIndex({ a: 1 }, { name: 'a_idx', unique: true })).rejects.toMatchObject({
      code: 86,
    });
    await expect(c.createIndex({ a: 1 }, { name: 'a_idx', expireAfterSeconds: 5 })).rejects.toMatchObject({
      code: 85,
      codeName: 'IndexOptionsConflict',
    });
    await expect(c.createIndex({ a: 1 }, { name: 'other' })).rejects.toMatchObject({
      code: 85,
      message: 'Index already exists with a different name: a_idx',
    });
    const listed = await c.listIndexes().toArray();
    expect(listed).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { a: 1 }, name: 'a_idx' },
    ]);
    expect(await c.dropIndex('a_idx')).toMatchObject({ nIndexesWas: 2 });
    await expect(c.dropIndex('a_idx')).rejects.toMatchObject({ code: 27 });
    await expect(c.dropIndex('_id_')).rejects.toMatchObject({ code: 72 });
    await expect(db.collection('nowhere').listIndexes().toArray()).rejects.toMatchObject({ code: 26 });
  });

  test('refuses unknown index options and unsupported index kinds', async () => {
    const db = await harness.db();
    await expect(
      db.command({ createIndexes: 'c', indexes: [{ key: { a: 1 }, name: 'a_1', frobnicate: true }] }),
    ).rejects.toMatchObject({ code: 197 });
    await expect(db.collection('c').createIndex({ body: 'text' })).rejects.toMatchObject({ code: 67 });
    await expect(db.command({ createIndexes: 'c' })).rejects.toMatchObject({
      code: 40414,
      message: "BSON field 'createIndexes.indexes' is missing but a required field",
    });
  });
});

describe('TTL indexes', () => {
  test('remove expired documents on the background sweep and keep the others', async () => {
    const db = await harness.db();
    const nonces = db.collection('nonces');
    await nonces.createIndex({ createdAt: 1 }, { expireAfterSeconds: 10, background: true });
    const now = Date.now();
    await nonces.insertMany([
      { nonce: 'old', createdAt: new Date(now - 60_000) },
      { nonce: 'fresh', createdAt: new Date(now) },
      { nonce: 'not a date', createdAt: 'yesterday' },
      { nonce: 'old in array', createdAt: [new Date(now + 60_000), new Date(now - 60_000)] },
    ]);
    const swept = await eventually(async () => (await nonces.countDocuments()) === 2, 3000);
    expect(swept).toBe(true);
    const left = (await nonces.find({}).toArray()).map((d) => d.nonce);
    expect(left).toEqual(['fresh', 'not a date']);
  });
});
