/** Cursors across getMore batches, and aggregation pipelines run by mingo. */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { startHarness, type EngineHarness } from './helpers.js';

let harness: EngineHarness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

test('a cursor hands out 250 documents in order over several getMore batches', async () => {
  const client = new MongoClient(harness.uri, { monitorCommands: true });
  const started: CommandStartedEvent[] = [];
  client.on('commandStarted', (event) => started.push(event));
  try {
    await client.connect();
    const items = client.db('cursor_test').collection('items');
    await items.insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    started.length = 0;
    const seen = await items.find({}, { batchSize: 20 }).toArray();
    expect(seen.map((d) => d.i)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    const names = started.map((e) => e.commandName);
    expect(names[0]).toBe('find');
    // 20 in the first batch, then 230 in batches of 20: twelve getMores.
    expect(names.filter((n) => n === 'getMore')).toHaveLength(12);
    const replies = harness.commands.filter((c) => c.db === 'cursor_test' && c.name === 'getMore');
    expect(replies.at(-1)?.reply.cursor.nextBatch).toHaveLength(10);
    expect(String(replies.at(-1)?.reply.cursor.id)).toBe('0');

    // A cursor abandoned early is killed by the driver.
    const cursor = items.find({ i: { $gte: 100 } }, { batchSize: 5 }).sort({ i: -1 });
    expect((await cursor.next())?.i).toBe(249);
    await cursor.close();
    expect(started.map((e) => e.commandName)).toContain('killCursors');
    const killed = harness.commands.filter((c) => c.name === 'killCursors').at(-1)?.reply;
    expect(killed?.cursorsKilled).toHaveLength(1);
    // A getMore on a killed or unknown cursor is CursorNotFound.
    await expect(
      client.db('cursor_test').command({ getMore: killed?.cursorsKilled[0], collection: 'items' }),
    ).rejects.toMatchObject({ code: 43, codeName: 'CursorNotFound' });
  } finally {
    await client.close();
  }
});

test('aggregation with $match, $group and $sort', async () => {
  const db = await harness.db();
  const awards = db.collection('awards');
  await awards.insertMany([
    { course: 'c1', badge: 'gold', points: 10 },
    { course: 'c2', badge: 'gold', points: 5 },
    { course: 'c1', badge: 'silver', points: 3 },
    { course: 'c1', badge: 'gold', points: 7 },
    { course: 'c3', badge: 'bronze', points: 1 },
  ]);
  const result = await awards
    .aggregate([
      { $match: { points: { $gte: 3 } } },
      { $group: { _id: '$course', total: { $sum: '$points' }, count: { $sum: 1 } } },
      { $sort: { total: -1 } },
    ])
    .toArray();
  expect(result).toEqual([
    { _id: 'c1', total: 20, count: 3 },
    { _id: 'c2', total: 5, count: 1 },
  ]);
  expect(await awards.countDocuments({ badge: 'gold' })).toBe(3);
  expect(await awards.countDocuments({}, { skip: 1, limit: 2 })).toBe(2);
  expect(await awards.estimatedDocumentCount()).toBe(5);
  expect(await db.command({ count: 'awards', query: { badge: 'gold' }, skip: 1 })).toEqual({ n: 2, ok: 1 });
  expect(await db.command({ count: 'nothing' })).toEqual({ n: 0, ok: 1 });
  // A hint must name an existing index, even though every query here is a scan.
  await awards.createIndex({ course: 1 });
  expect(await awards.find({ course: 'c1' }).hint('course_1').toArray()).toHaveLength(3);
  expect(await awards.find({ course: 'c1' }).hint({ course: 1 }).toArray()).toHaveLength(3);
  await expect(awards.find({}).hint('nope_1').toArray()).rejects.toMatchObject({ code: 2 });
});

test('aggregation with $lookup, $unwind, $project, $skip, $limit and $count', async () => {
  const db = await harness.db();
  await db.collection<{ _id: number; name: string }>('learners').insertMany([
    { _id: 1, name: 'Ada' },
    { _id: 2, name: 'Grace' },
  ]);
  await db.collection('earned').insertMany([
    { learner: 1, badge: 'a' },
    { learner: 1, badge: 'b' },
    { learner: 2, badge: 'c' },
  ]);
  const joined = await db
    .collection('learners')
    .aggregate([
      { $lookup: { from: 'earned', localField: '_id', foreignField: 'learner', as: 'badges' } },
      { $unwind: '$badges' },
      { $project: { _id: 0, name: 1, badge: '$badges.badge' } },
      { $skip: 1 },
      { $limit: 2 },
    ])
    .toArray();
  expect(joined).toEqual([
    { name: 'Ada', badge: 'b' },
    { name: 'Grace', badge: 'c' },
  ]);
  const [counted] = await db
    .collection('earned')
    .aggregate([{ $match: { learner: 1 } }, { $count: 'n' }])
    .toArray();
  expect(counted).toEqual({ n: 2 });
  await expect(
    db
      .collection('earned')
      .aggregate([{ $out: 'copy' }])
      .toArray(),
  ).rejects.toMatchObject({ code: 115 });
  await expect(
    db
      .collection('earned')
      .aggregate([{ $frobnicate: {} }])
      .toArray(),
  ).rejects.toMatchObject({
    code: 40324,
    message: "Unrecognized pipeline stage name: '$frobnicate'",
  });
  await expect(db.command({ aggregate: 'earned', pipeline: [] })).rejects.toMatchObject({ code: 9 });
});
