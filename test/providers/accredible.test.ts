import { Types } from 'mongoose';
import { drainProviderOutbox } from '../../src/providers/outbox.js';
import { syncTemplates } from '../../src/providers/sync.js';
import { reconcileAccredible } from '../../src/providers/webhooks.js';
import { FakeAccredible } from '../support/fakes/accredible.js';
import type { TestLaurel } from '../support/laurel.js';
import {
  activateSynced,
  admin,
  makePerson,
  registerTestPlatform,
  startWebLaurel,
  testDeps,
} from './helpers.js';

/** Accredible end to end against the local fake: settings, group sync, issuing, failures, expiry, reconciliation. */

let t: TestLaurel;
let acc: FakeAccredible;
let scope: Types.ObjectId | undefined;

beforeAll(async () => {
  t = await startWebLaurel();
});
afterAll(async () => {
  await t?.stop();
});
beforeEach(async () => {
  acc = new FakeAccredible();
  await acc.start();
});
afterEach(async () => {
  await acc.stop();
});

const drain = (clock: ReturnType<typeof testDeps>) =>
  drainProviderOutbox(t.laurel.ctx, clock.deps, { platformId: scope });
const credential = (id: string) => admin(t, 'GET', `/credentials/${id}`);

async function platformWithAccredible() {
  const platform = await registerTestPlatform(t);
  const saved = await admin(t, 'PUT', `/platforms/${platform.id}/providers/accredible`, {
    apiKey: acc.apiKey,
    environment: 'eu',
    baseUrl: acc.baseUrl,
  });
  expect(saved.status).toBe(200);
  scope = new Types.ObjectId(platform.id);
  return { ...platform, oid: scope };
}

async function awarded(clock = testDeps()) {
  const group = acc.addGroup({ course_name: 'Intro to Python' });
  const platform = await platformWithAccredible();
  await syncTemplates(t.laurel.ctx, platform.oid, 'accredible', clock.deps);
  const ours = await t.laurel.ctx.models.templates
    .findOne({ platformId: platform.oid, externalId: String(group.id) })
    .lean();
  await activateSynced(t, String(ours!._id));
  await makePerson(t, platform.id);
  const award = await admin(t, 'POST', '/credentials', {
    templateId: String(ours!._id),
    userId: '57',
    reason: 'test',
  });
  expect(award.status).toBe(201);
  return { platform, group, template: ours!, credentialId: award.body.id as string, clock };
}

describe('Accredible settings', () => {
  it('checks the key with Accredible (Token auth), masks it, and refuses a wrong key with Accredible’s answer', async () => {
    const platform = await registerTestPlatform(t);
    const refused = await admin(t, 'PUT', `/platforms/${platform.id}/providers/accredible`, {
      apiKey: 'not-the-key-9999',
      environment: 'sandbox',
      baseUrl: acc.baseUrl,
    });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toContain('HTTP Token: Access denied.');
    const saved = await admin(t, 'PUT', `/platforms/${platform.id}/providers/accredible`, {
      apiKey: acc.apiKey,
      environment: 'sandbox',
      baseUrl: acc.baseUrl,
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ provider: 'accredible', apiKey: '••••0001', environment: 'sandbox' });
    expect(acc.requests.at(-1)!.authorization).toBe(`Token token=${acc.apiKey}`);
    const shown = await admin(t, 'GET', `/platforms/${platform.id}/providers`);
    expect(shown.body.credly).toBeNull();
    expect(JSON.stringify(shown.body)).not.toContain(acc.apiKey);
  });
});

