/**
 * The engine in replica-set mode, through the real mongodb driver: hello as a single-member set,
 * change streams (collection.watch()) with their events, resume tokens and awaitData getMores,
 * retryable writes, and a stepdown as a driver sees a failover. Standalone, change streams are
 * refused as a standalone mongod refuses them.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import {
  BSON,
  Binary,
  Long,
  MongoClient,
  Timestamp,
  type ChangeStreamDocument,
  type Document,
} from 'mongodb';
import { startEngine, type CommandEvent, type Engine } from '../support/mongo-engine/index.js';

let engine: Engine;
let client: MongoClient;
const commands: CommandEvent[] = [];
let dbCounter = 0;
const freshDb = () => client.db(`streams_${++dbCounter}`);

beforeAll(async () => {
  engine = await startEngine({ replicaSet: 'rs-test', onCommand: (e) => commands.push(e) });
  client = new MongoClient(engine.uri, { serverSelectionTimeoutMS: 20_000 });
  await client.connect();
});
afterAll(async () => {
  await client.close();
  await engine.close();
});

/** One command sent on a connection of its own as OP_MSG, without a driver choosing a read preference. */
function rawCommand(body: Document): Promise<Document> {
  const payload = Buffer.concat([Buffer.alloc(5), Buffer.from(BSON.serialize(body))]);
  const head = Buffer.alloc(16);
  head.writeInt32LE(16 + payload.length, 0);
  head.writeInt32LE(1, 4);
  head.writeInt32LE(2013, 12);
  return new Promise((resolve, reject) => {
    const socket = net.connect(engine.port, '127.0.0.1', () => socket.write(Buffer.concat([head, payload])));
    let got = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= got.readInt32LE(0)) {
        socket.destroy();
        resolve(BSON.deserialize(got.subarray(21)));
      }
    });
    socket.on('error', reject);
  });
}

/** The next `n` changes of a stream, or an error after `ms`. */
async function next<T extends Document>(
  stream: AsyncIterable<T> & { next(): Promise<T> },
  n: number,
  ms = 5000,
) {
  const out: T[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    if (Date.now() > deadline) throw new Error(`only ${out.length} of ${n} changes within ${ms} ms`);
    out.push(await stream.next());
  }
  return out;
}

describe('hello and replies', () => {
  it('answers as the primary of a one-member replica set, and the driver sees one', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    const host = `127.0.0.1:${engine.port}`;
    expect(hello).toMatchObject({
      isWritablePrimary: true,
      secondary: false,
      setName: 'rs-test',
      setVersion: 1,
      hosts: [host],
      primary: host,
      me: host,
      maxWireVersion: 21,
      ok: 1,
    });
    expect(hello.electionId.toHexString()).toBe('7fffffff0000000000000001');
    expect(hello.operationTime).toBeInstanceOf(Timestamp);
    expect(hello.$clusterTime.clusterTime).toBeInstanceOf(Timestamp);
    expect(Number(hello.$clusterTime.signature.keyId)).toBe(0);
    const type = (client as unknown as { topology: { description: { type: string } } }).topology.description
      .type;
    expect(type).toBe('ReplicaSetWithPrimary');
  });

  it('moves the cluster time forward with every write', async () => {
    const db = freshDb();
    const first = await db.command({ insert: 'c', documents: [{ a: 1 }] });
    const second = await db.command({ insert: 'c', documents: [{ a: 2 }] });
    expect(second.operationTime.compare(first.operationTime)).toBe(1);
  });

  it('answers a retried write (same session and txnNumber) once, without applying it twice', async () => {
    const db = freshDb();
    const lsid = { id: new Binary(Buffer.from(randomUUID().replace(/-/g, ''), 'hex'), 4) };
    const write = { insert: 'once', documents: [{ _id: 1 }], lsid, txnNumber: Long.fromNumber(7) };
    const first = await db.command(write);
    const again = await db.command(write);
    expect(first.n).toBe(1);
    expect(again.n).toBe(1);
    expect(await db.collection('once').countDocuments()).toBe(1);
    // A new txnNumber is a new write: the duplicate key shows it ran.
    const next = await db.command({ ...write, txnNumber: Long.fromNumber(8) });
    expect(next.writeErrors[0].code).toBe(11000);
  });

  it('refuses multi-document transactions and txnNumber on a read', async () => {
    const db = freshDb();
    const lsid = { id: new Binary(Buffer.alloc(16, 3), 4) };
    await expect(
      db.command({
        insert: 't',
        documents: [{}],
        lsid,
        txnNumber: Long.ONE,
        autocommit: false,
        startTransaction: true,
      }),
    ).rejects.toMatchObject({ code: 115 });
    await expect(db.command({ find: 't', lsid, txnNumber: Long.ONE })).rejects.toMatchObject({ code: 50768 });
  });
});

