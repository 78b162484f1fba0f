/**
 * A replica-set failover during event processing and issuing: the primary steps down for ten
 * seconds while a worker process processes events and signs credentials and while the LMS sends
 * more, and the connections the processes were using drop (as when the old primary's process
 * restarts). Then a primary is elected again. Nothing is lost, every learner ends with exactly one
 * credential, and the worker's change stream is back (resumed by the driver with its token, or
 * opened again by Laurel).
 */
import { jest } from '@jest/globals';
import type { Document } from 'mongodb';
import { openReplicaSchool, type ReplicaSchool } from '../support/replica-school.js';
import { waitFor } from '../support/worker-process.js';

jest.setTimeout(240_000);

const STEP_DOWN_MS = 10_000;
const FIRST = 60;
const DURING = 20;
const AFTER = 5;

const isStream = (c: { name: string; body: Document }) =>
  c.name === 'aggregate' &&
  c.body.aggregate === 'learning_events' &&
  Array.isArray(c.body.pipeline) &&
  '$changeStream' in (c.body.pipeline[0] as Document);

describe('a primary stepping down during processing and issuing', () => {
  let s: ReplicaSchool;
  beforeAll(async () => {
    s = await openReplicaSchool({
      replicaSet: true,
      workerPollMs: '2000',
      // Short leases, so work claimed by a run the failover broke is taken up again within seconds.
      workerEnv: { CLAIM_LEASE_MS: '12000', JOBS_LOCK_LIFETIME_MS: '12000', ISSUE_BATCH_SIZE: '5' },
    });
    await waitFor(
      'the worker’s change streams to open',
      async () => (s.worker.log().match(/change stream open/g) ?? []).length === 3,
      30_000,
    );
  });
  afterAll(() => s?.close());

  it('loses nothing and issues each learner exactly one credential', async () => {
    expect(await s.complete(FIRST, 'a')).toBe(200);
    // Step down once the worker is under way: the first credentials signed (five a run), not all.
    await waitFor('the first credentials signed', async () => (await s.issued()) > 0, 60_000, 10);
    const atStepDown = await s.issued();
    expect(atStepDown).toBeLessThan(FIRST);
    const stepDownAt = s.commands.length;
    s.engine.stepDown(STEP_DOWN_MS);
    // Every connection to it drops (reset), as when the old primary's process restarts.
    s.engine.dropConnections();

    // The LMS sends more meanwhile and, as LMS plugins do, sends again what was not accepted.
    const statuses: number[] = [];
    await waitFor(
      'the events sent during the failover to be accepted',
      async () => {
        const status = await s.complete(DURING, 'b');
        statuses.push(status);
        return status === 200;
      },
      90_000,
      1000,
    );
    // Refused sends were told to come again (503 with Retry-After), never a server error.
    expect(statuses.filter((status) => status !== 200 && status !== 503)).toEqual([]);
    const total = FIRST + DURING;
    await waitFor(`${total} credentials issued`, async () => (await s.issued()) === total, 180_000, 250);

    expect(await s.complete(AFTER, 'c')).toBe(200);
    await waitFor(
      `${total + AFTER} credentials issued`,
      async () => (await s.issued()) === total + AFTER,
      60_000,
      100,
    );
    process.stdout.write(
      `failover: ${atStepDown}/${FIRST} issued at the stepdown; answers to the LMS during it: ${statuses.join(', ')}\n`,
    );

    const all = await s.credentials();
    expect(all).toHaveLength(total + AFTER);
    expect(all.filter((c) => c.status !== 'issued')).toEqual([]);
    expect(new Set(all.map((c) => String(c.personId))).size).toBe(total + AFTER);
    const entries = all.map((c) => `${String(c.statusListId)}#${c.statusListIndex}`);
    expect(new Set(entries).size).toBe(total + AFTER);
    const events = await s.t.laurel.ctx.models.events.find({ platformId: s.platform.oid }).lean();
    const completions = events.filter((e) => e.type === 'course.completed');
    expect(completions).toHaveLength(total + AFTER);
    expect(events.every((e) => e.status === 'processed')).toBe(true);

    // The worker's change stream on events was opened again after the failover and answered.
    const reopened = s.commands.slice(stepDownAt).filter((c) => isStream(c) && c.reply.ok === 1);
    expect(reopened.length).toBeGreaterThan(0);
    const withToken = reopened.filter(
      (c) => ((c.body.pipeline as Document[])[0].$changeStream as Document).resumeAfter,
    );
    process.stdout.write(
      `failover: the events stream answered again ${reopened.length} time(s), ${withToken.length} resumed with a token\n`,
    );
  });
});
