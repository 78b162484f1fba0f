/**
 * The engine's shortcuts around mingo give mingo's answers: filters compiled with the shared
 * context (its `$in`/`$nin` with a prebuilt set) match exactly what mingo's own Query matches,
 * and top-level `$set`/`$unset`/`$inc` produce exactly the document (field order included) and
 * the modified flag of mingo's updater. Differential, over random values and updates.
 */
import { describe, expect, test } from '@jest/globals';
import { EJSON, ObjectId, type Document } from 'bson';
import { Query } from 'mingo';
import { updateOne } from 'mingo/updater';
import { cloneDeep } from 'mingo/util';
import { compileFilter } from '../support/mongo-engine/query.js';
import { applyUpdate, parseUpdate } from '../support/mongo-engine/updates.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = ['65aa00000000000000000001', '65aa00000000000000000002', '65aa00000000000000000003'];

function valueOf(rand: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
  switch (Math.floor(rand() * (depth > 1 ? 9 : 11))) {
    case 0:
      return null;
    case 1:
      return pick([0, -0, 1, 1.5, -2, NaN, 1e21]);
    case 2:
      return pick(['', 'a', 'b', 'A', 'ab', 'é']);
    case 3:
      return pick([true, false]);
    case 4:
      // Fresh instances: equality must not depend on identity.
      return new ObjectId(pick(HEX));
    case 5:
      return new Date(pick([0, 1000, 86_400_000]));
    case 6:
      return new Date(NaN);
    case 7:
      return pick([/^a/, /b/i]);
    case 8:
      return undefined;
    case 9:
      return Array.from({ length: Math.floor(rand() * 3) }, () => valueOf(rand, depth + 1));
    default:
      return { x: valueOf(rand, depth + 1) };
  }
}

const show = (value: unknown) => EJSON.stringify({ v: value } as Document, { relaxed: false });

describe('filters compiled with the shared context', () => {
  test('$in and $nin match what mingo’s own Query matches, over random lists and documents', () => {
    const rand = random(18);
    let compared = 0;
    let matched = 0;
    for (let round = 0; round < 400; round++) {
      const list = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => valueOf(rand)).filter(
        (v) => v !== undefined,
      );
      const path = rand() < 0.5 ? 'a' : 'a.x';
      for (const op of ['$in', '$nin']) {
        const filter = { [path]: { [op]: list } };
        const ours = compileFilter(filter);
        const theirs = new Query(filter);
        for (let k = 0; k < 10; k++) {
          const doc: Document = { _id: k };
          const value = valueOf(rand);
          if (value !== undefined) doc.a = value;
          const expected = theirs.test(doc);
          if (ours.test(doc) !== expected)
            throw new Error(`${op} ${show(list)} on ${show(doc)}: mingo says ${expected}`);
          compared++;
          if (expected) matched++;
        }
      }
    }
    // Both outcomes occur often enough for the comparison to mean something.
    expect(compared).toBe(8000);
    expect(matched).toBeGreaterThan(1000);
    expect(compared - matched).toBeGreaterThan(1000);
  });

  test('an ObjectId in a long list is found by value, not by identity', () => {
    const ids = Array.from({ length: 100 }, () => new ObjectId());
    const query = compileFilter({ personId: { $in: ids } });
    expect(query.test({ personId: new ObjectId(ids[42]!.toHexString()) })).toBe(true);
    expect(query.test({ personId: new ObjectId() })).toBe(false);
    expect(query.test({ personId: [new ObjectId(), new ObjectId(ids[0]!.toHexString())] })).toBe(true);
  });
});

