/**
 * Index upkeep on the write paths the events pipeline leans on: keys appended after the last
 * entry (ids and dates that grow), keys filed in the middle, updates that touch an indexed
 * field and updates that do not, and unique keys of scalar and array values. Every answer is
 * read back through each index (hint) and through a scan, against documents named by hand.
 */
import { describe, expect, test } from '@jest/globals';
import type { Document } from 'bson';
import { runCommand } from '../support/mongo-engine/commands/dispatch.js';
import { Cursors } from '../support/mongo-engine/cursors.js';
import { SortedEntries, entryComparator, RANK_NUMBER } from '../support/mongo-engine/ordered-index.js';
import { Store } from '../support/mongo-engine/store.js';

function engine(db: string) {
  const store = new Store();
  const cursors = new Cursors();
  return (body: Document): Document => runCommand({ ...body, $db: db }, { store, cursors, connectionId: 1 });
}

const ids = (reply: Document): unknown[] => (reply.cursor.firstBatch as Document[]).map((d) => d._id);

describe('sorted entries', () => {
  test('ascending keys (appended past the last entry, across chunk splits) come back in order', () => {
    const list = new SortedEntries(entryComparator([1]));
    for (let i = 0; i < 1500; i++) list.insert({ key: [RANK_NUMBER, i], id: i + 1 });
    // Smaller keys after: they must go to the front, not be appended.
    list.insert({ key: [RANK_NUMBER, -1], id: 9001 });
    list.insert({ key: [RANK_NUMBER, 700.5], id: 9002 });
    // An equal key with a larger record id sorts after the equal key's first holder.
    list.insert({ key: [RANK_NUMBER, 1499], id: 9003 });
    const order = list.toArray().map((e) => e.id);
    expect(order).toHaveLength(1503);
    expect(list.size).toBe(1503);
    expect(order.slice(0, 3)).toEqual([9001, 1, 2]);
    expect(order.slice(701, 705)).toEqual([701, 9002, 702, 703]);
    expect(order.slice(-3)).toEqual([1499, 1500, 9003]);
    // Removal still finds entries that were appended.
    expect(list.remove({ key: [RANK_NUMBER, 1499], id: 1500 })).toBe(true);
    expect(list.remove({ key: [RANK_NUMBER, 1499], id: 1500 })).toBe(false);
    expect(
      list
        .toArray()
        .slice(-2)
        .map((e) => e.id),
    ).toEqual([1499, 9003]);
  });

  test('descending index: growing values go to the front', () => {
    const list = new SortedEntries(entryComparator([-1]));
    for (let i = 0; i < 600; i++) list.insert({ key: [RANK_NUMBER, i], id: i + 1 });
    const order = list.toArray().map((e) => e.id);
    expect(order.slice(0, 3)).toEqual([600, 599, 598]);
    expect(order.slice(-2)).toEqual([2, 1]);
  });
});

