/**
 * Wake-ups across processes: a `web` process stores learning events, a `worker` process (a child
 * process, as in production) processes them and issues the badges. On a replica set the worker's
 * change streams wake it at once, although its Agenda polls only once a minute; on a standalone
 * server it finds them at its next poll, as before.
 */
import { jest } from '@jest/globals';
import { openReplicaSchool, type ReplicaSchool } from '../support/replica-school.js';
import { waitFor } from '../support/worker-process.js';

jest.setTimeout(180_000);

/**
 * The longest poll interval Laurel accepts: a worker polls when it starts and then a minute later,
 * so work done within seconds was not found by a poll.
 */
const NEVER_MS = '60000';

describe('a worker on a replica set', () => {
  let s: ReplicaSchool;
  beforeAll(async () => {
    s = await openReplicaSchool({ replicaSet: true, workerPollMs: NEVER_MS });
  });
  afterAll(() => s?.close());

  it('processes events a web process stored, and issues their badges, long before its next poll', async () => {
    await waitFor(
      'the worker’s change streams to open',
      async () => (s.worker.log().match(/change stream open/g) ?? []).length === 3,
      30_000,
    );
    const start = Date.now();
    expect(await s.complete(5, 'cs')).toBe(200);
    await waitFor('five credentials issued', async () => (await s.issued()) === 5, 60_000, 50);
    const ms = Date.now() - start;
    process.stdout.write(
      `change-stream wake-up: 5 events stored by web -> 5 credentials issued in ${ms} ms\n`,
    );
    // Nothing ran through Agenda: the web process's wake-up job still waits, unlocked, for a poll.
    const jobs = s.t.laurel.connection.db!.collection('agendaJobs');
    expect(await jobs.countDocuments({ name: 'process-events', 'data.wake': true, lockedAt: null })).toBe(1);
    const credentials = await s.credentials();
    expect(new Set(credentials.map((c) => String(c.personId))).size).toBe(5);
  });
});

describe('a worker on a standalone server', () => {
  let s: ReplicaSchool;
  beforeAll(async () => {
    s = await openReplicaSchool({ replicaSet: false, workerPollMs: '1500' });
  });
  afterAll(() => s?.close());

  it('opens no change stream and finds the events at its next poll', async () => {
    expect(await s.complete(3, 'sa')).toBe(200);
    await waitFor('three credentials issued', async () => (await s.issued()) === 3, 60_000, 100);
    expect(s.worker.log()).not.toContain('change stream');
    // The wake-up job the web process queued was run by the worker's poll (and removed).
    const jobs = s.t.laurel.connection.db!.collection('agendaJobs');
    expect(await jobs.countDocuments({ name: 'process-events', 'data.wake': true })).toBe(0);
  });
});
