import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { Types } from 'mongoose';
import {
  drainProviderOutbox,
  MAX_PROVIDER_ATTEMPTS,
  requeueProviderAwards,
} from '../../src/providers/outbox.js';
import { syncTemplates } from '../../src/providers/sync.js';
import { FakeCredly } from '../support/fakes/credly.js';
import type { TestLaurel } from '../support/laurel.js';
import {
  activateSynced,
  admin,
  makePerson,
  registerTestPlatform,
  startWebLaurel,
  testDeps,
} from './helpers.js';

/** Credly end to end against the local fake: settings, sync, issuing, failures, revocation, webhooks. */

let t: TestLaurel;
let credly: FakeCredly;

beforeAll(async () => {
  t = await startWebLaurel();
});
afterAll(async () => {
  await t?.stop();
});
beforeEach(async () => {
  credly = new FakeCredly();
  await credly.start();
});
afterEach(async () => {
  await credly.stop();
});

async function platformWithCredly() {
  const platform = await registerTestPlatform(t);
  const saved = await admin(t, 'PUT', `/platforms/${platform.id}/providers/credly`, {
    organizationId: credly.organizationId,
    authToken: credly.token,
    environment: 'sandbox',
    baseUrl: credly.baseUrl,
  });
  expect(saved.status).toBe(200);
  scope = new Types.ObjectId(platform.id);
  return { ...platform, oid: scope };
}

/** A platform with Credly, one synced and activated template, and Ada holding an award of it. */
async function awarded(clock = testDeps()) {
  const tpl = credly.addTemplate({ name: 'Intro to Python' });
  const platform = await platformWithCredly();
  await syncTemplates(t.laurel.ctx, platform.oid, 'credly', clock.deps);
  const ours = await t.laurel.ctx.models.templates
    .findOne({ platformId: platform.oid, externalId: tpl.id })
    .lean();
  await activateSynced(t, String(ours!._id));
  await makePerson(t, platform.id);
  const award = await admin(t, 'POST', '/credentials', {
    templateId: String(ours!._id),
    userId: '57',
    reason: 'test',
  });
  expect(award.status).toBe(201);
  expect(award.body.status).toBe('awarded');
  return { platform, template: ours!, tpl, credentialId: award.body.id as string, clock };
}

let scope: Types.ObjectId | undefined;
/** One outbox run of this test's platform, on this test's clock. */
const drain = (clock: ReturnType<typeof testDeps>) =>
  drainProviderOutbox(t.laurel.ctx, clock.deps, { platformId: scope });

const credential = (id: string) => admin(t, 'GET', `/credentials/${id}`);

