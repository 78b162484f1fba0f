/**
 * The planner (test/support/mongo-engine/planner.ts): answers with an index are exactly the
 * answers of a scan (a differential test over random documents, queries and writes), the
 * ordered keys stay in step with the documents, and counters show how little an indexed
 * query looks at. No timings here: speed is in bench/engine.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { EJSON, Long, ObjectId, type Document } from 'bson';
import { runCommand } from '../support/mongo-engine/commands/dispatch.js';
import { Cursors } from '../support/mongo-engine/cursors.js';
import { OrderedIndex } from '../support/mongo-engine/ordered-index.js';
import {
  engineStats,
  resetEngineStats,
  setIndexUse,
  type IndexUse,
} from '../support/mongo-engine/planner.js';
import { Store } from '../support/mongo-engine/store.js';
import { sweepExpired } from '../support/mongo-engine/ttl.js';
import { startHarness, type EngineHarness } from './helpers.js';

/** A small deterministic generator, so a failure can be replayed from its seed. */
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

const OIDS = Array.from({ length: 4 }, (_, i) => new ObjectId(`65${String(i).padStart(22, '0')}`));
const DATES = [new Date(0), new Date(1_000), new Date(2_000), new Date(86_400_000)];
const STRINGS = ['', 'a', 'b', 'B', 'ab', 'é', 'z'];

interface Gen {
  /** Only scalars and missing fields (no arrays, embedded documents, Long, NaN): every sort can use an index. */
  clean: boolean;
  rand: () => number;
  pick<T>(items: readonly T[]): T;
  int(n: number): number;
}

function gen(seed: number, clean = false): Gen {
  const rand = random(seed);
  return {
    clean,
    rand,
    pick: (items) => items[Math.floor(rand() * items.length)],
    int: (n) => Math.floor(rand() * n),
  };
}

/** A scalar a query may use: mostly from small pools, so that equalities hit. */
function scalar(g: Gen): unknown {
  switch (g.int(8)) {
    case 0:
      return null;
    case 1:
      return g.pick(STRINGS);
    case 2:
      return g.pick([true, false]);
    case 3:
      return g.pick(DATES);
    case 4:
      return g.pick(OIDS);
    case 5:
      return g.pick([0, -0, 1.5, -3, 2 ** 40]);
    default:
      return g.int(6);
  }
}

/** A stored value: scalars, arrays (nested, empty), embedded documents, Long, NaN, or nothing. */
function stored(g: Gen, depth = 0): unknown {
  if (g.clean) return g.int(6) ? scalar(g) : undefined;
  const roll = g.int(20);
  if (roll < 11) return scalar(g);
  if (roll < 13 && depth < 2) return Array.from({ length: g.int(4) }, () => stored(g, depth + 1));
  if (roll === 13 && depth < 2) return { x: stored(g, depth + 1), y: g.int(3) };
  if (roll === 14) return Long.fromNumber(g.int(4));
  if (roll === 15) return g.pick([Number.NaN, /a/]);
  return undefined;
}

const FIELDS = ['a', 'b', 'c', 'd'];

function document(g: Gen, n: number): Document {
  const doc: Document = { _id: g.int(4) === 0 ? g.pick([`s${n}`, n * 1.5]) : n };
  for (const field of FIELDS) {
    const value = g.int(3) === 0 && field === 'a' ? g.int(4) : stored(g);
    if (value !== undefined) doc[field] = value;
  }
  if (g.int(3)) {
    doc.e =
      g.int(4) || g.clean
        ? { x: stored(g), z: g.int(3) }
        : Array.from({ length: g.int(3) }, () => ({ x: stored(g) }));
  }
  return doc;
}

const PATHS = ['a', 'b', 'c', 'd', 'e.x', '_id', 'e.z'];

