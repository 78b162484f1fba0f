/** Create, read, update and delete through mongoose 9 and the mongodb 7 driver. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Binary, Decimal128, Long, ObjectId, UUID } from 'mongodb';
import mongoose, { Schema } from 'mongoose';
import { startHarness, type EngineHarness } from './helpers.js';

let harness: EngineHarness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

describe('mongoose 9', () => {
  test('creates, reads, updates and deletes a document', async () => {
    const connection = await mongoose.createConnection(`${harness.uri}mongoose_crud`).asPromise();
    try {
      const User = connection.model(
        'User',
        new Schema({
          email: { type: String, required: true },
          name: String,
          visits: { type: Number, default: 0 },
          tags: [String],
        }),
      );
      const created = await User.create({ email: 'ada@example.org', name: 'Ada' });
      expect(created._id).toBeInstanceOf(mongoose.Types.ObjectId);

      const read = await User.findById(created._id).lean();
      expect(read).toMatchObject({ email: 'ada@example.org', name: 'Ada', visits: 0, tags: [] });

      const updated = await User.updateOne(
        { _id: created._id },
        { $inc: { visits: 2 }, $push: { tags: 'early' } },
      );
      expect(updated).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
      const again = await User.findOne({ email: 'ada@example.org' }).lean();
      expect(again).toMatchObject({ visits: 2, tags: ['early'] });

      const unchanged = await User.updateOne({ _id: created._id }, { $set: { name: 'Ada' } });
      expect(unchanged).toMatchObject({ matchedCount: 1, modifiedCount: 0 });

      await User.create([{ email: 'b@example.org' }, { email: 'c@example.org' }]);
      expect(await User.countDocuments()).toBe(3);
      expect((await User.deleteOne({ _id: created._id })).deletedCount).toBe(1);
      expect(await User.findById(created._id)).toBeNull();
      expect((await User.deleteMany({})).deletedCount).toBe(2);
      expect(await User.countDocuments()).toBe(0);
    } finally {
      await connection.close();
    }
  });
});

describe('mongodb driver', () => {
  test('keeps BSON types and insertion order, and hands out copies', async () => {
    const db = await harness.db();
    const things = db.collection('things');
    const uuid = new UUID();
    const doc = {
      long: Long.fromString('9007199254740993'),
      decimal: Decimal128.fromString('12.345'),
      binary: new Binary(Buffer.from([1, 2, 3])),
      uuid,
      when: new Date('2024-05-06T07:08:09.010Z'),
      nested: { list: [1, 'two', { three: 3 }] },
    };
    const { insertedId } = await things.insertOne(doc);
    await things.insertMany([{ n: 2 }, { n: 3 }]);
    const [stored] = await things.find({ _id: insertedId }).toArray();
    expect(stored._id).toBeInstanceOf(ObjectId);
    expect(Long.isLong(stored.long) && stored.long.toString()).toBe('9007199254740993');
    expect(stored.decimal).toBeInstanceOf(Decimal128);
    expect(stored.decimal.toString()).toBe('12.345');
    expect(stored.binary.buffer).toEqual(new Uint8Array([1, 2, 3]));
    expect(stored.uuid.toHexString()).toBe(uuid.toHexString());
    expect(stored.when.toISOString()).toBe('2024-05-06T07:08:09.010Z');
    expect(Object.keys(stored)[0]).toBe('_id');
    const all = await things.find({}).toArray();
    expect(all.map((d) => d.n ?? 1)).toEqual([1, 2, 3]);
  });

  test('refuses $-prefixed fields and changes of _id', async () => {
    const db = await harness.db();
    const things = db.collection('things');
    await expect(things.insertOne({ $bad: 1 })).rejects.toMatchObject({ code: 2 });
    const { insertedId } = await things.insertOne({ a: 1 });
    await expect(
      things.updateOne({ _id: insertedId }, { $set: { _id: new ObjectId() } }),
    ).rejects.toMatchObject({
      code: 66,
      message: "Performing an update on the path '_id' would modify the immutable field '_id'",
    });
    await expect(things.replaceOne({ _id: insertedId }, { _id: 'other', a: 2 })).rejects.toMatchObject({
      code: 66,
    });
    // Setting _id to the value it already has is allowed.
    await expect(
      things.updateOne({ _id: insertedId }, { $set: { _id: insertedId, a: 5 } }),
    ).resolves.toMatchObject({
      modifiedCount: 1,
    });
    expect(await things.findOne({ _id: insertedId })).toEqual({ _id: insertedId, a: 5 });
  });

  test('projects, sorts, skips and limits', async () => {
    const db = await harness.db();
    const people = db.collection('people');
    await people.insertMany([
      { name: 'c', age: 30, secret: 1 },
      { name: 'a', age: 20, secret: 2 },
      { name: 'b', age: 40, secret: 3 },
      { name: 'd', age: 10 },
    ]);
    const page = await people
      .find({ age: { $gte: 15 } }, { projection: { _id: 0, secret: 0 } })
      .sort({ age: -1 })
      .skip(1)
      .limit(1)
      .toArray();
    expect(page).toEqual([{ name: 'c', age: 30 }]);
    // A filter on null matches a missing field, as ltijs's clean-up relies on.
    expect(await people.countDocuments({ secret: null })).toBe(1);
    const deleted = await people.deleteOne({ age: { $lt: 35 } });
    expect(deleted.deletedCount).toBe(1);
    expect(await people.distinct('name')).toEqual(['a', 'b', 'd']);
  });
});
