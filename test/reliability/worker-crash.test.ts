/**
 * A worker process killed (SIGKILL) in the middle of its work, at a known step: another worker
 * process takes the work up once the dead one's claims lapse (CLAIM_LEASE_MS) and its Agenda locks
 * expire (JOBS_LOCK_LIFETIME_MS), and each learner ends with exactly one credential of each badge:
 * signed locally (OB 3.0), at Credly and at Accredible.
 */
import { jest } from '@jest/globals';
import { ISSUE_BATCH_SIZE, openCrashSchool, updatesOf, type CrashSchool } from '../support/crash-school.js';
import { waitFor, within } from '../support/worker-process.js';

// Minutes only on a loaded machine: each worker takes seconds to start, and the leases must lapse.
jest.setTimeout(240_000);

/** More than one local issuing run holds, so a kill can land between two runs. */
const ISSUING_LEARNERS = ISSUE_BATCH_SIZE + 5;
const BATCH_LEARNERS = 10;
/** A service answering "slow down, try in a second": its calls wait, costing no attempt. */
const busy = { status: 429, headers: { 'retry-after': '1' }, body: '{"errors":"busy"}' };
const timing: string[] = [];
const step = (what: string) => timing.push(`${new Date().toISOString()} ${what}`);
// With LAUREL_TEST_LOG set, when each step happened (where the time goes on a slow machine).
afterAll(() => {
  if (process.env.LAUREL_TEST_LOG) process.stderr.write(`worker-crash steps:\n${timing.join('\n')}\n`);
});

/** Everything each learner should end with, checked in the database and at both services. */
async function expectExactlyOnceEverywhere(s: CrashSchool, learners: number) {
  const all = await s.credentials();
  expect(all).toHaveLength(3 * learners);
  expect(all.filter((c) => c.status !== 'issued').map((c) => [String(c._id), c.status, c.error])).toEqual([]);
  for (const templateId of Object.values(s.templates)) {
    const mine = all.filter((c) => String(c.templateId) === templateId);
    expect(mine).toHaveLength(learners);
    expect(new Set(mine.map((c) => String(c.personId))).size).toBe(learners);
  }
  // Local: signed OB 3.0 credentials, each on its own status-list entry.
  const local = all.filter((c) => String(c.templateId) === s.templates.local);
  for (const c of local) {
    const signed = c.signed as { type: string[]; proof?: { cryptosuite?: string; proofValue?: string }[] };
    expect(signed.type).toContain('AchievementCredential');
    expect(signed.proof).toEqual([
      expect.objectContaining({ cryptosuite: 'eddsa-rdfc-2022', proofValue: expect.stringMatching(/^z/) }),
    ]);
  }
  const entries = local.map((c) => `${String(c.statusListId)}#${c.statusListIndex}`);
  expect(new Set(entries).size).toBe(learners);
  // At the services: one badge per learner, the one the credential names.
  const credlyEarners = s.credly.badges.map((b) => b.issuer_earner_id);
  expect(credlyEarners).toHaveLength(learners);
  expect(new Set(credlyEarners).size).toBe(learners);
  const accredibleRecipients = s.accredible.credentials.map((c) => c.recipient.id);
  expect(accredibleRecipients).toHaveLength(learners);
  expect(new Set(accredibleRecipients).size).toBe(learners);
  for (const c of all.filter((x) => String(x.templateId) === s.templates.credly))
    expect(s.credly.badges.find((b) => b.id === c.externalId)?.issuer_earner_id).toBe(String(c.personId));
  for (const c of all.filter((x) => String(x.templateId) === s.templates.accredible))
    expect(s.accredible.credentials.find((x) => String(x.id) === c.externalId)?.recipient.id).toBe(
      String(c.personId),
    );
  // Every learning event processed once it was taken up again.
  const events = await s.t.laurel.ctx.models.events.find({ platformId: s.platform.oid }).lean();
  expect(events.filter((e) => e.type === 'course.completed')).toHaveLength(learners);
  // Each award is also an event (`badge.awarded`, for badges that require others): one per credential.
  expect(events.filter((e) => e.type === 'badge.awarded')).toHaveLength(3 * learners);
  expect(events.every((e) => e.status === 'processed')).toBe(true);
  return all;
}