describe('top-level $set, $unset and $inc without mingo', () => {
  const FIELDS = ['a', 'b', 'c', 'status', 'n'];

  function randomDoc(rand: () => number): Document {
    const doc: Document = { _id: 1 };
    for (const field of FIELDS) {
      if (rand() < 0.6) {
        const value = rand() < 0.4 ? Math.floor(rand() * 5) : valueOf(rand);
        if (value !== undefined) doc[field] = value;
      }
    }
    return doc;
  }

  function randomUpdate(rand: () => number): Document {
    const update: Document = {};
    const used = new Set<string>();
    for (const op of ['$set', '$unset', '$inc']) {
      if (rand() < 0.5) continue;
      const fields: Document = {};
      for (const field of FIELDS) {
        if (used.has(field) || rand() < 0.6) continue;
        used.add(field);
        if (op === '$set') {
          const value = valueOf(rand);
          fields[field] = value === undefined ? 7 : value;
        } else if (op === '$unset') fields[field] = '';
        else fields[field] = [0, 1, -1, 2.5][Math.floor(rand() * 4)];
      }
      if (Object.keys(fields).length) update[op] = fields;
    }
    return Object.keys(update).length ? update : { $set: { a: 1 } };
  }

  test('the document, its field order and the modified flag are mingo’s', () => {
    const rand = random(7);
    let modified = 0;
    let unchanged = 0;
    for (let round = 0; round < 3000; round++) {
      const doc = randomDoc(rand);
      const update = randomUpdate(rand);
      // $inc on a value that is not a number is refused before either runs (update-guards.ts).
      const incs = Object.keys((update.$inc as Document | undefined) ?? {});
      if (incs.some((f) => doc[f] !== undefined && typeof doc[f] !== 'number')) continue;
      const before = show(doc);
      const ours = applyUpdate(doc, parseUpdate(update, 'u'));
      expect(show(doc)).toBe(before); // the stored document is never written into
      const target = [cloneDeep(doc) as Document];
      const count = updateOne(target, {}, update as never, { cloneMode: 'deep' }, {
        processingMode: 0,
      } as never);
      const expected = count.modifiedCount > 0 ? target[0]! : doc;
      if (ours.modified !== count.modifiedCount > 0 || show(ours.doc) !== show(expected))
        throw new Error(
          `${show(update)} on ${before}: mingo gives ${show(expected)}, engine ${show(ours.doc)}`,
        );
      expect(Object.keys(ours.doc)).toEqual(Object.keys(expected));
      if (ours.modified) modified++;
      else unchanged++;
    }
    expect(modified).toBeGreaterThan(1000);
    expect(unchanged).toBeGreaterThan(50);
  });
});

describe('aggregations over the stored documents', () => {
  test('a read-only pipeline (no copy) and a writing one (copies) both leave the stored documents as they were', async () => {
    const { startHarness } = await import('./helpers.js');
    const harness = await startHarness();
    try {
      const db = await harness.db();
      const items = db.collection<{ _id: number; group: string; n: number; nested: { k: number } }>('items');
      await items.insertMany([
        { _id: 1, group: 'a', n: 1, nested: { k: 1 } },
        { _id: 2, group: 'a', n: 2, nested: { k: 2 } },
        { _id: 3, group: 'b', n: 3, nested: { k: 3 } },
      ]);
      const grouped = await items
        .aggregate([
          { $match: { n: { $gte: 1 } } },
          { $sort: { n: -1 } },
          { $group: { _id: '$group', docs: { $push: '$$ROOT' }, total: { $sum: '$n' } } },
          { $sort: { _id: 1 } },
        ])
        .toArray();
      expect(grouped.map((g) => [g._id, g.total, g.docs.length])).toEqual([
        ['a', 3, 2],
        ['b', 3, 1],
      ]);
      expect(await items.countDocuments({ group: 'a' })).toBe(2);
      const added = await items
        .aggregate([{ $set: { n: 100, 'nested.k': 100 } }, { $match: { _id: 1 } }])
        .toArray();
      expect(added).toEqual([{ _id: 1, group: 'a', n: 100, nested: { k: 100 } }]);
      expect(await items.find({}, { sort: { _id: 1 } }).toArray()).toEqual([
        { _id: 1, group: 'a', n: 1, nested: { k: 1 } },
        { _id: 2, group: 'a', n: 2, nested: { k: 2 } },
        { _id: 3, group: 'b', n: 3, nested: { k: 3 } },
      ]);
    } finally {
      await harness.close();
    }
  });
});
