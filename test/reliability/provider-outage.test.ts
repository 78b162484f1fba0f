/**
 * Credly unreachable and Accredible answering 503 (Retry-After: 600) for an hour, on a simulated
 * clock: the provider outbox (the real drainProviderOutbox, run once a simulated minute as its
 * recurring job is, over the real HTTP transport) backs off on the documented schedule, gives up on
 * nobody, and once both services are back issues exactly one badge per learner at each.
 */
import { jest } from '@jest/globals';
import { Types } from 'mongoose';
import type { CredentialDoc } from '../../src/db/models/credential.js';
import { processPendingEvents } from '../../src/progress/processPending.js';
import { defaultTransport, type ProviderDeps } from '../../src/providers/http.js';
import { drainProviderOutbox } from '../../src/providers/outbox.js';
import { syncTemplates } from '../../src/providers/sync.js';
import { activateSynced } from '../providers/helpers.js';
import { admin, event, registerTestPlatform, sendEvents } from '../support/api.js';
import { FakeAccredible } from '../support/fakes/accredible.js';
import { FakeCredly } from '../support/fakes/credly.js';
import { startHttpGate, type HttpGate } from '../support/http-gate.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';

jest.setTimeout(120_000);

const LEARNERS = 10;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The schedule as documented (README, src/providers/outbox.ts): 10 s doubling, at most an hour. */
const documentedBackoff = (attempt: number) => Math.min(HOUR, 10_000 * 2 ** (attempt - 1));
const ACCREDIBLE_RETRY_AFTER_S = 600;

