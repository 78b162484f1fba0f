/** Update semantics: operators, arrayFilters, multi, upserts and findAndModify. */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { Long, ObjectId } from 'mongodb';
import { startHarness, type EngineHarness } from './helpers.js';

let harness: EngineHarness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

test('updateMany with arrayFilters changes only the matching elements of every matching document', async () => {
  const db = await harness.db();
  const grades = db.collection('grades');
  await grades.insertMany([
    { student: 1, scores: [{ v: 50 }, { v: 95 }, { v: 99 }] },
    { student: 2, scores: [{ v: 100 }, { v: 10 }] },
    { student: 3, scores: [{ v: 1 }] },
  ]);
  const result = await grades.updateMany(
    { 'scores.v': { $gte: 90 } },
    { $set: { 'scores.$[high].top': true }, $inc: { revisions: 1 } },
    { arrayFilters: [{ 'high.v': { $gte: 90 } }] },
  );
  expect(result).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
  const docs = await grades.find({}, { projection: { _id: 0 } }).toArray();
  expect(docs).toEqual([
    { student: 1, scores: [{ v: 50 }, { v: 95, top: true }, { v: 99, top: true }], revisions: 1 },
    { student: 2, scores: [{ v: 100, top: true }, { v: 10 }], revisions: 1 },
    { student: 3, scores: [{ v: 1 }] },
  ]);
  await expect(grades.updateOne({}, { $set: { 'scores.$[x].v': 0 } })).rejects.toMatchObject({ code: 2 });
});

test('a replacement upsert without _id, twice, inserts two documents with fresh ObjectIds (what ltijs does)', async () => {
  const db = await harness.db();
  const keys = db.collection('keys');
  await keys.createIndex({ kid: 1 }, { unique: true });
  const first = await keys.replaceOne({ kid: 'one' }, { kid: 'one', data: 'x' }, { upsert: true });
  const second = await keys.replaceOne({ kid: 'two' }, { kid: 'two', data: 'y' }, { upsert: true });
  expect(first.upsertedId).toBeInstanceOf(ObjectId);
  expect(second.upsertedId).toBeInstanceOf(ObjectId);
  expect(String(first.upsertedId)).not.toBe(String(second.upsertedId));
  expect(await keys.countDocuments()).toBe(2);
  // `_id: undefined` left out by the driver (mongoose does the same) is no _id at all;
  // the raw-wire test covers `_id` sent as BSON undefined.
  await keys.replaceOne(
    { kid: 'three' },
    { _id: undefined, kid: 'three' },
    { upsert: true, ignoreUndefined: true },
  );
  const three = await keys.findOne({ kid: 'three' });
  expect(three?._id).toBeInstanceOf(ObjectId);
  // The third replacement of an existing document keeps its _id.
  await keys.replaceOne({ kid: 'one' }, { kid: 'one', data: 'z' }, { upsert: true });
  const one = await keys.findOne({ kid: 'one' });
  expect(one).toEqual({ _id: first.upsertedId, kid: 'one', data: 'z' });
});

test('an operator upsert seeds the new document from the equality fields of the filter', async () => {
  const db = await harness.db();
  const counters = db.collection('counters');
  const result = await counters.updateOne(
    { name: 'launches', 'scope.course': 'c1', level: { $gt: 2 } },
    { $inc: { n: 1 }, $setOnInsert: { createdBy: 'test' } },
    { upsert: true },
  );
  expect(result.upsertedCount).toBe(1);
  expect(await counters.findOne({}, { projection: { _id: 0 } })).toEqual({
    name: 'launches',
    scope: { course: 'c1' },
    n: 1,
    createdBy: 'test',
  });
  await counters.updateOne(
    { name: 'launches' },
    { $inc: { n: 1 }, $setOnInsert: { createdBy: 'other' } },
    { upsert: true },
  );
  expect(await counters.findOne({}, { projection: { _id: 0, n: 1, createdBy: 1 } })).toEqual({
    n: 2,
    createdBy: 'test',
  });
});

test('findOneAndUpdate with upsert returns the document before or after', async () => {
  const db = await harness.db();
  const jobs = db.collection('jobs');
  const before = await jobs.findOneAndUpdate(
    { name: 'a' },
    { $set: { state: 'new' } },
    { upsert: true, returnDocument: 'before' },
  );
  expect(before).toBeNull();
  const after = await jobs.findOneAndUpdate(
    { name: 'b' },
    { $set: { state: 'new' } },
    { upsert: true, returnDocument: 'after' },
  );
  expect(after).toMatchObject({ name: 'b', state: 'new' });
  expect(after?._id).toBeInstanceOf(ObjectId);
  const full = await jobs.findOneAndUpdate(
    { name: 'a' },
    { $set: { state: 'done' } },
    { returnDocument: 'before', includeResultMetadata: true },
  );
  expect(full.value).toMatchObject({ name: 'a', state: 'new' });
  expect(full.lastErrorObject).toEqual({ n: 1, updatedExisting: true });
  const sorted = await jobs.findOneAndUpdate(
    {},
    { $set: { picked: true } },
    { sort: { name: -1 }, returnDocument: 'after', projection: { _id: 0 } },
  );
  expect(sorted).toEqual({ name: 'b', state: 'new', picked: true });
  const removed = await jobs.findOneAndDelete({ name: 'a' });
  expect(removed).toMatchObject({ name: 'a', state: 'done' });
  expect(await jobs.countDocuments()).toBe(1);
});

test('push, pull, addToSet, rename, unset, min/max and currentDate come from mingo', async () => {
  const db = await harness.db();
  interface Ops {
    list: number[];
    set: string[];
    old?: number;
    renamed?: number;
    gone?: boolean;
    low: number;
    high: number;
    touched?: Date;
  }
  const c = db.collection<Ops>('ops');
  const { insertedId } = await c.insertOne({ list: [3, 1], set: ['a'], old: 1, gone: true, low: 5, high: 5 });
  await c.updateOne(
    { _id: insertedId },
    {
      $push: { list: { $each: [2], $sort: 1 } },
      $addToSet: { set: { $each: ['a', 'b'] } },
      $rename: { old: 'renamed' },
      $unset: { gone: '' },
      $min: { low: 2 },
      $max: { high: 9 },
      $currentDate: { touched: true },
    },
  );
  await c.updateOne({ _id: insertedId }, { $pull: { list: { $gte: 3 } } });
  const doc = await c.findOne({ _id: insertedId });
  expect(doc).toMatchObject({ list: [1, 2], set: ['a', 'b'], renamed: 1, low: 2, high: 9 });
  expect(doc).not.toHaveProperty('gone');
  expect(doc?.touched).toBeInstanceOf(Date);
  await expect(c.updateOne({}, { $set: { a: 1 }, $unset: { a: '' } })).rejects.toMatchObject({ code: 40 });
  await expect(c.updateOne({}, { $frob: { a: 1 } } as never)).rejects.toMatchObject({ code: 9 });
  // mingo would skip these silently; mongod refuses them, and so does the engine.
  await expect(c.updateOne({}, { $inc: { set: 1 } } as never)).rejects.toMatchObject({
    code: 14,
    message: `Cannot apply $inc to a value of non-numeric type. {_id: ObjectId('${insertedId.toHexString()}')} has the field 'set' of non-numeric type array`,
  });
  await expect(c.updateOne({}, { $inc: { low: Long.fromNumber(1) } } as never)).rejects.toMatchObject({
    code: 2,
  });
});