describe('Credly settings (admin API)', () => {
  it('stores them after Credly answered, shows the token masked, and refuses a wrong token with Credly’s answer', async () => {
    const platform = await registerTestPlatform(t);
    const refused = await admin(t, 'PUT', `/platforms/${platform.id}/providers/credly`, {
      organizationId: credly.organizationId,
      authToken: 'wrong-token-1234',
      environment: 'sandbox',
      baseUrl: credly.baseUrl,
    });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toContain('401');
    expect(refused.body.message).toContain('Unauthorized');
    expect((await admin(t, 'GET', `/platforms/${platform.id}/providers`)).body.credly).toBeNull();

    const saved = await admin(t, 'PUT', `/platforms/${platform.id}/providers/credly`, {
      organizationId: credly.organizationId,
      authToken: credly.token,
      environment: 'production',
      baseUrl: credly.baseUrl,
    });
    expect(saved.status).toBe(200);
    expect(saved.body.authToken).toBe('••••0001');
    expect(saved.body.check.message).toContain('Acme Learning');
    // The harmless call went with HTTP Basic: the token as user, an empty password.
    const orgCall = credly.requests
      .filter((r) => r.path === `/v1/organizations/${credly.organizationId}`)
      .at(-1);
    expect(orgCall?.authorization).toBe(`Basic ${Buffer.from(`${credly.token}:`).toString('base64')}`);

    const shown = await admin(t, 'GET', `/platforms/${platform.id}/providers`);
    expect(shown.body.credly).toMatchObject({
      organizationId: credly.organizationId,
      environment: 'production',
      authToken: '••••0001',
    });
    expect(JSON.stringify(shown.body)).not.toContain(credly.token);
    const stored = await t.laurel.ctx.models.providerSettings
      .findOne({ platformId: new Types.ObjectId(platform.id) })
      .lean();
    expect(JSON.stringify(stored)).not.toContain(credly.token);

    const bad = await admin(t, 'PUT', `/platforms/${platform.id}/providers/credly`, {
      environment: 'staging',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(['organizationId', 'authToken', 'environment']),
    );

    // The answers are the ones the OpenAPI document describes.
    const doc = await (await fetch(`${t.url}/api/v1/openapi.json`)).json();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
    ajv.addSchema({ $id: 'laurel-openapi', components: doc.components });
    const schemaOf = (path: string, method: string, status: number) =>
      JSON.parse(
        JSON.stringify(
          doc.paths[path][method].responses[String(status)].content['application/json'].schema,
        ).replaceAll('"#/components', '"laurel-openapi#/components'),
      );
    const valid = (schema: object, body: unknown) => {
      const validate = ajv.compile(schema);
      validate(body);
      return validate.errors ?? [];
    };
    expect(valid(schemaOf('/platforms/{id}/providers/credly', 'put', 200), saved.body)).toEqual([]);
    expect(valid(schemaOf('/platforms/{id}/providers', 'get', 200), shown.body)).toEqual([]);
    expect(valid(schemaOf('/platforms/{id}/providers/credly', 'put', 422), refused.body)).toEqual([]);
    const queued = await admin(t, 'POST', `/platforms/${platform.id}/providers/credly/sync`);
    expect(valid(schemaOf('/platforms/{id}/providers/{name}/sync', 'post', 202), queued.body)).toEqual([]);
    expect((await admin(t, 'POST', `/platforms/${platform.id}/providers/credly/sync`)).status).toBe(202);
    expect((await admin(t, 'DELETE', `/platforms/${platform.id}/providers/credly`)).status).toBe(204);
    expect((await admin(t, 'DELETE', `/platforms/${platform.id}/providers/credly`)).status).toBe(404);
    expect((await admin(t, 'POST', `/platforms/${platform.id}/providers/credly/sync`)).status).toBe(404);
  });
});

describe('Credly template sync', () => {
  it('reads every page, updates changed templates and withdraws vanished ones without deleting them', async () => {
    credly.per = 2;
    const made = [1, 2, 3, 4, 5].map((n) => credly.addTemplate({ name: `Badge ${n}` }));
    const platform = await platformWithCredly();
    const { deps } = testDeps();
    const first = await syncTemplates(t.laurel.ctx, platform.oid, 'credly', deps);
    expect(first).toMatchObject({ templates: 5, created: 5 });
    expect(credly.count('GET', /badge_templates/)).toBe(3);

    const listed = await admin(t, 'GET', `/templates?platformId=${platform.id}`);
    const synced = listed.body.items.filter((x: { source: string }) => x.source === 'credly');
    expect(synced.map((x: { externalId: string }) => x.externalId).sort()).toEqual(
      made.map((m) => m.id).sort(),
    );
    expect(synced.every((x: { state: string }) => x.state === 'draft')).toBe(true);

    // Upstream: one renamed, one archived, one gone; one of ours is active with a credential.
    const gone = made[4]!;
    const goneOurs = await t.laurel.ctx.models.templates
      .findOne({ platformId: platform.oid, externalId: gone.id })
      .lean();
    await activateSynced(t, String(goneOurs!._id));
    await makePerson(t, platform.id);
    expect(
      (
        await admin(t, 'POST', '/credentials', {
          templateId: String(goneOurs!._id),
          userId: '57',
          reason: 'x',
        })
      ).status,
    ).toBe(201);
    made[0]!.name = 'Badge 1, renamed';
    made[1]!.state = 'archived';
    credly.templates.splice(credly.templates.indexOf(gone), 1);

    const second = await syncTemplates(t.laurel.ctx, platform.oid, 'credly', deps);
    expect(second).toMatchObject({ templates: 4, created: 0, updated: 2, vanished: 1 });
    const byExt = async (id: string) =>
      t.laurel.ctx.models.templates.findOne({ platformId: platform.oid, externalId: id }).lean();
    expect((await byExt(made[0]!.id))!.name).toBe('Badge 1, renamed');
    expect((await byExt(made[1]!.id))!.state).toBe('inactive');
    const vanished = await byExt(gone.id);
    expect(vanished).toMatchObject({ state: 'inactive', externalState: 'missing' });
    expect(await t.laurel.ctx.models.credentials.countDocuments({ templateId: vanished!._id })).toBe(1);
    const settings = await admin(t, 'GET', `/platforms/${platform.id}/providers`);
    expect(settings.body.credly.lastSync).toMatchObject({ ok: true, templates: 4 });
  });
});

describe('Credly reads under a rate limit', () => {
  it('a 429 during the sync waits its Retry-After (recorded by the test sleep) and the sync completes', async () => {
    credly.per = 1;
    credly.addTemplate();
    credly.addTemplate();
    const platform = await platformWithCredly();
    credly.inject(
      {
        kind: 'status',
        status: 429,
        body: '{"errors":[{"message":"Too Many Requests"}]}',
        headers: { 'retry-after': '7' },
      },
      { method: 'GET', path: /badge_templates$/ },
    );
    const clock = testDeps();
    expect(await syncTemplates(t.laurel.ctx, platform.oid, 'credly', clock.deps)).toMatchObject({
      templates: 2,
    });
    expect(clock.slept).toEqual([7000]);
    expect(credly.count('GET', /badge_templates/)).toBe(3);
  });
});

describe('issuing at Credly', () => {
  it('issues one badge with the documented fields and keeps its id, state and page on the credential', async () => {
    const { credentialId, tpl, clock } = await awarded();
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect(credly.badges).toHaveLength(1);
    const post = credly.requests.find((r) => r.method === 'POST')!;
    expect(post.body).toMatchObject({
      recipient_email: 'ada@example.edu',
      issued_to_first_name: 'Ada',
      issued_to_last_name: 'Lovelace',
      badge_template_id: tpl.id,
    });
    expect((post.body as { issued_at: string }).issued_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$/);
    const shown = await credential(credentialId);
    expect(shown.body).toMatchObject({
      status: 'issued',
      externalId: credly.badges[0]!.id,
      externalUrl: `https://sandbox.credly.com/badges/${credly.badges[0]!.id}`,
    });
    // Nothing is left in the outbox: a second run calls nobody.
    const calls = credly.requests.length;
    expect(await drain(clock)).toEqual({ done: 0, retrying: 0, failed: 0 });
    expect(credly.requests.length).toBe(calls);
  });

  it('a 500, then success: exactly one badge, after a backoff', async () => {
    const { credentialId, clock } = await awarded();
    credly.inject(
      { kind: 'status', status: 500, body: '{"errors":[{"message":"boom"}]}' },
      { method: 'POST', path: /\/badges$/ },
    );
    expect(await drain(clock)).toEqual({ done: 0, retrying: 1, failed: 0 });
    expect((await credential(credentialId)).body.status).toBe('awarded');
    // Not before the backoff has passed.
    expect(await drain(clock)).toEqual({ done: 0, retrying: 0, failed: 0 });
    clock.advance(10_001);
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect(credly.badges).toHaveLength(1);
    expect(credly.count('POST', /\/badges$/)).toBe(2);
    expect((await credential(credentialId)).body.status).toBe('issued');
  });

  it('a timeout after Credly created the badge: the retry finds it and posts nothing more', async () => {
    const clock = testDeps(undefined, 300);
    const { credentialId } = await awarded(clock);
    credly.inject({ kind: 'act-then-hang' }, { method: 'POST', path: /\/badges$/ });
    expect(await drain(clock)).toEqual({ done: 0, retrying: 1, failed: 0 });
    expect(credly.badges).toHaveLength(1);
    clock.advance(60_000);
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect(credly.badges).toHaveLength(1);
    expect(credly.count('POST', /\/badges$/)).toBe(1);
    expect(credly.count('GET', /\/badges\?filter=/)).toBe(1);
    expect((await credential(credentialId)).body).toMatchObject({
      status: 'issued',
      externalId: credly.badges[0]!.id,
    });
  });

  it('a 429 waits what Retry-After says (on the test clock), and costs no attempt', async () => {
    const { credentialId, clock } = await awarded();
    credly.inject(
      {
        kind: 'status',
        status: 429,
        body: '{"errors":[{"message":"slow down"}]}',
        headers: { 'retry-after': '120' },
      },
      { method: 'POST', path: /\/badges$/ },
    );
    expect(await drain(clock)).toEqual({ done: 0, retrying: 1, failed: 0 });
    const waiting = await t.laurel.ctx.models.credentials.findById(credentialId).lean();
    expect(waiting!.issuingUntil!.getTime() - clock.at().getTime()).toBe(120_000);
    expect(waiting!.issueAttempts).toBe(0);
    clock.advance(119_000);
    expect(await drain(clock)).toEqual({ done: 0, retrying: 0, failed: 0 });
    clock.advance(1_000);
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect(credly.badges).toHaveLength(1);
    expect((await credential(credentialId)).body.status).toBe('issued');
  });

  it('a 422 fails the credential at once with Credly’s message; a retry after the fix issues it', async () => {
    const { credentialId, tpl, clock } = await awarded();
    tpl.state = 'archived';
    expect(await drain(clock)).toEqual({ done: 0, retrying: 0, failed: 1 });
    expect(credly.count('POST', /\/badges$/)).toBe(1);
    const failed = await credential(credentialId);
    expect(failed.body.status).toBe('failed');
    expect(failed.body.error).toContain('422');
    expect(failed.body.error).toContain('Badge template is not active');
    clock.advance(24 * 3600_000);
    expect(await drain(clock)).toEqual({ done: 0, retrying: 0, failed: 0 });
    expect(credly.count('POST', /\/badges$/)).toBe(1);

    tpl.state = 'active';
    const retried = await admin(t, 'POST', `/credentials/${credentialId}/retry`);
    expect(retried.body.status).toBe('awarded');
    // The retry passes through the local issuing run, which hands it to the provider outbox.
    const { issuePendingCredentials } = await import('../../src/issuers/openbadges/issue.js');
    await issuePendingCredentials(t.laurel.ctx);
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect((await credential(credentialId)).body.status).toBe('issued');
    expect(credly.badges).toHaveLength(1);
  });

  it('gives up after repeated 5xx with the last answer as the error', async () => {
    const { credentialId, clock } = await awarded();
    credly.inject(
      { kind: 'status', status: 503, body: 'upstream down' },
      { method: 'POST', path: /\/badges$/, times: 100 },
    );
    for (let i = 0; i < MAX_PROVIDER_ATTEMPTS; i++) {
      await drain(clock);
      clock.advance(3600_000);
    }
    const shown = await credential(credentialId);
    expect(shown.body.status).toBe('failed');
    expect(shown.body.error).toContain('503');
    expect(credly.count('POST', /\/badges$/)).toBe(MAX_PROVIDER_ATTEMPTS);
    expect(credly.badges).toHaveLength(0);
  });
});

describe('awards made before the outbox', () => {
  it('are put into it by the recurring run and issued', async () => {
    const { credentialId, clock } = await awarded();
    // As an award stored by an earlier version: no outbox entry, waiting forever.
    await t.laurel.ctx.models.credentials.updateOne(
      { _id: new Types.ObjectId(credentialId) },
      { $set: { outbox: null } },
    );
    expect(await drain(clock)).toEqual({ done: 0, retrying: 0, failed: 0 });
    expect(await requeueProviderAwards(t.laurel.ctx)).toBeGreaterThanOrEqual(1);
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect(credly.badges).toHaveLength(1);
  });
});

describe('revoking at Credly', () => {
  it('revokes the badge at Credly with the reason, once', async () => {
    const { credentialId, clock } = await awarded();
    await drain(clock);
    const revoked = await admin(t, 'POST', `/credentials/${credentialId}/revoke`, { reason: 'Plagiarism' });
    expect(revoked.body.status).toBe('revoked');
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect(credly.badges[0]).toMatchObject({ state: 'revoked', revocation_reason: 'Plagiarism' });
    expect(credly.count('PUT', /\/revoke$/)).toBe(1);
    expect(await drain(clock)).toEqual({ done: 0, retrying: 0, failed: 0 });
  });

  it('a credential revoked while its issuing call timed out revokes whatever Credly made', async () => {
    const clock = testDeps(undefined, 300);
    const { credentialId } = await awarded(clock);
    credly.inject({ kind: 'act-then-hang' }, { method: 'POST', path: /\/badges$/ });
    await drain(clock);
    await admin(t, 'POST', `/credentials/${credentialId}/revoke`, { reason: 'Mistake' });
    clock.advance(60_000);
    await drain(clock);
    expect(credly.badges).toHaveLength(1);
    expect(credly.badges[0]!.state).toBe('revoked');
  });
});

describe('Credly webhook', () => {
  const hook = (platformId: string, body: unknown) =>
    fetch(`${t.url}/api/v1/webhooks/credly/${platformId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('applies accepted, revoked and template changes fetched from Credly, each event once', async () => {
    const { platform, credentialId, tpl, template, clock } = await awarded();
    await drain(clock);
    const badge = credly.badges[0]!;

    badge.state = 'accepted';
    const accepted = await hook(platform.id, credly.addEvent('badge.state.changed', { badge }));
    expect(accepted.status).toBe(200);
    expect((await t.laurel.ctx.models.credentials.findById(credentialId).lean())!.externalState).toBe(
      'accepted',
    );

    badge.state = 'revoked';
    badge.revocation_reason = 'Revoked by the registrar';
    const note = credly.addEvent('badge.state.changed', { badge });
    expect((await hook(platform.id, note)).status).toBe(200);
    const revoked = await credential(credentialId);
    expect(revoked.body.status).toBe('revoked');
    expect(revoked.body.revokedReason).toContain('Revoked by the registrar');
    // Revoked at Credly already: nothing goes back to Credly.
    await drain(clock);
    expect(credly.count('PUT', /\/revoke$/)).toBe(0);
    // The same event again is acknowledged and not applied twice.
    const again = await hook(platform.id, note);
    expect(again.status).toBe(200);
    expect((await again.json()).applied).toBe(false);

    tpl.name = 'Intro to Python (2025)';
    tpl.state = 'archived';
    expect(
      (await hook(platform.id, credly.addEvent('badge_template.changed', { badge_template: tpl }))).status,
    ).toBe(200);
    const changed = await t.laurel.ctx.models.templates.findById(template._id).lean();
    expect(changed).toMatchObject({
      name: 'Intro to Python (2025)',
      state: 'inactive',
      externalState: 'archived',
    });

    // A template created at Credly joins the platform's catalogue.
    const fresh = credly.addTemplate({ name: 'Advanced Python' });
    const created = await hook(
      platform.id,
      credly.addEvent('badge_template.created', { badge_template: fresh }),
    );
    expect(await created.json()).toMatchObject({ applied: true, note: 'template created' });
    expect(
      await t.laurel.ctx.models.templates.findOne({ platformId: platform.oid, externalId: fresh.id }).lean(),
    ).toMatchObject({ name: 'Advanced Python', source: 'credly', courseRef: null, state: 'draft' });

    // A badge Laurel never issued: acknowledged, nothing changes.
    const stranger = { ...badge, id: 'bbbbbbbb-0000-4000-8000-00000000dead' };
    const unknown = await hook(platform.id, credly.addEvent('badge.state.changed', { badge: stranger }));
    expect(unknown.status).toBe(200);
    expect((await unknown.json()).note).toBe('unknown badge');
  });

  it('refuses forged calls: an event Credly does not know, another organisation, a bad body', async () => {
    const { platform, credentialId, clock } = await awarded();
    await drain(clock);
    const forged = await hook(platform.id, {
      id: 'forged-event-1',
      organization_id: credly.organizationId,
      event_type: 'badge.state.changed',
      occurred_at: new Date().toISOString(),
    });
    expect(forged.status).toBe(404);
    const otherOrg = await hook(platform.id, {
      id: 'x',
      organization_id: '22222222-2222-4222-8222-222222222222',
      event_type: 'badge.state.changed',
    });
    expect(otherOrg.status).toBe(404);
    expect((await hook(platform.id, { hello: 'world' })).status).toBe(400);
    expect(
      (
        await hook(new Types.ObjectId().toHexString(), {
          id: 'x',
          organization_id: credly.organizationId,
          event_type: 'x',
        })
      ).status,
    ).toBe(404);
    expect((await credential(credentialId)).body.status).toBe('issued');
    // Credly was asked about the forged id with the platform's own token.
    expect(credly.count('GET', /\/events\/forged-event-1$/)).toBe(1);
  });
});