describe('updates touching indexed fields or not, read through every index', () => {
  const run = engine('upkeep');
  run({
    createIndexes: 'events',
    indexes: [
      { key: { status: 1, receivedAt: 1 }, name: 'status_receivedAt' },
      { key: { claim: 1 }, name: 'claim' },
      { key: { eventId: 1 }, name: 'eventId', unique: true },
      { key: { 'data.activityId': 1 }, name: 'activity' },
    ],
  });
  run({
    insert: 'events',
    documents: Array.from({ length: 700 }, (_, i) => ({
      _id: i + 1,
      eventId: `e${i + 1}`,
      status: 'pending',
      receivedAt: new Date(1000 * (i + 1)),
      claim: null,
      attempts: 0,
      data: { activityId: `quiz-${(i + 1) % 3}` },
    })),
  });
  // Touches no indexed field (only attempts), then one that touches status and claim.
  run({
    update: 'events',
    updates: [{ q: { _id: { $lte: 5 } }, u: { $inc: { attempts: 1 } }, multi: true }],
  });
  run({
    update: 'events',
    updates: [
      { q: { _id: { $in: [2, 4] } }, u: { $set: { status: 'processing', claim: 'c1' } }, multi: true },
      // The same value again: the keys stay, the document is still changed elsewhere.
      { q: { _id: 3 }, u: { $set: { status: 'pending', attempts: 7 } } },
      // An indexed field inside an embedded document.
      { q: { _id: 5 }, u: { $set: { 'data.activityId': 'quiz-x' } } },
    ],
  });

  const find = (filter: Document, hint?: string) =>
    ids(
      run({
        find: 'events',
        filter,
        sort: { _id: 1 },
        ...(hint ? { hint } : {}),
        limit: 10,
        singleBatch: true,
      }),
    );

  test.each([undefined, 'status_receivedAt'])('status queries (hint %s)', (hint) => {
    expect(find({ status: 'processing' }, hint)).toEqual([2, 4]);
    expect(find({ status: 'pending', receivedAt: { $lte: new Date(5000) } }, hint)).toEqual([1, 3, 5]);
  });

  test.each([undefined, 'claim'])('claim queries (hint %s)', (hint) => {
    expect(find({ claim: 'c1' }, hint)).toEqual([2, 4]);
    expect(find({ claim: null, _id: { $lte: 6 } }, hint)).toEqual([1, 3, 5, 6]);
  });

  test.each([undefined, 'activity'])('embedded field queries (hint %s)', (hint) => {
    expect(find({ 'data.activityId': 'quiz-x' }, hint)).toEqual([5]);
    expect(find({ 'data.activityId': 'quiz-2', _id: { $lte: 8 } }, hint)).toEqual([2, 8]);
  });

  test('documents not touched by an indexed field keep their other values', () => {
    const docs = run({ find: 'events', filter: { _id: { $lte: 5 } }, sort: { _id: 1 }, singleBatch: true })
      .cursor.firstBatch as Document[];
    expect(docs.map((d) => d.attempts)).toEqual([1, 1, 7, 1, 1]);
  });

  test('the unique index still refuses a duplicate and accepts a moved key', () => {
    const clash = run({ update: 'events', updates: [{ q: { _id: 1 }, u: { $set: { eventId: 'e2' } } }] });
    expect(clash.writeErrors[0]).toMatchObject({ index: 0, code: 11000 });
    run({ update: 'events', updates: [{ q: { _id: 1 }, u: { $set: { eventId: 'moved' } } }] });
    expect(find({ eventId: 'moved' }, 'eventId')).toEqual([1]);
    expect(find({ eventId: 'e1' }, 'eventId')).toEqual([]);
    // The old key is free again.
    expect(run({ insert: 'events', documents: [{ _id: 1001, eventId: 'e1' }] }).n).toBe(1);
  });
});

describe('unique keys of scalars and arrays', () => {
  test('a scalar clashes with an array element, and an array with itself twice is one key', () => {
    const run = engine('uniq');
    run({ createIndexes: 'u', indexes: [{ key: { tag: 1, n: 1 }, name: 'tag_n', unique: true }] });
    expect(run({ insert: 'u', documents: [{ _id: 1, tag: ['a', 'b', 'a'], n: 1 }] }).n).toBe(1);
    const clash = run({ insert: 'u', documents: [{ _id: 2, tag: 'b', n: 1 }] });
    expect(clash.writeErrors[0]).toMatchObject({ code: 11000, keyValue: { tag: 'b', n: 1 } });
    expect(run({ insert: 'u', documents: [{ _id: 3, tag: 'b', n: 2 }] }).n).toBe(1);
    // A missing field is keyed as null: a second document without it clashes.
    expect(run({ insert: 'u', documents: [{ _id: 4, n: 5 }] }).n).toBe(1);
    const nulls = run({ insert: 'u', documents: [{ _id: 5, n: 5 }] });
    expect(nulls.writeErrors[0]).toMatchObject({ code: 11000, keyValue: { tag: null, n: 5 } });
  });
});