function clause(g: Gen): Document {
  const path = g.pick(PATHS);
  switch (g.int(12)) {
    case 0:
    case 1:
      return { [path]: scalar(g) };
    case 2:
      return { [path]: { $eq: scalar(g) } };
    case 3:
    case 4:
      return { [path]: { $in: Array.from({ length: g.int(4) }, () => scalar(g)) } };
    case 5:
    case 6:
      return { [path]: { [g.pick(['$gt', '$gte', '$lt', '$lte'])]: scalar(g) } };
    case 7: {
      const value = scalar(g);
      return { [path]: { [g.pick(['$gt', '$gte'])]: value, [g.pick(['$lt', '$lte'])]: scalar(g) } };
    }
    case 8:
      return { $or: [clause(g), clause(g)] };
    case 9:
      return { [path]: g.pick([{ $ne: scalar(g) }, { $exists: g.rand() < 0.5 }, { $nin: [scalar(g)] }]) };
    case 10:
      return { $and: [clause(g), clause(g)] };
    default:
      return { [path]: g.pick([[1, 2], { x: 1 }, /^a/, Long.fromNumber(1), { $size: 1 }]) };
  }
}

function filter(g: Gen): Document {
  const out: Document = {};
  const parts = Array.from({ length: g.int(3) + 1 }, () => clause(g));
  // Repeated paths would overwrite each other in one object: keep them apart in $and.
  const and: Document[] = [];
  for (const part of parts) {
    const [key] = Object.keys(part);
    if (key in out) and.push(part);
    else Object.assign(out, part);
  }
  if (and.length) out.$and = [...((out.$and as Document[] | undefined) ?? []), ...and];
  return out;
}

function sort(g: Gen): Document | undefined {
  if (g.int(4) === 0) return undefined;
  const out: Document = {};
  for (let i = g.int(3) + 1; i > 0; i--) out[g.pick(['a', 'b', 'c', 'd', 'e.x', '_id'])] = g.pick([1, -1]);
  return out;
}

const INDEXES: Document[] = [
  { key: { a: 1 }, name: 'a_1' },
  { key: { a: 1, b: -1 }, name: 'a_1_b_-1' },
  { key: { b: 1, c: 1 }, name: 'b_1_c_1' },
  { key: { c: -1 }, name: 'c_-1' },
  { key: { 'e.x': 1, a: 1 }, name: 'e.x_1_a_1' },
  { key: { d: 1 }, name: 'd_sparse', sparse: true },
  { key: { d: -1, a: 1 }, name: 'd_partial', partialFilterExpression: { a: { $gt: 1 } } },
];

/** Two stores with the same writes: one always scanning, one using indexes. */
class Pair {
  readonly scanned = new Store();
  readonly indexed = new Store();
  private readonly cursors = new Cursors();

  run(body: Document, mode: IndexUse = 'always'): { scan: Document; index: Document } {
    setIndexUse('off');
    const scan = runCommand(
      { ...body, $db: 'diff' },
      { store: this.scanned, cursors: this.cursors, connectionId: 1 },
    );
    setIndexUse(mode);
    const index = runCommand(
      { ...body, $db: 'diff' },
      { store: this.indexed, cursors: this.cursors, connectionId: 1 },
    );
    setIndexUse('auto');
    return { scan, index };
  }

  same(body: Document, mode: IndexUse = 'always'): Document {
    const { scan, index } = this.run(body, mode);
    const text = (reply: Document) => EJSON.stringify(reply, { relaxed: false });
    if (text(scan) !== text(index)) {
      throw new Error(
        `differs for ${EJSON.stringify(body)} (${mode})\nscan:  ${text(scan)}\nindex: ${text(index)}`,
      );
    }
    return scan;
  }
}

/** The maintained keys of every index equal a fresh build from the documents. */
function checkKeys(store: Store): void {
  const collection = store.get('diff', 'items');
  if (!collection) return;
  for (const index of collection.indexes) {
    if (!index.ordered) continue;
    const fresh = new OrderedIndex(index.fields, index.spec.key as Document);
    for (const [id, doc] of collection.entries()) fresh.add(id, doc);
    expect(index.ordered.entries.toArray()).toEqual(fresh.entries.toArray());
    expect(index.ordered.unsortable).toEqual(fresh.unsortable);
    expect(index.ordered.multikey).toEqual(fresh.multikey);
  }
}

afterEach(() => setIndexUse('auto'));