describe('sessions', () => {
  it('serves a causally consistent session (reads after the session’s cluster time)', async () => {
    const db = freshDb();
    const session = client.startSession({ causalConsistency: true });
    try {
      await db.collection('causal').insertOne({ n: 1 }, { session });
      const found = await db.collection('causal').find({}, { session }).toArray();
      expect(found.map((d) => d.n)).toEqual([1]);
    } finally {
      await session.endSession();
    }
    const read = commands.filter((c) => c.name === 'find' && c.body.find === 'causal').pop()!;
    // The engine decodes with its own bson package: compare by BSON type.
    expect((read.body.readConcern as Document).afterClusterTime._bsontype).toBe('Timestamp');
    expect(read.body.$clusterTime).toBeDefined();
  });
});

describe('change streams', () => {
  it('reports inserts, updates, replacements and deletes in order', async () => {
    const coll = freshDb().collection('learners');
    const stream = coll.watch();
    await stream.tryNext(); // opens the cursor (the driver is lazy)
    await coll.insertOne({
      _id: 'ada' as never,
      name: 'Ada',
      tags: ['a', 'b', 'c'],
      address: { city: 'X', zip: 1 },
    });
    await coll.updateOne(
      { _id: 'ada' as never },
      { $set: { 'address.city': 'Y', tags: ['a', 'z'] }, $unset: { name: '' }, $inc: { visits: 1 } },
    );
    await coll.replaceOne({ _id: 'ada' as never }, { name: 'Ada L.' });
    await coll.deleteOne({ _id: 'ada' as never });
    const [insert, update, replace, remove] = (await next(stream, 4)) as ChangeStreamDocument[] as Document[];
    const ns = { db: coll.dbName, coll: 'learners' };
    expect(insert).toMatchObject({
      operationType: 'insert',
      ns,
      documentKey: { _id: 'ada' },
      fullDocument: { _id: 'ada', name: 'Ada', tags: ['a', 'b', 'c'], address: { city: 'X', zip: 1 } },
    });
    expect(Object.keys(insert)).toEqual([
      '_id',
      'operationType',
      'clusterTime',
      'wallTime',
      'fullDocument',
      'ns',
      'documentKey',
    ]);
    expect(update).toMatchObject({ operationType: 'update', ns, documentKey: { _id: 'ada' } });
    expect(update.fullDocument).toBeUndefined();
    expect(update.updateDescription).toEqual({
      updatedFields: { 'address.city': 'Y', 'tags.1': 'z', visits: 1 },
      removedFields: ['name'],
      truncatedArrays: [{ field: 'tags', newSize: 2 }],
    });
    expect(replace).toMatchObject({ operationType: 'replace', fullDocument: { _id: 'ada', name: 'Ada L.' } });
    expect(remove).toMatchObject({ operationType: 'delete', ns, documentKey: { _id: 'ada' } });
    expect(remove.fullDocument).toBeUndefined();
    const times = [insert, update, replace, remove].map((e) => e.clusterTime as Timestamp);
    for (let i = 1; i < times.length; i++) expect(times[i].compare(times[i - 1])).toBe(1);
    // Resume tokens sort in stream order, as mongod's do.
    const tokens = [insert, update, replace, remove].map((e) => (e._id as { _data: string })._data);
    expect([...tokens].sort()).toEqual(tokens);
    await stream.close();
  });

  it('looks up the current document for updates with fullDocument: updateLookup', async () => {
    const coll = freshDb().collection('lookup');
    await coll.insertOne({ _id: 1 as never, n: 1 });
    const stream = coll.watch([], { fullDocument: 'updateLookup' });
    await stream.tryNext();
    await coll.updateOne({ _id: 1 as never }, { $inc: { n: 1 } });
    const [update] = (await next(stream, 1)) as Document[];
    expect(update.fullDocument).toEqual({ _id: 1, n: 2 });
    expect(update.updateDescription.updatedFields).toEqual({ n: 2 });
    await stream.close();
  });

  it('runs a $match and $project after $changeStream on each event', async () => {
    const coll = freshDb().collection('filtered');
    const stream = coll.watch([
      { $match: { 'fullDocument.keep': true } },
      { $project: { operationType: 1, 'fullDocument.n': 1 } },
    ]);
    await stream.tryNext();
    await coll.insertMany([
      { n: 1, keep: false },
      { n: 2, keep: true },
      { n: 3, keep: false },
      { n: 4, keep: true },
    ]);
    const events = (await next(stream, 2)) as Document[];
    expect(events.map((e) => e.fullDocument)).toEqual([{ n: 2 }, { n: 4 }]);
    expect(Object.keys(events[0]).sort()).toEqual(['_id', 'fullDocument', 'operationType']);
    await stream.close();
  });

  it('refuses what mongod refuses in a change stream pipeline', async () => {
    const db = freshDb();
    const run = (pipeline: Document[]) => db.command({ aggregate: 'c', pipeline, cursor: {} });
    await expect(run([{ $changeStream: {} }, { $group: { _id: null } }])).rejects.toMatchObject({
      code: 20,
      message: '$group is not permitted in a $changeStream pipeline',
    });
    await expect(run([{ $match: {} }, { $changeStream: {} }])).rejects.toMatchObject({ code: 40602 });
    await expect(run([{ $changeStream: { fullDocument: 'required' } }])).rejects.toMatchObject({ code: 115 });
    // An event whose _id (its resume token) the pipeline changed cannot be returned.
    const stream = db.collection('c').watch([{ $set: { _id: 'mine' } }]);
    await stream.tryNext();
    await db.collection('c').insertOne({ a: 1 });
    await expect(next(stream, 1)).rejects.toMatchObject({ code: 280 });
    await stream.close().catch(() => undefined);
  });

  it('resumes after a token, at an operation time, and after a postBatchResumeToken', async () => {
    const coll = freshDb().collection('resume');
    const stream = coll.watch();
    await stream.tryNext();
    await coll.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const [first, second, third] = (await next(stream, 3)) as Document[];
    await stream.close();

    const after = coll.watch([], { resumeAfter: first._id });
    expect(((await next(after, 2)) as Document[]).map((e) => e.fullDocument.n)).toEqual([2, 3]);
    await after.close();

    const at = coll.watch([], { startAtOperationTime: second.clusterTime });
    expect(((await next(at, 2)) as Document[]).map((e) => e.fullDocument.n)).toEqual([2, 3]);
    await at.close();

    const startAfter = coll.watch([], { startAfter: third._id });
    await startAfter.tryNext();
    await coll.insertOne({ n: 4 });
    expect(((await next(startAfter, 1)) as Document[])[0].fullDocument.n).toBe(4);
    // With nothing new, the stream's token is the batch's high-water mark, and resuming from it
    // returns only what comes later.
    await startAfter.tryNext();
    const mark = startAfter.resumeToken;
    await startAfter.close();
    await coll.insertOne({ n: 5 });
    const fromMark = coll.watch([], { resumeAfter: mark });
    expect(((await next(fromMark, 1)) as Document[])[0].fullDocument.n).toBe(5);
    await fromMark.close();
  });

  it('refuses a token of an event it never had', async () => {
    const coll = freshDb().collection('unknown');
    const bad = coll.watch([], { resumeAfter: { _data: '826B00000000000000101' } });
    await expect(bad.tryNext()).rejects.toMatchObject({ code: 2 });
    const missing = coll.watch([], { resumeAfter: { _data: '8200000001000000FF01' } });
    await expect(missing.tryNext()).rejects.toMatchObject({
      code: 280,
      errorLabelSet: new Set(['NonResumableChangeStreamError']),
    });
  });

  it('waits for new events in getMore up to maxTimeMS, and answers as soon as one comes', async () => {
    const db = freshDb();
    const opened = await db.command({ aggregate: 'wait', pipeline: [{ $changeStream: {} }], cursor: {} });
    const id = opened.cursor.id as Long;
    expect(opened.cursor.firstBatch).toEqual([]);
    expect(opened.cursor.postBatchResumeToken._data).toMatch(/^82/);
    let started = Date.now();
    const empty = await db.command({ getMore: id, collection: 'wait', maxTimeMS: 400 });
    const waited = Date.now() - started;
    expect(empty.cursor.nextBatch).toEqual([]);
    expect(empty.cursor.id).toEqual(id);
    expect(waited).toBeGreaterThanOrEqual(380);
    started = Date.now();
    const writer = await MongoClient.connect(engine.uri, { directConnection: true });
    setTimeout(() => void writer.db(db.databaseName).collection('wait').insertOne({ late: true }), 150);
    const woken = await db.command({ getMore: id, collection: 'wait', maxTimeMS: 5000 });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(woken.cursor.nextBatch).toHaveLength(1);
    expect(woken.cursor.nextBatch[0].fullDocument.late).toBe(true);
    expect(woken.cursor.postBatchResumeToken).toEqual(woken.cursor.nextBatch[0]._id);
    await writer.close();
    const killed = await db.command({ killCursors: 'wait', cursors: [id] });
    expect(killed.cursorsKilled).toEqual([id]);
    await expect(db.command({ getMore: id, collection: 'wait' })).rejects.toMatchObject({ code: 43 });
  });

  it('watches a whole database: changes of every collection in it, none of another', async () => {
    const db = freshDb();
    const other = freshDb();
    const stream = db.watch();
    await stream.tryNext();
    await other.collection('x').insertOne({ elsewhere: true });
    await db.collection('one').insertOne({ n: 1 });
    await db.collection('two').insertOne({ n: 2 });
    const events = (await next(stream, 2)) as Document[];
    expect(events.map((e) => [e.ns.coll, e.fullDocument.n])).toEqual([
      ['one', 1],
      ['two', 2],
    ]);
    await stream.close();
  });

  it('ends a collection’s stream with drop and invalidate when the collection is dropped', async () => {
    const db = freshDb();
    await db.collection('doomed').insertOne({ a: 1 });
    const stream = db.collection('doomed').watch();
    await stream.tryNext();
    await db.collection('doomed').drop();
    const [drop, invalidate] = (await next(stream, 2)) as Document[];
    expect(drop).toMatchObject({ operationType: 'drop', ns: { db: db.databaseName, coll: 'doomed' } });
    expect(invalidate.operationType).toBe('invalidate');
    // startAfter an invalidate starts a new stream; resumeAfter one is refused, as in mongod.
    await expect(
      db.collection('doomed').watch([], { resumeAfter: invalidate._id }).tryNext(),
    ).rejects.toMatchObject({
      code: 260,
    });
    const again = db.collection('doomed').watch([], { startAfter: invalidate._id });
    await again.tryNext();
    await db.collection('doomed').insertOne({ reborn: true });
    expect(((await next(again, 1)) as Document[])[0].fullDocument.reborn).toBe(true);
    await again.close();
  });

  it('is resumed by the driver with its token when its connections drop: nothing lost, nothing twice', async () => {
    const coll = freshDb().collection('dropped');
    const stream = coll.watch([], { maxAwaitTimeMS: 300 });
    await stream.tryNext();
    await coll.insertMany([{ n: 1 }, { n: 2 }]);
    const before = (await next(stream, 2)) as Document[];
    const aggregates = commands.filter(
      (c) => c.name === 'aggregate' && c.body.aggregate === 'dropped',
    ).length;
    // A getMore is waiting for the next events when the client's connections drop (its monitor's
    // connection, which only says hello, stays up).
    const pending = next(stream, 2, 15_000);
    await new Promise((r) => setTimeout(r, 100));
    const used = new Set(
      commands.filter((c) => !/^(hello|isMaster|ismaster)$/.test(c.name)).map((c) => c.connectionId),
    );
    engine.dropConnections((id) => used.has(id));
    await coll.insertMany([{ n: 3 }, { n: 4 }]);
    const after = (await pending) as Document[];
    expect([...before, ...after].map((e) => e.fullDocument.n)).toEqual([1, 2, 3, 4]);
    const resumed = commands.filter((c) => c.name === 'aggregate' && c.body.aggregate === 'dropped');
    expect(resumed.length).toBe(aggregates + 1);
    const stage = (resumed[resumed.length - 1].body.pipeline as Document[])[0].$changeStream as Document;
    expect(stage.resumeAfter).toEqual({ _data: expect.stringMatching(/^82/) });
    await stream.close();
  });
});