describe('Accredible group sync', () => {
  it('reads every page of groups with their design pictures; a group gone upstream becomes inactive', async () => {
    for (let i = 0; i < 51; i++) acc.addGroup();
    const platform = await platformWithAccredible();
    const { deps } = testDeps();
    const before = acc.count('POST', /\/v1\/issuer\/groups\/search$/);
    expect(await syncTemplates(t.laurel.ctx, platform.oid, 'accredible', deps)).toMatchObject({
      templates: 51,
      created: 51,
    });
    // 51 groups at 50 a page.
    expect(acc.count('POST', /\/v1\/issuer\/groups\/search$/) - before).toBe(2);
    const first = await t.laurel.ctx.models.templates
      .findOne({ platformId: platform.oid, externalId: String(acc.groups[0]!.id) })
      .lean();
    expect(first).toMatchObject({
      source: 'accredible',
      name: 'Course 1',
      description: 'Pass course 1',
      externalImageUrl: acc.designs.get(acc.groups[0]!.primary_design_id!),
      state: 'draft',
    });
    acc.groups[0]!.course_name = 'Course 1, renamed';
    acc.groups.splice(50, 1);
    expect(await syncTemplates(t.laurel.ctx, platform.oid, 'accredible', deps)).toMatchObject({
      templates: 50,
      updated: 1,
      vanished: 1,
    });
    expect(
      await t.laurel.ctx.models.templates.countDocuments({ platformId: platform.oid, source: 'accredible' }),
    ).toBe(51);
  });
});

describe('Accredible reads under its rate limit', () => {
  it('a bare 429 while syncing waits one 30 s bucket (on the test sleep) and the sync completes', async () => {
    acc.addGroup();
    const platform = await platformWithAccredible();
    acc.inject(
      { kind: 'status', status: 429, body: 'Too Many Requests' },
      { method: 'POST', path: /groups\/search$/ },
    );
    const clock = testDeps();
    expect(await syncTemplates(t.laurel.ctx, platform.oid, 'accredible', clock.deps)).toMatchObject({
      templates: 1,
    });
    expect(clock.slept).toEqual([30_000]);
  });
});

describe('issuing at Accredible', () => {
  it('creates one credential with the documented body and keeps its id and URL', async () => {
    const { credentialId, group, clock } = await awarded();
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect(acc.credentials).toHaveLength(1);
    const post = acc.requests.find((r) => r.method === 'POST' && r.path === '/v1/credentials')!;
    expect(post.body).toMatchObject({
      credential: {
        recipient: { name: 'Ada Lovelace', email: 'ada@example.edu' },
        group_id: group.id,
        complete: true,
      },
    });
    expect((post.body as any).credential.issued_on).toMatch(/^\d{4}-\d\d-\d\d$/);
    const shown = await credential(credentialId);
    expect(shown.body).toMatchObject({
      status: 'issued',
      externalId: String(acc.credentials[0]!.id),
      externalUrl: `https://www.credential.net/${acc.credentials[0]!.id}`,
    });
  });

  it('a 500 then success, and a timeout after creation: still exactly one credential', async () => {
    const clock = testDeps(undefined, 300);
    const { credentialId } = await awarded(clock);
    acc.inject(
      { kind: 'status', status: 500, body: '{"errors":"Internal error"}' },
      { method: 'POST', path: /^\/v1\/credentials$/ },
    );
    acc.inject({ kind: 'act-then-hang' }, { method: 'POST', path: /^\/v1\/credentials$/ });
    expect(await drain(clock)).toEqual({ done: 0, retrying: 1, failed: 0 });
    clock.advance(10_000);
    expect(await drain(clock)).toEqual({ done: 0, retrying: 1, failed: 0 });
    expect(acc.credentials).toHaveLength(1);
    clock.advance(20_000);
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect(acc.credentials).toHaveLength(1);
    // Accredible has no duplicate protection: each attempt after an unclear one searched first,
    // and the third found the credential the second had made, so it posted nothing.
    expect(acc.count('POST', /^\/v1\/credentials$/)).toBe(2);
    expect(acc.count('POST', /^\/v2\/credentials\/search$/)).toBe(2);
    expect((await credential(credentialId)).body.externalId).toBe(String(acc.credentials[0]!.id));
  });

  it('a 429 without Retry-After waits Laurel’s default on the test clock', async () => {
    const { credentialId, clock } = await awarded();
    acc.inject(
      { kind: 'status', status: 429, body: 'Too Many Requests' },
      { method: 'POST', path: /^\/v1\/credentials$/ },
    );
    expect(await drain(clock)).toEqual({ done: 0, retrying: 1, failed: 0 });
    const waiting = await t.laurel.ctx.models.credentials.findById(credentialId).lean();
    expect(waiting!.issuingUntil!.getTime() - clock.at().getTime()).toBe(60_000);
    clock.advance(60_000);
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect(acc.credentials).toHaveLength(1);
  });

  it('a 422 fails at once with Accredible’s message, without retrying', async () => {
    const { credentialId, group, clock } = await awarded();
    acc.groups.splice(acc.groups.indexOf(group), 1);
    expect(await drain(clock)).toEqual({ done: 0, retrying: 0, failed: 1 });
    clock.advance(3600_000);
    expect(await drain(clock)).toEqual({ done: 0, retrying: 0, failed: 0 });
    expect(acc.count('POST', /^\/v1\/credentials$/)).toBe(1);
    const shown = await credential(credentialId);
    expect(shown.body.status).toBe('failed');
    expect(shown.body.error).toContain('Invalid Group');
  });

  it('a learner without an e-mail fails with a message saying so, and nothing is sent', async () => {
    const group = acc.addGroup();
    const platform = await platformWithAccredible();
    const clock = testDeps();
    await syncTemplates(t.laurel.ctx, platform.oid, 'accredible', clock.deps);
    const ours = await t.laurel.ctx.models.templates
      .findOne({ platformId: platform.oid, externalId: String(group.id) })
      .lean();
    await activateSynced(t, String(ours!._id));
    await makePerson(t, platform.id, { userId: '99', email: null });
    const award = await admin(t, 'POST', '/credentials', {
      templateId: String(ours!._id),
      userId: '99',
      reason: 'x',
    });
    expect(await drain(clock)).toEqual({ done: 0, retrying: 0, failed: 1 });
    const shown = await credential(award.body.id);
    expect(shown.body.error).toContain('e-mail');
    expect(acc.count('POST', /^\/v1\/credentials$/)).toBe(0);
  });
});

