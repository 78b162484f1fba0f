/**
 * The other clients the application uses, end to end: Agenda 6 with its MongoDB backend, and
 * ltijs's own database layer on the mongoose 7 / mongodb 5 it bundles.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda } from 'agenda';
import { ObjectId } from 'mongodb';
import { eventually, startHarness, type EngineHarness } from './helpers.js';

let harness: EngineHarness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

function commandsTo(db: string): string[] {
  return [...new Set(harness.commands.filter((c) => c.db === db).map((c) => c.name))].sort();
}

test('an Agenda 6 job scheduled with now() runs to completion', async () => {
  const agenda = new Agenda({
    backend: new MongoBackend({ address: `${harness.uri}agenda_test` }),
    processEvery: 100,
    // Agenda re-checks a running job's lock after half its lifetime (5 minutes by default),
    // and that pending timer would outlive the test.
    defaultLockLifetime: 1000,
  });
  const seen: unknown[] = [];
  agenda.define('award-badge', async (job) => {
    seen.push(job.attrs.data);
  });
  const completed = new Promise<void>((resolve) => agenda.once('complete:award-badge', () => resolve()));
  await agenda.start();
  try {
    const job = await agenda.now('award-badge', { learner: 'ada', badge: 'gold' });
    await completed;
    expect(seen).toEqual([{ learner: 'ada', badge: 'gold' }]);
    const jobs = (await harness.client()).db('agenda_test').collection('agendaJobs');
    const finished = await eventually(
      async () =>
        (await jobs.findOne({ _id: new ObjectId(String(job.attrs._id)) }))?.lastFinishedAt instanceof Date,
    );
    expect(finished).toBe(true);
    const stored = await jobs.findOne({ name: 'award-badge' });
    expect(stored).toMatchObject({ name: 'award-badge', data: { learner: 'ada', badge: 'gold' } });
    expect(stored?.lastRunAt).toBeInstanceOf(Date);
    expect(stored?.failReason ?? null).toBeNull();
    const indexes = (await jobs.listIndexes().toArray()).map((i) => i.name);
    expect(indexes).toContain('findAndLockNextJobIndex');
  } finally {
    await agenda.stop();
  }
  expect(commandsTo('agenda_test')).toEqual(
    expect.arrayContaining(['createIndexes', 'findAndModify', 'insert']),
  );
});

interface LtiDatabase {
  setup(): Promise<boolean>;
  Close(): Promise<boolean>;
  Get(key: string | false, collection: string, query?: object): Promise<Record<string, unknown>[] | false>;
  Insert(key: string | false, collection: string, item: object, index?: object): Promise<boolean>;
  Replace(
    key: string | false,
    collection: string,
    query: object,
    item: object,
    index?: object,
  ): Promise<boolean>;
  Delete(collection: string, query: object): Promise<boolean>;
}

test("ltijs's database layer (bundled mongoose 7) connects, upserts and reads back", async () => {
  const require = createRequire(import.meta.url);
  const ltijsRoot = path.dirname(require.resolve('ltijs/package.json'));
  const mongoose7 = require(require.resolve('mongoose', { paths: [path.join(ltijsRoot, 'dist')] })) as {
    version: string;
  };
  expect(mongoose7.version).toMatch(/^7\./);
  const Database = require(path.join(ltijsRoot, 'dist/Utils/Database.js')) as new (options: {
    url: string;
  }) => LtiDatabase;
  const database = new Database({ url: `${harness.uri}ltijs_test` });
  await database.setup();
  try {
    // Replacements with upsert and no _id, as ltijs writes nearly everything.
    await database.Replace(false, 'platformStatus', { id: 'p1' }, { id: 'p1', active: true });
    await database.Replace(false, 'platformStatus', { id: 'p2' }, { id: 'p2', active: false });
    await database.Replace(false, 'platformStatus', { id: 'p1' }, { id: 'p1', active: false });
    await database.Replace(
      'secret',
      'privatekey',
      { kid: 'k1' },
      { key: 'pem' },
      { kid: 'k1', platformUrl: 'u', clientId: 'c' },
    );
    // ltijs hands back mongoose documents; their JSON form is what its callers read.
    const plain = async (key: string | false, collection: string, query: object) =>
      JSON.parse(JSON.stringify(await database.Get(key, collection, query))) as unknown;
    expect(await plain(false, 'platformStatus', {})).toEqual([
      { id: 'p1', active: false },
      { id: 'p2', active: false },
    ]);
    expect(await plain('secret', 'privatekey', { kid: 'k1' })).toEqual([{ key: 'pem' }]);
    await database.Insert(false, 'nonce', { nonce: 'n1' });
    expect(await database.Get(false, 'nonce', { nonce: 'n1' })).toHaveLength(1);
    await database.Delete('nonce', { nonce: 'n1' });
    expect(await database.Get(false, 'nonce', { nonce: 'n1' })).toBe(false);
    // Its clean-up after a failed key generation filters on a missing field with null.
    await database.Delete('privatekey', { kid: null });
    expect(await database.Get('secret', 'privatekey', {})).toHaveLength(1);
  } finally {
    await database.Close();
  }
  const db = (await harness.client()).db('ltijs_test');
  const statuses = await db.collection('platformstatuses').find({}).toArray();
  expect(statuses.map((s) => s._id)).toEqual([expect.any(ObjectId), expect.any(ObjectId)]);
  expect(String(statuses[0]._id)).not.toBe(String(statuses[1]._id));
  const nonceIndexes = await db.collection('nonces').listIndexes().toArray();
  expect(nonceIndexes).toEqual(
    expect.arrayContaining([expect.objectContaining({ key: { createdAt: 1 }, expireAfterSeconds: 10 })]),
  );
  const sent = commandsTo('ltijs_test');
  expect(sent).toEqual(
    expect.arrayContaining(['create', 'createIndexes', 'find', 'insert', 'update', 'delete']),
  );
  // What the toolchain notes measured: nothing beyond these (plus the handshake on admin).
  expect(
    sent.filter(
      (name) =>
        !['create', 'createIndexes', 'find', 'insert', 'update', 'delete', 'listIndexes'].includes(name),
    ),
  ).toEqual([]);
});