describe('answers with an index are the answers of a scan', () => {
  test.each([
    [1, 'mixed'],
    [2, 'mixed'],
    [3, 'mixed'],
    [4, 'scalar'],
    [5, 'scalar'],
  ])('random documents, reads and writes (seed %i, %s values)', (seed, kind) => {
    const g = gen(seed, kind === 'scalar');
    const pair = new Pair();
    pair.same({ createIndexes: 'items', indexes: INDEXES });
    let next = 0;
    for (let batch = 0; batch < 4; batch++) {
      pair.same({ insert: 'items', documents: Array.from({ length: 100 }, () => document(g, next++)) });
    }
    for (let i = 0; i < 400; i++) {
      const mode: IndexUse = g.int(3) === 0 ? 'auto' : 'always';
      const q = filter(g);
      const s = sort(g);
      const limit = g.pick([0, 1, 1, 2, 3, 10]);
      const skip = g.pick([0, 0, 0, 1, 2]);
      switch (g.int(9)) {
        case 0:
        case 1:
        case 2: {
          const body: Document = {
            find: 'items',
            filter: q,
            limit,
            skip,
            singleBatch: true,
            batchSize: 10_000,
          };
          if (s) body.sort = s;
          if (g.int(4) === 0) body.projection = { a: 1, 'e.x': 1 };
          pair.same(body, mode);
          break;
        }
        case 3:
          pair.same({ count: 'items', query: q, ...(g.int(2) ? { limit: 3 } : {}) }, mode);
          pair.same({ distinct: 'items', key: g.pick(['a', 'b', 'e.x']), query: q }, mode);
          break;
        case 4: {
          const pipeline: Document[] = [{ $match: q }];
          if (s) pipeline.push({ $sort: s });
          if (g.int(2)) pipeline.push({ $skip: skip });
          pipeline.push({ $limit: limit || 5 }, { $project: { a: 1, b: 1, c: 1 } });
          pair.same({ aggregate: 'items', pipeline, cursor: { batchSize: 10_000 } }, mode);
          break;
        }
        case 5: {
          const body: Document = g.int(4)
            ? {
                findAndModify: 'items',
                query: q,
                update: { $set: { [g.pick(FIELDS)]: stored(g) } },
                new: g.rand() < 0.5,
              }
            : { findAndModify: 'items', query: q, remove: true };
          if (s) body.sort = s;
          pair.same(body, mode);
          break;
        }
        case 6: {
          const u = { $set: { [g.pick([...FIELDS, 'e.x'])]: stored(g) ?? null } };
          pair.same({ update: 'items', updates: [{ q, u, multi: g.rand() < 0.5 }] }, mode);
          break;
        }
        case 7:
          if (g.int(3) === 0) pair.same({ delete: 'items', deletes: [{ q, limit: g.pick([0, 1]) }] }, mode);
          else pair.same({ insert: 'items', documents: [document(g, next++)] });
          break;
        default:
          // A replacement keeps the record's place and changes every key.
          pair.same({ update: 'items', updates: [{ q, u: document(g, next++), upsert: true }] }, mode);
      }
    }
    // Everything written stayed the same in both stores.
    pair.same({ find: 'items', filter: {}, singleBatch: true, batchSize: 100_000 }, 'off');
    checkKeys(pair.indexed);
  });

  test('the claim query, with locks, ties on receivedAt and both sort directions', () => {
    const g = gen(7);
    const pair = new Pair();
    pair.same({
      createIndexes: 'items',
      indexes: [
        { key: { status: 1, receivedAt: 1 }, name: 'status_1_receivedAt_1' },
        { key: { platformId: 1, eventId: 1 }, name: 'platformId_1_eventId_1', unique: true },
      ],
    });
    const statuses = ['pending', 'processing', 'processed', 'failed'];
    pair.same({
      insert: 'items',
      documents: Array.from({ length: 500 }, (_, i) => ({
        _id: new ObjectId(),
        platformId: g.pick(OIDS),
        eventId: `e${i}`,
        status: g.pick(statuses),
        receivedAt: new Date(g.int(50) * 1000),
        lockedUntil: g.pick([null, null, new Date(10_000), new Date(40_000)]),
        ...(g.int(5) === 0 ? {} : { attempts: g.int(3) }),
      })),
    });
    for (let i = 0; i < 150; i++) {
      const now = new Date(g.int(60) * 1000);
      const dir = g.pick([1, -1]);
      pair.same({
        findAndModify: 'items',
        query: {
          status: { $in: ['pending', 'processing'] },
          $or: [{ lockedUntil: null }, { lockedUntil: { $lte: now } }],
        },
        update: {
          $set: { status: 'processing', lockedUntil: new Date(now.getTime() + 20_000) },
          $inc: { attempts: 1 },
        },
        sort: { receivedAt: dir, _id: dir },
        new: true,
      });
      pair.same({
        find: 'items',
        filter: { status: g.pick(statuses), receivedAt: { $gte: new Date(g.int(50) * 1000) } },
        sort: g.pick([{ receivedAt: 1 }, { receivedAt: -1, _id: 1 }, { status: 1, receivedAt: -1 }]),
        limit: g.pick([1, 5, 50]),
        singleBatch: true,
      });
      pair.same({
        update: 'items',
        updates: [
          {
            q: { status: 'processing', lockedUntil: { $lt: now } },
            u: { $set: { status: 'processed' } },
            multi: true,
          },
        ],
      });
    }
    pair.same({ find: 'items', filter: {}, singleBatch: true, batchSize: 100_000 }, 'off');
    checkKeys(pair.indexed);
  });
});