describe('revoking and reconciling with Accredible', () => {
  it('a revocation expires the credential at Accredible', async () => {
    const { credentialId, clock } = await awarded();
    await drain(clock);
    await admin(t, 'POST', `/credentials/${credentialId}/revoke`, { reason: 'Mistake' });
    expect(await drain(clock)).toEqual({ done: 1, retrying: 0, failed: 0 });
    expect(acc.credentials[0]!.expired_on).toBe(clock.at().toISOString().slice(0, 10));
    expect(acc.count('PUT', /^\/v1\/credentials\/\d+$/)).toBe(1);
  });

  it('reconciliation revokes here what was expired or deleted at Accredible, and leaves the rest', async () => {
    const { platform, credentialId, clock } = await awarded();
    await drain(clock);
    // A second learner, whose credential stays valid.
    await makePerson(t, platform.id, { userId: '58', email: 'grace@example.edu', name: 'Grace Hopper' });
    const tpl = await t.laurel.ctx.models.templates
      .findOne({ platformId: platform.oid, source: 'accredible' })
      .lean();
    const other = await admin(t, 'POST', '/credentials', {
      templateId: String(tpl!._id),
      userId: '58',
      reason: 'x',
    });
    await drain(clock);
    acc.credentials[0]!.expired_on = '2020-01-01';
    const result = await reconcileAccredible(t.laurel.ctx, clock.deps);
    expect(result.revoked).toBeGreaterThanOrEqual(1);
    expect((await credential(credentialId)).body.status).toBe('revoked');
    expect((await credential(other.body.id)).body.status).toBe('issued');
    // Revoked there already: nothing is sent back.
    await drain(clock);
    expect(acc.count('PUT', /^\/v1\/credentials\/\d+$/)).toBe(0);
    acc.credentials.splice(1, 1);
    await reconcileAccredible(t.laurel.ctx, clock.deps);
    expect((await credential(other.body.id)).body.status).toBe('revoked');
  });
});