describe('a stepdown (failover)', () => {
  it('refuses writes and primary reads while stepped down, then comes back with a new election', async () => {
    const db = freshDb();
    await db.collection('f').insertOne({ n: 1 });
    const direct = await MongoClient.connect(engine.uri, { directConnection: true, retryWrites: false });
    const ddb = direct.db(db.databaseName);
    const lsid = { id: new Binary(Buffer.alloc(16, 9), 4) };
    engine.stepDown(1500);
    try {
      const hello = await direct.db('admin').command({ hello: 1 });
      expect(hello).toMatchObject({ isWritablePrimary: false, secondary: true, setName: 'rs-test' });
      expect(hello.primary).toBeUndefined();
      await expect(
        ddb.command({ insert: 'f', documents: [{ n: 2 }], lsid, txnNumber: Long.ONE }),
      ).rejects.toMatchObject({ code: 10107, errorLabels: ['RetryableWriteError'] });
      // Drivers never send a primary read to a secondary; a raw command does.
      expect(await rawCommand({ find: 'f', $db: db.databaseName })).toMatchObject({ ok: 0, code: 13435 });
      // A read that accepts a secondary still works.
      const found = await ddb.command({ find: 'f', $readPreference: { mode: 'secondaryPreferred' } });
      expect(found.cursor.firstBatch).toHaveLength(1);
      // The driver's own write waits for a primary and is then applied once.
      const started = Date.now();
      await db.collection('f').insertOne({ n: 3 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      const back = await direct.db('admin').command({ hello: 1 });
      expect(back.isWritablePrimary).toBe(true);
      expect(back.electionId.toHexString()).toBe('7fffffff0000000000000002');
      expect(await db.collection('f').countDocuments()).toBe(2);
    } finally {
      await direct.close();
    }
  });
});

describe('streaming hello', () => {
  it('tells a driver’s streaming monitor of a stepdown and of the new election at once', async () => {
    const watched = new MongoClient(engine.uri, { serverSelectionTimeoutMS: 20_000 });
    const seen: { at: number; type: string }[] = [];
    const awaited: boolean[] = [];
    watched.on('serverHeartbeatSucceeded', (e) => awaited.push(e.awaited));
    watched.on('serverDescriptionChanged', (e) => seen.push({ at: Date.now(), type: e.newDescription.type }));
    await watched.connect();
    try {
      // Past the first heartbeat, the monitor's hello waits on the server (heartbeatFrequencyMS: 10 s).
      await new Promise((r) => setTimeout(r, 300));
      const steppedAt = Date.now();
      engine.stepDown(700);
      await new Promise((r) => setTimeout(r, 1200));
      const types = seen.filter((s) => s.at >= steppedAt).map((s) => s.type);
      expect(types).toEqual(['RSSecondary', 'RSPrimary']);
      // Both seen long before a polling monitor's next check (10 s).
      expect(seen[seen.length - 1].at - steppedAt).toBeLessThan(1100);
      expect(awaited).toContain(true);
    } finally {
      await watched.close();
    }
  });
});

describe('a standalone engine', () => {
  it('refuses change streams as a standalone mongod does', async () => {
    const standalone = await startEngine();
    const c = await MongoClient.connect(standalone.uri);
    try {
      const hello = await c.db('admin').command({ hello: 1 });
      expect(hello.setName).toBeUndefined();
      await expect(c.db('s').collection('c').watch().tryNext()).rejects.toMatchObject({ code: 40573 });
      await expect(
        c.db('s').command({
          insert: 'c',
          documents: [{}],
          lsid: { id: new Binary(Buffer.alloc(16), 4) },
          txnNumber: Long.ONE,
        }),
      ).rejects.toMatchObject({ code: 20 });
    } finally {
      await c.close();
      await standalone.close();
    }
  });
});