describe('what an indexed query looks at', () => {
  const store = new Store();
  const cursors = new Cursors();
  const run = (body: Document) => runCommand({ ...body, $db: 'stats' }, { store, cursors, connectionId: 1 });

  beforeAll(() => {
    run({
      createIndexes: 'events',
      indexes: [
        { key: { status: 1, receivedAt: 1 }, name: 'status_1_receivedAt_1' },
        { key: { eventId: 1 }, name: 'eventId_1', unique: true },
      ],
    });
    const documents = Array.from({ length: 10_000 }, (_, i) => ({
      eventId: `e${i}`,
      status: i % 1000 === 0 ? 'pending' : 'processed',
      receivedAt: new Date(i * 1000),
      lockedUntil: null,
    }));
    expect(run({ insert: 'events', documents }).n).toBe(10_000);
  });

  test('an equality on an indexed field among 10,000 documents examines one', () => {
    resetEngineStats();
    const reply = run({ find: 'events', filter: { eventId: 'e4242' }, singleBatch: true });
    expect(reply.cursor.firstBatch.map((d: Document) => d.eventId)).toEqual(['e4242']);
    expect(engineStats).toMatchObject({ docsExamined: 1, keysExamined: 1, lastPlan: 'IXSCAN eventId_1' });
    resetEngineStats();
    expect(run({ count: 'events', query: { eventId: { $in: ['e1', 'e2', 'nope'] } } }).n).toBe(2);
    expect(engineStats.docsExamined).toBe(2);
    // A top-level $or whose branches all have an index reads the union.
    resetEngineStats();
    const either = {
      $or: [{ eventId: 'e7' }, { status: 'pending', receivedAt: { $lt: new Date(2_000_000) } }],
    };
    expect(run({ count: 'events', query: either }).n).toBe(3);
    expect(engineStats).toMatchObject({
      docsExamined: 3,
      lastPlan: 'OR IXSCAN eventId_1, IXSCAN status_1_receivedAt_1',
    });
  });

  test('the claim examines the first pending event only, in receivedAt order', () => {
    resetEngineStats();
    const reply = run({
      findAndModify: 'events',
      query: {
        status: { $in: ['pending', 'processing'] },
        $or: [{ lockedUntil: null }, { lockedUntil: { $lte: new Date() } }],
      },
      update: { $set: { status: 'processing', lockedUntil: new Date(Date.now() + 60_000) } },
      sort: { receivedAt: 1, _id: 1 },
      new: true,
    });
    expect(reply.value.eventId).toBe('e0');
    expect(engineStats).toMatchObject({ docsExamined: 1, lastPlan: 'IXSCAN status_1_receivedAt_1 SORT' });
    // The next claim skips the locked event: it looks at two, not at 10,000.
    resetEngineStats();
    const second = run({
      findAndModify: 'events',
      query: {
        status: { $in: ['pending', 'processing'] },
        $or: [{ lockedUntil: null }, { lockedUntil: { $lte: new Date() } }],
      },
      update: { $set: { status: 'processing' } },
      sort: { receivedAt: 1, _id: 1 },
    });
    expect(second.value.eventId).toBe('e1000');
    expect(engineStats.docsExamined).toBe(2);
  });

  test('a range and a sort with a limit stop early; a scan examines everything', () => {
    resetEngineStats();
    const reply = run({
      find: 'events',
      filter: { status: 'processed', receivedAt: { $gt: new Date(5_000_000) } },
      sort: { receivedAt: -1 },
      limit: 3,
      singleBatch: true,
    });
    expect(reply.cursor.firstBatch.map((d: Document) => d.eventId)).toEqual(['e9999', 'e9998', 'e9997']);
    expect(engineStats.docsExamined).toBe(3);
    resetEngineStats();
    setIndexUse('off');
    run({ find: 'events', filter: { eventId: 'e1' }, singleBatch: true });
    expect(engineStats).toMatchObject({ docsExamined: 10_000, lastPlan: 'COLLSCAN' });
  });

  test('aggregate uses the index for its leading $match', () => {
    resetEngineStats();
    const reply = run({
      aggregate: 'events',
      pipeline: [{ $match: { status: 'pending' } }, { $group: { _id: null, n: { $sum: 1 } } }],
      cursor: {},
    });
    expect(reply.cursor.firstBatch[0].n).toBe(8);
    expect(engineStats.docsExamined).toBe(8);
  });

  test('the TTL monitor removes what a scan would, through the index', () => {
    const ttl = new Store();
    const send = (body: Document) =>
      runCommand({ ...body, $db: 'ttl' }, { store: ttl, cursors, connectionId: 1 });
    send({ createIndexes: 'states', indexes: [{ key: { at: -1 }, name: 'at_-1', expireAfterSeconds: 10 }] });
    const documents = [
      { _id: 'old', at: new Date(1_000) },
      { _id: 'new', at: new Date(95_000) },
      { _id: 'edge', at: new Date(90_000) },
      { _id: 'array', at: [new Date(99_000), new Date(5_000)] },
      { _id: 'nested', at: [[new Date(1_000)]] },
      { _id: 'text', at: 'yesterday' },
      { _id: 'none' },
      ...Array.from({ length: 1000 }, (_, i) => ({ _id: i, at: new Date(200_000 + i) })),
    ];
    send({ insert: 'states', documents });
    expect(sweepExpired(ttl, 100_000)).toBe(3);
    const left = send({ find: 'states', filter: { _id: { $type: 'string' } }, singleBatch: true });
    expect(left.cursor.firstBatch.map((d: Document) => d._id)).toEqual(['new', 'nested', 'text', 'none']);
  });

  test('a non-simple collation, a sparse or a hidden index is not used', () => {
    resetEngineStats();
    run({
      find: 'events',
      filter: { eventId: 'e1' },
      collation: { locale: 'en', strength: 2 },
      singleBatch: true,
    });
    expect(engineStats.lastPlan).toBe('COLLSCAN');
    run({ createIndexes: 'events', indexes: [{ key: { attempts: 1 }, name: 'attempts_1', sparse: true }] });
    resetEngineStats();
    run({ find: 'events', filter: { attempts: 1 }, singleBatch: true });
    expect(engineStats.lastPlan).toBe('COLLSCAN');
  });
});