/**
 * A worker's errors (pino level 50), save Agenda letting go of a job run that outlived the short lock
 * lifetime these tests set (JOBS_LOCK_LIFETIME_MS), as a provider-outbox run does on a loaded machine:
 * the run goes on, and its claims keep what it does exactly-once, which the tests check.
 */
const errorsIn = (log: string) =>
  log
    .split('\n')
    .filter(
      (line) =>
        line.includes('"level":50') &&
        !/execution of '[^']+' canceled, execution took more than \d+ms/.test(line),
    );

const allIssued = (s: CrashSchool, learners: number) => async () =>
  (await s.t.laurel.ctx.models.credentials.countDocuments({
    platformId: s.platform.oid,
    status: 'issued',
  })) ===
  3 * learners;

describe('a worker killed in the middle of a batch of events', () => {
  let s: CrashSchool;
  beforeAll(async () => {
    s = await openCrashSchool();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('leaves its awards made and its events unmarked; the next worker finishes, awarding nobody twice', async () => {
    const m = s.t.laurel.ctx.models;
    const first = await s.worker();
    step('A: first worker ready');
    // Stop the worker at the batch's last step: its awards are written, its processed marks are not.
    const marks = s.wire.freeze(
      (c) =>
        c.name === 'update' &&
        c.collection === 'learning_events' &&
        updatesOf(c).some((u) => u.u?.$set?.status === 'processed'),
    );
    // Meanwhile Accredible makes a badge whose answer the worker never gets (Credly, busy, waits).
    await s.credlyGate.down(busy);
    const held = s.accredibleGate.holdNext({ method: 'POST', path: /^\/v1\/credentials$/, skip: 2 });
    await s.complete(BATCH_LEARNERS);
    await within('the processed marks to be frozen', marks, 60_000);
    step('A: marks frozen');
    await within('an Accredible answer to be held', held, 60_000);
    await first.kill();
    const killedAt = new Date();
    step('A: first worker killed');

    // Half done: every completion claimed by the dead worker and none marked, every award made,
    // three badges made at Accredible of which Laurel knows two.
    const completions = { platformId: s.platform.oid, type: 'course.completed' };
    const events = await m.events.find(completions).lean();
    expect(events).toHaveLength(BATCH_LEARNERS);
    expect(events.filter((e) => e.status === 'processing' && e.claim && e.attempts === 1)).toHaveLength(
      BATCH_LEARNERS,
    );
    const atKill = await s.credentials();
    expect(atKill).toHaveLength(3 * BATCH_LEARNERS);
    expect(s.accredible.credentials).toHaveLength(3);
    const unknown = atKill.filter(
      (c) => String(c.templateId) === s.templates.accredible && c.externalPending && !c.externalId,
    );
    expect(unknown).toHaveLength(1);

    await s.credlyGate.up();
    await s.claimsLapsed();
    const second = await s.worker();
    step('A: second worker ready');
    await waitFor('every credential issued by the second worker', allIssued(s, BATCH_LEARNERS), 90_000);
    await waitFor(
      'every event processed',
      async () =>
        (await m.events.countDocuments({ platformId: s.platform.oid, status: { $ne: 'processed' } })) === 0,
      30_000,
    );
    step('A: all issued');
    await expectExactlyOnceEverywhere(s, BATCH_LEARNERS);
    // The events were taken up again: claimed a second time and marked by the second worker.
    const after = await m.events.find(completions).lean();
    expect(after.every((e) => e.attempts === 2 && e.processedAt! > killedAt)).toBe(true);
    // The badge Accredible made for the lost answer is the one the credential names.
    const adopted = (await s.credentials()).find((c) => String(c._id) === String(unknown[0]!._id))!;
    expect(s.accredible.credentials.filter((c) => c.recipient.id === String(adopted.personId))).toEqual([
      expect.objectContaining({ id: Number(adopted.externalId) }),
    ]);
    expect(errorsIn(second.log())).toEqual([]);
  });
});

describe('a worker killed in the middle of issuing', () => {
  let s: CrashSchool;
  beforeAll(async () => {
    s = await openCrashSchool();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('signs and calls again only what was left; one credential each, locally and at the services', async () => {
    const first = await s.worker();
    step('B: first worker ready');
    // Local issuing signs at most ISSUE_BATCH_SIZE credentials a run (the workers' setting), each run's
    // in one write: the first signing write lands, and from the second on every one is held, on
    // whichever connection. One held write alone would not do: a kill later than a claim lease after it
    // (a slow machine) leaves time for another run (the recurring job) to claim that batch again and
    // sign it through another connection, so the kill would land after every run, not between two.
    const signingWrites: string[][] = [];
    const signing = s.wire.freezeEvery((c) => {
      if (c.name !== 'update' || c.collection !== 'credentials') return false;
      const signs = updatesOf(c).filter((u) => u.u?.$set?.status === 'issued' && u.u?.$set?.signed);
      if (signs.length === 0) return false;
      signingWrites.push(signs.map((u) => String((u.q as { _id: unknown })._id)));
      return signingWrites.length >= 2;
    });
    // Meanwhile Credly makes a badge whose answer the worker never gets (Accredible, busy, waits).
    await s.accredibleGate.down(busy);
    const held = s.credlyGate.holdNext({ method: 'POST', path: /\/badges$/, skip: 2 });
    await s.complete(ISSUING_LEARNERS);
    await within('the second signing write to be frozen', signing.first, 60_000);
    step('B: second signing frozen');
    await within('a Credly answer to be held', held, 60_000);
    await first.kill();
    signing.lift();
    const killedAt = new Date();
    step('B: first worker killed');

    // Half done: the first run's credentials signed, every other one unsigned; those a held write
    // would have signed were claimed by the dead worker (however the awards were batched).
    const [landed, ...stopped] = signingWrites as [string[], ...string[][]];
    expect(signingWrites.every((ids) => ids.length >= 1 && ids.length <= ISSUE_BATCH_SIZE)).toBe(true);
    const atKill = await s.credentials();
    const local = atKill.filter((c) => String(c.templateId) === s.templates.local);
    expect(local).toHaveLength(ISSUING_LEARNERS);
    const signedBefore = local.filter((c) => c.status === 'issued');
    expect(signedBefore.map((c) => String(c._id)).sort()).toEqual([...landed].sort());
    const rest = local.filter((c) => c.status !== 'issued');
    expect(rest).toHaveLength(ISSUING_LEARNERS - landed.length);
    expect(rest.filter((c) => c.status === 'awarded' && !c.signed)).toHaveLength(rest.length);
    const stoppedIds = new Set(stopped.flat());
    expect(stoppedIds.size).toBeGreaterThan(0);
    expect(rest.filter((c) => stoppedIds.has(String(c._id)) && c.issuingClaim)).toHaveLength(stoppedIds.size);
    expect(s.credly.badges).toHaveLength(3);
    const unknown = atKill.filter(
      (c) => String(c.templateId) === s.templates.credly && c.externalPending && !c.externalId,
    );
    expect(unknown).toHaveLength(1);

    await s.accredibleGate.up();
    await s.claimsLapsed();
    const second = await s.worker();
    step('B: second worker ready');
    await waitFor('every credential issued by the second worker', allIssued(s, ISSUING_LEARNERS), 90_000);
    step('B: all issued');
    const all = await expectExactlyOnceEverywhere(s, ISSUING_LEARNERS);
    // What was signed before the kill stayed as it was; the rest was signed after it, each once.
    const localAfter = all.filter((x) => String(x.templateId) === s.templates.local);
    for (const c of localAfter) {
      const before = signedBefore.find((b) => String(b._id) === String(c._id));
      if (before) expect(c.signed).toEqual(before.signed);
      else expect(c.issuedAt!.getTime()).toBeGreaterThan(killedAt.getTime());
    }
    const issuedAudits = await s.t.laurel.ctx.models.audit
      .find({ platformId: s.platform.oid, action: 'credential.issued' })
      .lean();
    const localIds = localAfter.map((c) => String(c._id)).sort();
    expect(
      issuedAudits
        .map((a) => a.target.id)
        .filter((id) => localIds.includes(id))
        .sort(),
    ).toEqual(localIds);
    // The badge Credly made for the lost answer is the one the credential names.
    const adopted = all.find((c) => String(c._id) === String(unknown[0]!._id))!;
    expect(s.credly.badges.filter((b) => b.issuer_earner_id === String(adopted.personId))).toEqual([
      expect.objectContaining({ id: adopted.externalId }),
    ]);
    expect(errorsIn(second.log())).toEqual([]);
  });
});
