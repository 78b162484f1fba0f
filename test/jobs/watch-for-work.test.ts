/**
 * The change-stream watcher against the engine: a stored change wakes its loop; a stream that ends
 * (its collection dropped: invalidate) or cannot open (a standalone server) is logged without
 * secrets and opened again with a growing delay, and each opening wakes its loops once.
 */
import { Writable } from 'node:stream';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import type { Context } from '../../src/context.js';
import { connectDatabase } from '../../src/db/connection.js';
import { servesChangeStreams } from '../../src/db/topology.js';
import type { WorkWatch } from '../../src/jobs/changeWakeups.js';
import { watchForWork } from '../../src/jobs/watchForWork.js';
import { startEngine, type Engine } from '../support/mongo-engine/index.js';
import { waitFor } from '../support/worker-process.js';

const inserts: WorkWatch = {
  model: 'events',
  pipeline: [{ $match: { operationType: 'insert' } }],
  loops: ['process-events'],
  wakes: (change) => (change.operationType === 'insert' ? ['process-events'] : []),
};

async function harness(engine: Engine) {
  const client = await MongoClient.connect(engine.uri, { serverSelectionTimeoutMS: 5000 });
  const collection = client.db('watch').collection('work');
  const woken: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const ctx = {
    models: { events: { collection } },
    jobs: {
      wake: (name: string) => {
        woken.push(name);
        return Promise.resolve();
      },
    },
    logger: pino({ level: 'info' }, sink),
  } as unknown as Context;
  return { client, collection, woken, logs, ctx };
}

describe('watchForWork', () => {
  it('wakes a loop on a stored change, and reopens a stream that ended', async () => {
    const engine = await startEngine({ replicaSet: 'rs-watch' });
    const h = await harness(engine);
    const watcher = watchForWork(h.ctx, [inserts]);
    try {
      // Opening wakes the loop once (work stored while nothing watched is not left for a poll).
      await waitFor('the stream to open', async () => watcher.watching() && h.woken.length === 1, 5000, 20);
      await h.collection.insertOne({ a: 1 });
      await waitFor('the insert to wake the loop', async () => h.woken.length === 2, 5000, 20);
      expect(h.woken).toEqual(['process-events', 'process-events']);

      // Dropping the collection ends the stream (drop, then invalidate): it is opened again.
      await h.collection.drop();
      await waitFor(
        'the watch to be reopened',
        async () => h.logs.some((l) => l.msg?.toString().includes('opening it again')),
        5000,
        20,
      );
      await waitFor('the reopened stream to wake the loop', async () => h.woken.length === 3, 5000, 20);
      await h.collection.insertOne({ a: 2 });
      await waitFor('the insert to wake the loop again', async () => h.woken.length === 4, 5000, 20);
      const warning = h.logs.find((l) => l.level === 40)!;
      expect(warning).toMatchObject({ collection: 'events', retryInMs: 1000 });
    } finally {
      await watcher.stop();
      await h.client.close();
      await engine.close();
    }
  });

  it('on a standalone server, logs each failed opening and tries again with a growing delay', async () => {
    const engine = await startEngine();
    const h = await harness(engine);
    const watcher = watchForWork(h.ctx, [inserts]);
    try {
      await waitFor(
        'two failed openings',
        async () => h.logs.filter((l) => l.level === 40).length >= 2,
        10_000,
        50,
      );
      const warnings = h.logs.filter((l) => l.level === 40);
      expect(warnings.slice(0, 2).map((w) => [w.code, w.retryInMs])).toEqual([
        [40573, 1000],
        [40573, 2000],
      ]);
      expect(watcher.watching()).toBe(false);
      expect(h.woken).toEqual([]);
      // What is logged names the failure, never the connection string.
      expect(JSON.stringify(warnings)).not.toContain(engine.uri);
    } finally {
      await watcher.stop();
      await h.client.close();
      await engine.close();
    }
  });
});

describe('servesChangeStreams', () => {
  it('is true on a replica set and false on a standalone server, as their hello says', async () => {
    const set = await startEngine({ replicaSet: 'rs-ask' });
    const single = await startEngine();
    const [onSet, onSingle] = await Promise.all([connectDatabase(set.uri), connectDatabase(single.uri)]);
    try {
      expect(await servesChangeStreams(onSet)).toBe(true);
      expect(await servesChangeStreams(onSingle)).toBe(false);
    } finally {
      await Promise.all([onSet.close(), onSingle.close()]);
      await Promise.all([set.close(), single.close()]);
    }
  });
});