describe('through the driver', () => {
  let harness: EngineHarness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness.close();
  });

  test('indexes follow inserts, updates, deletes, dropIndexes and drop', async () => {
    const db = await harness.db();
    const items = db.collection('items');
    await items.createIndex({ k: 1 });
    await items.insertMany(Array.from({ length: 2000 }, (_, i) => ({ k: i % 100, i })));
    resetEngineStats();
    expect(await items.countDocuments({ k: 7 })).toBe(20);
    expect(engineStats.docsExamined).toBe(20);
    await items.updateMany({ k: 7 }, { $set: { k: 700 } });
    await items.deleteMany({ k: 8 });
    resetEngineStats();
    expect(await items.countDocuments({ k: { $in: [7, 8, 700] } })).toBe(20);
    expect(engineStats.docsExamined).toBe(20);
    expect(
      (
        await items
          .find({ k: { $gte: 99 } })
          .sort({ k: -1 })
          .limit(2)
          .toArray()
      ).map((d) => d.k),
    ).toEqual([700, 700]);
    await items.dropIndex('k_1');
    resetEngineStats();
    expect(await items.countDocuments({ k: 700 })).toBe(20);
    expect(engineStats.lastPlan).toBe('COLLSCAN');
    await items.drop();
    await items.createIndex({ k: 1 });
    await items.insertOne({ k: 700 });
    expect(await items.countDocuments({ k: 700 })).toBe(1);
  });
});