describe('Credly and Accredible down for an hour (simulated clock)', () => {
  let t: TestLaurel;
  let credly: FakeCredly;
  let accredible: FakeAccredible;
  let credlyGate: HttpGate;
  let accredibleGate: HttpGate;

  beforeAll(async () => {
    t = await startTestLaurel({ LAUREL_ROLE: 'web' });
    credly = new FakeCredly();
    accredible = new FakeAccredible();
    await credly.start();
    await accredible.start();
    credlyGate = await startHttpGate(credly.url);
    accredibleGate = await startHttpGate(accredible.url);
  });
  afterAll(async () => {
    await credlyGate?.close();
    await accredibleGate?.close();
    await credly?.stop();
    await accredible?.stop();
    await t?.stop();
  });

  it('backs off on the documented schedule, fails nobody, and issues one badge each once they are back', async () => {
    const ctx = t.laurel.ctx;
    // The simulated clock moves a minute between recurring runs. A look-up's in-run read retries
    // (seconds, within one run) are recorded, not added, so each attempt happens at its run's minute.
    let now = Date.now();
    const slept: number[] = [];
    const deps: ProviderDeps = {
      transport: defaultTransport(ctx.config),
      now: () => new Date(now),
      sleep: async (ms) => {
        slept.push(ms);
      },
    };

    const platform = await registerTestPlatform(t);
    const platformId = new Types.ObjectId(platform.id);
    expect(
      (
        await admin(t, 'PUT', `/platforms/${platform.id}/providers/credly`, {
          organizationId: credly.organizationId,
          authToken: credly.token,
          environment: 'sandbox',
          baseUrl: `${credlyGate.url}/v1`,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await admin(t, 'PUT', `/platforms/${platform.id}/providers/accredible`, {
          apiKey: accredible.apiKey,
          environment: 'eu',
          baseUrl: accredibleGate.url,
        })
      ).status,
    ).toBe(200);
    const credlyTemplate = credly.addTemplate({ name: 'Outage-proof (Credly)' });
    const group = accredible.addGroup({ course_name: 'Outage-proof (Accredible)' });
    await syncTemplates(ctx, platformId, 'credly', deps);
    await syncTemplates(ctx, platformId, 'accredible', deps);
    const ours = await ctx.models.templates
      .find({ platformId, externalId: { $in: [credlyTemplate.id, String(group.id)] } })
      .lean();
    expect(ours).toHaveLength(2);
    for (const template of ours) await activateSynced(t, String(template._id));
    const sourceOf = new Map(ours.map((o) => [String(o._id), o.source]));

    // Ten learners complete the course; their awards wait in the provider outbox.
    const sent = await sendEvents(t, platform.webhookSecret, {
      events: Array.from({ length: LEARNERS }, (_, n) =>
        event(platform.id, {
          id: `outage-done-${n}`,
          type: 'course.completed',
          user: { id: `u${n}`, email: `learner${n}@example.edu`, name: `Learner Number${n}` },
          data: {},
        }),
      ),
    });
    expect(sent.body).toMatchObject({ stored: LEARNERS });
    await processPendingEvents(ctx);
    const awaiting = await ctx.models.credentials.find({ platformId }).lean<CredentialDoc[]>();
    expect(awaiting).toHaveLength(2 * LEARNERS);
    expect(awaiting.every((c) => c.status === 'awarded' && c.outbox === 'provider-issue')).toBe(true);

    // The outage: nothing listens where Credly was; Accredible's front answers 503 for ten minutes at a time.
    await credlyGate.down('refused');
    await accredibleGate.down({
      status: 503,
      headers: { 'retry-after': String(ACCREDIBLE_RETRY_AFTER_S) },
      body: '{"error":"Down for maintenance"}',
    });
    const outageStart = now;
    const attemptsAt = new Map<string, number[]>();
    const seen = new Map<string, number>();
    const tick = async () => {
      await drainProviderOutbox(ctx, deps, { platformId });
      const states = await ctx.models.credentials
        .find({ platformId }, { issueAttempts: 1, status: 1 })
        .lean<Pick<CredentialDoc, '_id' | 'issueAttempts' | 'status'>[]>();
      for (const c of states) {
        const id = String(c._id);
        const attempts = c.issueAttempts ?? 0;
        if (attempts > (seen.get(id) ?? 0)) attemptsAt.set(id, [...(attemptsAt.get(id) ?? []), now]);
        seen.set(id, attempts);
      }
      now += MINUTE;
    };
    for (let minute = 0; minute < 60; minute++) await tick();

    // An hour later: nobody has a badge, and nobody was given up on.
    expect(credly.badges).toHaveLength(0);
    expect(accredible.credentials).toHaveLength(0);
    const afterHour = await ctx.models.credentials.find({ platformId }).lean<CredentialDoc[]>();
    expect(afterHour.map((c) => c.status)).toEqual(afterHour.map(() => 'awarded'));
    for (const c of afterHour) {
      const source = sourceOf.get(String(c.templateId));
      expect(c.error).toContain(source === 'credly' ? 'could not be reached' : '503');
      const times = attemptsAt.get(String(c._id)) ?? [];
      // Tried at once, then backing off: far fewer tries than the 60 recurring runs of the hour.
      expect(times[0]).toBe(outageStart);
      expect(times.length).toBeGreaterThanOrEqual(5);
      expect(times.length).toBeLessThanOrEqual(10);
      for (let k = 1; k < times.length; k++) {
        const wait =
          source === 'credly'
            ? documentedBackoff(k)
            : Math.max(documentedBackoff(k), ACCREDIBLE_RETRY_AFTER_S * 1000);
        const gap = times[k]! - times[k - 1]!;
        // No sooner than the wait, and at the first recurring run after it.
        expect(gap).toBeGreaterThanOrEqual(wait);
        expect(gap).toBeLessThan(wait + MINUTE);
      }
    }

    expect(Math.max(0, ...slept)).toBeLessThanOrEqual(5_000);

    // Both come back; the recurring runs go on until everything is issued.
    await credlyGate.up();
    await accredibleGate.up();
    const backAt = now;
    let issued = 0;
    while (now - backAt <= 2 * HOUR) {
      await tick();
      issued = await ctx.models.credentials.countDocuments({ platformId, status: 'issued' });
      if (issued === 2 * LEARNERS) break;
    }
    expect(issued).toBe(2 * LEARNERS);
    // Within the longest backoff (an hour) plus one recurring run of the return.
    expect(now - backAt).toBeLessThanOrEqual(HOUR + MINUTE);

    // Exactly one badge per learner at each service, and each credential names its own.
    const earners = credly.badges.map((b) => b.issuer_earner_id);
    expect(earners).toHaveLength(LEARNERS);
    expect(new Set(earners).size).toBe(LEARNERS);
    expect(new Set(credly.badges.map((b) => b.recipient_email)).size).toBe(LEARNERS);
    const recipients = accredible.credentials.map((c) => c.recipient.id);
    expect(recipients).toHaveLength(LEARNERS);
    expect(new Set(recipients).size).toBe(LEARNERS);
    const done = await ctx.models.credentials.find({ platformId }).lean<CredentialDoc[]>();
    expect(done).toHaveLength(2 * LEARNERS);
    for (const c of done) {
      const atService =
        sourceOf.get(String(c.templateId)) === 'credly'
          ? credly.badges.find((b) => b.id === c.externalId)?.issuer_earner_id
          : accredible.credentials.find((x) => String(x.id) === c.externalId)?.recipient.id;
      expect(atService).toBe(String(c.personId));
      expect(c.error).toBeNull();
    }
    // Nothing was posted twice: each service took one POST per learner once it was back.
    const posts = (gate: HttpGate, path: RegExp) =>
      gate.log.filter((r) => r.method === 'POST' && path.test(r.path) && r.status !== 503);
    expect(posts(credlyGate, /\/badges$/)).toHaveLength(LEARNERS);
    expect(posts(accredibleGate, /^\/v1\/credentials$/)).toHaveLength(LEARNERS);
  });
});
