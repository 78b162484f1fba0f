/**
 * LTI Dynamic Registration needs a registration link (issue 17): without one Laurel refuses before
 * requesting anything, or (REGISTRATION_WITHOUT_LINK=pending) stores a platform that cannot launch,
 * send events or get credentials until an administrator approves it. The platform's name is the
 * administrator's, and a failed exchange with the LMS answers one generic message.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Types } from 'mongoose';
import { awardCredential } from '../../src/awards/award.js';
import type { PersonDoc } from '../../src/db/models/person.js';
import type { TemplateDoc } from '../../src/db/models/template.js';
import { REGISTRATION_FAILED } from '../../src/lti/registration.js';
import { SYSTEM } from '../../src/audit/record.js';
import { admin, ADMIN_KEY, event, sendEvents } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch, startTestPlatform, type TestPlatform } from '../support/lms-platform/index.js';
import { expectHumanPage, follow, startLaurelForLti } from '../lti/helpers.js';

/** A local server that counts the requests it gets and answers what the test says. */
type Counting = { url: string; requests: number; connections: number; close(): Promise<void> };
async function countingServer(status = 200, body = '{}'): Promise<Counting> {
  const state = { requests: 0, connections: 0 } as Counting;
  const server: Server = createServer((_req, res) => {
    state.requests++;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

const SECRET = /id="webhook-secret"[^>]*value="([0-9a-f]{64})"/;

async function newLink(t: TestLaurel, body: Record<string, unknown> = {}) {
  const answer = await admin(t, 'POST', '/registration-links', body);
  expect(answer.status).toBe(201);
  return answer.body as { id: string; url: string; expiresAt: string; name: string | null };
}

describe('dynamic registration with registration links (refuse mode, the default)', () => {
  let t: TestLaurel;
  const platforms: TestPlatform[] = [];
  const servers: Counting[] = [];
  const platform = async (flavour: 'moodle' | 'canvas', name?: string) => {
    const p = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour,
      host: '127.0.0.1',
      seedDemo: true,
      ...(name ? { name } : {}),
    });
    platforms.push(p);
    return p;
  };
  const counting = async (status?: number, body?: string) => {
    const s = await countingServer(status, body);
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    t = await startLaurelForLti();
  });
  afterAll(async () => {
    await Promise.all([...platforms.map((p) => p.close()), ...servers.map((s) => s.close())]);
    await t?.stop();
  });

  it('answers POST /registration-links with a one-time URL under PUBLIC_URL/lti/register and its expiry', async () => {
    const before = Date.now();
    const link = await newLink(t, { name: 'Example University', lms: 'moodle' });
    expect(link.url).toMatch(
      new RegExp(`^${t.laurel.config.publicUrl}/lti/register\\?code=[A-Za-z0-9_-]{43}$`),
    );
    const expires = Date.parse(link.expiresAt);
    expect(expires - before).toBeGreaterThan(7 * 24 * 3600_000 - 60_000);
    expect(expires - before).toBeLessThan(7 * 24 * 3600_000 + 60_000);
    expect(link).toMatchObject({ name: 'Example University', lms: 'moodle', state: 'open' });
    const short = await newLink(t, { expiresInMinutes: 30 });
    expect(Date.parse(short.expiresAt) - Date.now()).toBeLessThanOrEqual(30 * 60_000);

    // Only a hash of the code is stored, and lists never show it.
    const code = new URL(link.url).searchParams.get('code')!;
    const raw = await t.laurel.ctx.models.registrationLinks.collection.find({}).toArray();
    expect(JSON.stringify(raw)).not.toContain(code);
    const listed = await admin(t, 'GET', '/registration-links?state=open');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((l: any) => l.id)).toEqual(expect.arrayContaining([link.id, short.id]));
    expect(JSON.stringify(listed.body)).not.toContain(code);
    expect(listed.body.items[0]).not.toHaveProperty('url');
  });

  it('validates the link body and needs the admin key', async () => {
    for (const [body, path] of [
      [{ expiresInMinutes: 0 }, 'expiresInMinutes'],
      [{ expiresInMinutes: 43201 }, 'expiresInMinutes'],
      [{ expiresInMinutes: '60' }, 'expiresInMinutes'],
      [{ expiresInMinutes: 1.5 }, 'expiresInMinutes'],
      [{ name: '' }, 'name'],
      [{ name: 'a\u0000b' }, 'name'],
      [{ lms: 'blackboard' }, 'lms'],
      [{ colour: 'red' }, 'colour'],
    ] as const) {
      const answer = await admin(t, 'POST', '/registration-links', body);
      expect(answer.status).toBe(400);
      expect(answer.body.details.map((d: any) => d.path)).toContain(path);
    }
    expect((await admin(t, 'GET', '/registration-links?limit=0')).status).toBe(400);
    expect((await admin(t, 'GET', '/registration-links?state=odd')).status).toBe(400);
    const anonymous = await fetch(`${t.url}/api/v1/registration-links`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
  });

  it('refuses a registration without a link with 403, before requesting anything', async () => {
    const lms = await counting();
    const p = await platform('moodle');
    for (const href of [
      `/lti/register?openid_configuration=${encodeURIComponent(`${lms.url}/config`)}&registration_token=x`,
      `/lti/register?openid_configuration=${encodeURIComponent(`${lms.url}/config`)}&registration_token=x&code=${'A'.repeat(43)}`,
      `/lti/register?openid_configuration=${encodeURIComponent(`${lms.url}/config`)}&code=short`,
      `/lti/register?openid_configuration=${encodeURIComponent(`${lms.url}/config`)}&code=a&code=b`,
      p.registrationStartUrl(),
    ]) {
      const res = await follow(t, href);
      expect(res.status).toBe(403);
      expectHumanPage(res.body);
      expect(res.body).toMatch(/registration link/i);
      expect(res.body).not.toMatch(SECRET);
    }
    expect(lms.connections).toBe(0);
    expect(p.registrations).toHaveLength(0);
    expect(await t.laurel.ctx.models.platforms.countDocuments({ issuer: p.issuer })).toBe(0);

    const json = await fetch(`${t.url}/lti/register?openid_configuration=${encodeURIComponent(lms.url)}`, {
      headers: { accept: 'application/json' },
    });
    expect(json.status).toBe(403);
    expect((await json.json()).error).toBe('registration_link_required');
  });

  it('registers an active platform with a link, once, under the name the link gives', async () => {
    const p = await platform('canvas', 'Example State University (Registrar)');
    const link = await newLink(t, { name: 'Northfield College', lms: 'canvas' });
    const res = await follow(t, p.registrationStartUrl({ registrationUrl: link.url }));
    expect(res.status).toBe(200);
    expect(p.registrations).toHaveLength(1);
    const secret = SECRET.exec(res.body)?.[1];
    expect(secret).toBeTruthy();
    const { clientId, deploymentId } = p.registrations[0]!;
    const stored = await t.laurel.ctx.models.platforms.findOne({ issuer: p.issuer, clientId }).lean();
    expect(stored).toMatchObject({
      name: 'Northfield College',
      lms: 'canvas',
      status: 'active',
      registeredBy: 'dynamic-registration',
      deploymentIds: [deploymentId],
      suggestedName: 'Example State University (Registrar)',
    });
    const id = String(stored!._id);
    // The registration told the LMS Laurel's login and launch addresses.
    const request = p.registrations[0]!.request as Record<string, any>;
    expect(request.initiate_login_uri).toBe(`${t.laurel.config.publicUrl}/lti/login`);
    expect(request['https://purl.imsglobal.org/spec/lti-tool-configuration'].target_link_uri).toBe(
      `${t.laurel.config.publicUrl}/lti/launch`,
    );

    // The issuer on its credentials carries the administrator's name, not the one the LMS sent.
    const issuer = await admin(t, 'GET', `/platforms/${id}/issuer`);
    expect(issuer.body.name).toBe('Northfield College');

    const page = await launch(p, {
      clientId,
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    expect(new URL(page.url).pathname).toBe('/course/instructor');
    expect((await sendEvents(t, secret!, event(id, { type: 'enrollment.created' }))).status).toBe(200);

    const links = await admin(t, 'GET', '/registration-links?state=used');
    expect(links.body.items.find((l: any) => l.id === link.id)).toMatchObject({
      state: 'used',
      platformId: id,
    });

    // The link is spent: the same link with a fresh registration token is refused, nothing fetched.
    const again = await follow(t, p.registrationStartUrl({ registrationUrl: link.url }));
    expect(again.status).toBe(403);
    expect(again.body).toContain('has been used');
    expect(p.registrations).toHaveLength(1);

    const audit = await t.laurel.ctx.models.audit.find({ 'target.id': { $in: [link.id, id] } }).lean();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['registration-link.created', 'registration-link.used', 'platform.registered']),
    );
  });

  it('without a name on the link, names the platform after the LMS host and keeps the LMS’s name as a suggestion', async () => {
    const p = await platform('canvas', 'Example State University (Registrar)');
    const link = await newLink(t);
    const res = await follow(t, p.registrationStartUrl({ registrationUrl: link.url }));
    expect(res.status).toBe(200);
    const stored = await t.laurel.ctx.models.platforms
      .findOne({ issuer: p.issuer, clientId: p.registrations[0]!.clientId })
      .lean();
    const host = new URL(p.openidConfigurationUrl).host;
    expect(stored!.name).toBe(`Canvas at ${host}`);
    const listed = await admin(t, 'GET', `/platforms/${String(stored!._id)}`);
    expect(listed.body).toMatchObject({
      name: `Canvas at ${host}`,
      status: 'active',
      suggestedName: 'Example State University (Registrar)',
    });
    const issuer = await admin(t, 'GET', `/platforms/${String(stored!._id)}/issuer`);
    expect(issuer.body.name).toBe(`Canvas at ${host}`);
  });

  it('refuses an expired or revoked link without requesting anything', async () => {
    const lms = await counting();
    const expired = await newLink(t, { expiresInMinutes: 1 });
    await t.laurel.ctx.models.registrationLinks.updateOne(
      { _id: expired.id },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    const config = encodeURIComponent(`${lms.url}/config`);
    const res = await follow(t, `${expired.url}&openid_configuration=${config}&registration_token=x`);
    expect(res.status).toBe(403);
    expect(res.body).toContain('has expired');

    const revoked = await newLink(t);
    expect((await admin(t, 'DELETE', `/registration-links/${revoked.id}`)).status).toBe(204);
    expect((await admin(t, 'DELETE', `/registration-links/${revoked.id}`)).status).toBe(404);
    const refused = await follow(t, `${revoked.url}&openid_configuration=${config}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('not valid');
    expect(lms.connections).toBe(0);
  });

  it('lets one of two simultaneous registrations with the same link win', async () => {
    const p = await platform('moodle');
    const link = await newLink(t, { name: 'Race College' });
    const [a, b] = await Promise.all([
      follow(t, p.registrationStartUrl({ registrationUrl: link.url })),
      follow(t, p.registrationStartUrl({ registrationUrl: link.url })),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 403]);
    expect(await t.laurel.ctx.models.platforms.countDocuments({ issuer: p.issuer })).toBe(1);
    // A used link cannot be revoked: it is the platform's history.
    expect((await admin(t, 'DELETE', `/registration-links/${link.id}`)).status).toBe(409);
  });

  it('answers a failed exchange with the LMS with one generic message, and the link stays usable', async () => {
    const link = await newLink(t, { name: 'Retry University' });
    const broken = await counting(500, '{"error":"internal secret detail"}');
    const notJson = await counting(200, '<html>router admin page</html>');
    const empty = await counting(200, '{}');
    for (const server of [broken, notJson, empty]) {
      const res = await follow(
        t,
        `${link.url}&openid_configuration=${encodeURIComponent(`${server.url}/config`)}&registration_token=x`,
      );
      expect(res.status).toBe(502);
      expectHumanPage(res.body);
      expect(res.body).toContain(REGISTRATION_FAILED);
      expect(res.body).not.toContain('internal secret');
      expect(res.body).not.toContain('router admin');
      expect(res.body).not.toContain(new URL(server.url).host);
      expect(res.body).not.toMatch(/HTTP 500|issuer|authorization_endpoint/);
      expect(server.requests).toBe(1);
    }
    const unreachable = await follow(
      t,
      `${link.url}&openid_configuration=${encodeURIComponent('http://127.0.0.1:9/config')}`,
    );
    expect(unreachable.status).toBe(502);
    expect(unreachable.body).toContain(REGISTRATION_FAILED);

    const p = await platform('moodle');
    const res = await follow(t, p.registrationStartUrl({ registrationUrl: link.url }));
    expect(res.status).toBe(200);
    expect(res.body).toContain('Retry University');
  });

  it('says what a link is when a person opens it in a browser, without using it', async () => {
    const link = await newLink(t, { name: 'Browser College', lms: 'moodle' });
    const page = await follow(t, link.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('valid until');
    expect(page.body).toContain('Browser College');
    const help = await follow(t, '/lti/register');
    expect(help.status).toBe(200);
    expect(help.body).toContain('registration link');
    expect(help.body).toContain(`${t.laurel.config.publicUrl}/lti/register`);
    expect(
      (await admin(t, 'GET', '/registration-links?state=open')).body.items.map((l: any) => l.id),
    ).toContain(link.id);
  });

  it('refuses to approve a platform that is not pending', async () => {
    const p = await platform('moodle');
    const created = await admin(t, 'POST', '/platforms', p.registrationInfo());
    const answer = await admin(t, 'POST', `/platforms/${created.body.id}/approve`, {});
    expect(answer.status).toBe(409);
    expect(answer.body.error).toBe('not_pending');
  });
});

describe('dynamic registration without a link in pending mode', () => {
  let t: TestLaurel;
  const platforms: TestPlatform[] = [];
  beforeAll(async () => {
    t = await startLaurelForLti({ REGISTRATION_WITHOUT_LINK: 'pending' });
  });
  afterAll(async () => {
    await Promise.all(platforms.map((p) => p.close()));
    await t?.stop();
  });

  it('stores a pending platform that cannot launch, send events or get credentials until approved', async () => {
    const p = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour: 'canvas',
      host: '127.0.0.1',
      seedDemo: true,
      name: 'Example State University (Registrar)',
    });
    platforms.push(p);
    const res = await follow(t, p.registrationStartUrl());
    expect(res.status).toBe(200);
    expectHumanPage(res.body);
    expect(res.body).toContain('waits for approval');
    // No secret on the page.
    expect(res.body).not.toMatch(/[0-9a-f]{64}/);
    const { clientId } = p.registrations[0]!;
    const stored = await t.laurel.ctx.models.platforms.findOne({ issuer: p.issuer, clientId }).lean();
    expect(stored).toMatchObject({
      status: 'pending',
      suggestedName: 'Example State University (Registrar)',
    });
    expect(stored!.name).not.toContain('Example State');
    const id = String(stored!._id);

    const pending = await admin(t, 'GET', '/platforms?status=pending');
    expect(pending.body.items).toEqual([expect.objectContaining({ id, status: 'pending' })]);

    // No launch: ltijs (and the cookieless paths) see an inactive platform.
    const refused = await launch(p, {
      clientId,
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('not activated');

    // No events: even the secret made at registration (never shown) is refused, like an unknown platform.
    const unseen = t.laurel.ctx.sealer.open(stored!.webhookSecretSealed);
    expect((await sendEvents(t, unseen, event(id))).status).toBe(401);
    expect((await sendEvents(t, unseen, event(p.issuer))).status).toBe(401);
    expect((await admin(t, 'POST', `/platforms/${id}/webhook-secret`)).status).toBe(409);

    // No credentials.
    await expect(
      awardCredential(t.laurel.ctx, {
        template: { _id: stored!._id, platformId: stored!._id as Types.ObjectId } as unknown as TemplateDoc,
        person: { _id: stored!._id } as unknown as PersonDoc,
        userId: 'u',
        courseRef: null,
        courseId: null,
        evidence: [],
        actor: SYSTEM,
      }),
    ).rejects.toMatchObject({ status: 409, code: 'platform_pending' });

    // The administrator approves it under a name of their choosing and gets the secret once.
    const badName = await admin(t, 'POST', `/platforms/${id}/approve`, { name: '' });
    expect(badName.status).toBe(400);
    const approved = await admin(t, 'POST', `/platforms/${id}/approve`, { name: 'Northfield College' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id, status: 'active', name: 'Northfield College' });
    expect(approved.body.webhookSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(approved.body.webhookSecret).not.toBe(unseen);
    expect((await admin(t, 'POST', `/platforms/${id}/approve`, {})).status).toBe(409);
    expect((await admin(t, 'GET', `/platforms/${id}`)).body.webhookSecret).toBeUndefined();

    const page = await launch(p, {
      clientId,
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    expect(new URL(page.url).pathname).toBe('/course/instructor');
    expect((await sendEvents(t, approved.body.webhookSecret, event(id))).status).toBe(200);
    expect((await sendEvents(t, unseen, event(id))).status).toBe(401);
    const issuer = await admin(t, 'GET', `/platforms/${id}/issuer`);
    expect(issuer.body.name).toBe('Northfield College');
    const audit = await t.laurel.ctx.models.audit
      .findOne({ action: 'platform.approved', 'target.id': id })
      .lean();
    expect(audit?.details).toMatchObject({ name: 'Northfield College' });
  });

  it('still registers an active platform with a link', async () => {
    const p = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour: 'moodle',
      host: '127.0.0.1',
    });
    platforms.push(p);
    const link = await newLink(t, { name: 'Linked College' });
    const res = await follow(t, p.registrationStartUrl({ registrationUrl: link.url }));
    expect(res.status).toBe(200);
    expect(res.body).toMatch(SECRET);
    const stored = await t.laurel.ctx.models.platforms.findOne({ issuer: p.issuer }).lean();
    expect(stored).toMatchObject({ status: 'active', name: 'Linked College' });
  });
});

describe('dynamic registration in production', () => {
  let t: TestLaurel;
  const key = 'production-test-admin-key-0123456789';
  beforeAll(async () => {
    t = await startLaurelForLti({
      NODE_ENV: 'production',
      ADMIN_API_KEY: key,
      LTI_KEY: 'production-test-lti-key-0123456789abcdef',
      ENCRYPTION_KEY: '11'.repeat(32),
      LOG_LEVEL: 'silent',
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('does not request an LMS at a loopback address, and says only that the registration failed', async () => {
    expect(ADMIN_KEY).not.toBe(key);
    const lms = await countingServer();
    try {
      const created = await fetch(`${t.url}/api/v1/registration-links`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const { url } = (await created.json()) as { url: string };
      const port = new URL(lms.url).port;
      for (const target of [
        `https://127.0.0.1:${port}/config`,
        `https://[::1]:${port}/config`,
        `https://localhost:${port}/config`,
      ]) {
        const res = await follow(
          t,
          `${url}&openid_configuration=${encodeURIComponent(target)}&registration_token=x`,
        );
        expect(res.status).toBe(502);
        expect(res.body).toContain(REGISTRATION_FAILED);
        expect(res.body).not.toMatch(/loopback|127\.0\.0\.1|ECONNREFUSED/);
      }
      // Not even a TLS handshake was tried.
      expect(lms.connections).toBe(0);
    } finally {
      await lms.close();
    }
  });
});
