/**
 * Wake-ups across processes: a `web` process stores learning events, a `worker` process (a child
 * process, as in production) processes them and issues the badges. On a replica set the worker's
 * change streams wake it at once, although its Agenda polls only once a minute; on a
 * standalone server it finds them at its next poll, as before.
 */
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { Types } from 'mongoose';
import { admin, event, registerTestPlatform, sendEvents, type TestPlatformRecord } from '../support/api.js';
import { withDatabase, type TestDatabase } from '../support/database.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { startEngine } from '../support/mongo-engine/index.js';
import { spawnWorker, waitFor, type WorkerProcess } from '../support/worker-process.js';

jest.setTimeout(180_000);

/**
 * The longest poll interval Laurel accepts: a worker polls when it starts and then a minute later,
 * so work done within seconds was not found by a poll.
 */
const NEVER_MS = '60000';

type School = {
  t: TestLaurel;
  platform: TestPlatformRecord & { oid: Types.ObjectId };
  worker: WorkerProcess;
  complete(learners: number, prefix: string): Promise<void>;
  issued(): Promise<number>;
  close(): Promise<void>;
};

async function openSchool(options: { replicaSet: boolean; workerPollMs: string }): Promise<School> {
  const engine = await startEngine(options.replicaSet ? { replicaSet: 'rs0' } : {});
  const uri = withDatabase(engine.uri, `laurel_test_${randomBytes(6).toString('hex')}`);
  const db: TestDatabase = { uri, kind: 'engine', description: 'engine', stop: () => engine.close() };
  const t = await startTestLaurel({ LAUREL_ROLE: 'web', JOBS_PROCESS_EVERY_MS: NEVER_MS }, { db });
  const registered = await registerTestPlatform(t);
  const platform = { ...registered, oid: new Types.ObjectId(registered.id) };
  const template = await admin(t, 'POST', '/templates', {
    platformId: platform.id,
    courseId: 'wake-101',
    name: 'Woken',
    groups: [{ requirements: [{ event: 'course.completed' }] }],
  });
  if ((await admin(t, 'POST', `/templates/${template.body.id as string}/activate`)).status !== 200)
    throw new Error('the template did not activate');
  const worker = spawnWorker({
    MONGODB_URI: uri,
    PUBLIC_URL: t.laurel.config.publicUrl,
    JOBS_PROCESS_EVERY_MS: options.workerPollMs,
  });
  await worker.ready;
  return {
    t,
    platform,
    worker,
    async complete(learners, prefix) {
      const sent = await sendEvents(t, platform.webhookSecret, {
        events: Array.from({ length: learners }, (_, n) =>
          event(platform.id, {
            id: `${prefix}-${n}`,
            type: 'course.completed',
            course: { id: 'wake-101' },
            user: { id: `${prefix}${n}`, email: `${prefix}${n}@example.edu`, name: `Learner ${prefix}${n}` },
            data: {},
          }),
        ),
      });
      if (sent.body?.stored !== learners) throw new Error(`events not stored: ${JSON.stringify(sent.body)}`);
    },
    issued: () =>
      t.laurel.ctx.models.credentials.countDocuments({ platformId: platform.oid, status: 'issued' }),
    async close() {
      await worker.kill();
      await t.stop();
    },
  };
}

describe('a worker on a replica set', () => {
  let s: School;
  beforeAll(async () => {
    s = await openSchool({ replicaSet: true, workerPollMs: NEVER_MS });
  });
  afterAll(() => s?.close());

  it('processes events a web process stored, and issues their badges, long before its next poll', async () => {
    await waitFor(
      'the worker’s change streams to open',
      async () => (s.worker.log().match(/change stream open/g) ?? []).length === 3,
      30_000,
    );
    const start = Date.now();
    await s.complete(5, 'cs');
    await waitFor('five credentials issued', async () => (await s.issued()) === 5, 60_000, 50);
    const ms = Date.now() - start;
    process.stdout.write(
      `change-stream wake-up: 5 events stored by web -> 5 credentials issued in ${ms} ms\n`,
    );
    // Nothing ran through Agenda: the web process's wake-up job still waits, unlocked, for a poll.
    const jobs = s.t.laurel.connection.db!.collection('agendaJobs');
    expect(await jobs.countDocuments({ name: 'process-events', 'data.wake': true, lockedAt: null })).toBe(1);
    const credentials = await s.t.laurel.ctx.models.credentials.find({ platformId: s.platform.oid }).lean();
    expect(new Set(credentials.map((c) => String(c.personId))).size).toBe(5);
  });
});

describe('a worker on a standalone server', () => {
  let s: School;
  beforeAll(async () => {
    s = await openSchool({ replicaSet: false, workerPollMs: '1500' });
  });
  afterAll(() => s?.close());

  it('opens no change stream and finds the events at its next poll', async () => {
    await s.complete(3, 'sa');
    await waitFor('three credentials issued', async () => (await s.issued()) === 3, 60_000, 100);
    expect(s.worker.log()).not.toContain('change stream');
    // The wake-up job the web process queued was run by the worker's poll (and removed).
    const jobs = s.t.laurel.connection.db!.collection('agendaJobs');
    expect(await jobs.countDocuments({ name: 'process-events', 'data.wake': true })).toBe(0);
  });
});
