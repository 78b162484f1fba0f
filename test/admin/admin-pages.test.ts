/**
 * Laurel's own administration pages: sign in with the admin key, create a registration link that an
 * LMS then registers with (under the link's name), revoke one, approve or refuse a pending LMS.
 */
import request from 'supertest';
import type { TestLaurel } from '../support/laurel.js';
import {
  decodeEntities,
  parseForms,
  startTestPlatform,
  type TestPlatform,
} from '../support/lms-platform/index.js';
import { expectHumanPage, follow, startLaurelForLti } from '../lti/helpers.js';

let t: TestLaurel;
const platforms: TestPlatform[] = [];
beforeAll(async () => {
  t = await startLaurelForLti({ REGISTRATION_WITHOUT_LINK: 'pending' });
});
afterAll(async () => {
  await Promise.all(platforms.map((p) => p.close()));
  await t?.stop();
});

async function lms(flavour: 'moodle' | 'canvas') {
  const p = await startTestPlatform({ toolUrl: t.laurel.config.publicUrl, flavour, host: '127.0.0.1' });
  platforms.push(p);
  return p;
}

async function signIn(): Promise<{ cookie: string; csrf: string; page: string }> {
  const res = await request(t.url)
    .post('/admin/sign-in')
    .type('form')
    .send({ key: t.laurel.config.adminApiKey });
  expect(res.status).toBe(303);
  const setCookie = String(res.headers['set-cookie']);
  expect(setCookie).toMatch(/^laurel_admin=[^;]+; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=28800/);
  const cookie = setCookie.split(';')[0]!;
  const page = await request(t.url).get('/admin').set('Cookie', cookie);
  expect(page.status).toBe(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
  return { cookie, csrf, page: page.text };
}

describe('signing in', () => {
  it('shows a sign-in page that no one may frame and no cache keeps', async () => {
    const res = await request(t.url).get('/admin');
    expect(res.status).toBe(200);
    expectHumanPage(res.text);
    expect(res.text).toContain('Administrator key');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('refuses a wrong key, and a forged or tampered session', async () => {
    const wrong = await request(t.url).post('/admin/sign-in').type('form').send({ key: 'not the key' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('not the administrator key');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const { cookie } = await signIn();
    const tampered = cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const page = await request(t.url).get('/admin').set('Cookie', tampered);
    expect(page.text).toContain('Administrator key');
    const post = await request(t.url)
      .post('/admin/registration-links')
      .set('Cookie', tampered)
      .set('Accept', 'application/json')
      .type('form')
      .send({ expiresInDays: 7 });
    expect(post.status).toBe(401);
  });
});

describe('registration links', () => {
  it('creates a link an LMS registers with once, under the name the administrator gave', async () => {
    const { cookie, csrf } = await signIn();
    const noToken = await request(t.url)
      .post('/admin/registration-links')
      .set('Cookie', cookie)
      .type('form')
      .send({ name: 'Example College', expiresInDays: 7 });
    expect(noToken.status).toBe(403);

    const created = await request(t.url)
      .post('/admin/registration-links')
      .set('Cookie', cookie)
      .type('form')
      .send({ csrf, name: 'Example College', lms: 'moodle', expiresInDays: '3' });
    expect(created.status).toBe(200);
    expect(created.headers['cache-control']).toBe('no-store');
    const url = decodeEntities(/id="registration-url"[^>]*value="([^"]+)"/.exec(created.text)![1]!);
    expect(url).toMatch(new RegExp(`^${t.laurel.config.publicUrl}/lti/register\\?code=[A-Za-z0-9_-]{43}$`));

    const p = await lms('moodle');
    const registered = await follow(t, p.registrationStartUrl({ registrationUrl: url }));
    expect(registered.status).toBe(200);
    const stored = await t.laurel.ctx.models.platforms.findOne({ issuer: p.issuer }).lean();
    expect(stored).toMatchObject({ name: 'Example College', status: 'active' });

    // Used once: a second LMS with the same link is only pending (this Laurel keeps unlinked ones).
    const second = await lms('moodle');
    const again = await follow(t, second.registrationStartUrl({ registrationUrl: url }));
    expect(again.body).not.toContain('webhook-secret');
    expect((await t.laurel.ctx.models.platforms.findOne({ issuer: second.issuer }).lean())!.status).toBe(
      'pending',
    );

    const dashboard = await request(t.url).get('/admin').set('Cookie', cookie);
    expect(dashboard.text).toContain('used by Example College');
  });

  it('names each wrong field of the form', async () => {
    const { cookie, csrf } = await signIn();
    const res = await request(t.url)
      .post('/admin/registration-links')
      .set('Cookie', cookie)
      .type('form')
      .send({ csrf, name: 'Bad\u0000name', expiresInDays: '90' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('must not contain NUL characters');
    expect(res.text).toContain('a whole number of days from 1 to 30');
    expect(await t.laurel.ctx.models.registrationLinks.countDocuments({ name: /Bad/ })).toBe(0);
  });

  it('revokes an open link', async () => {
    const { cookie, csrf } = await signIn();
    const created = await request(t.url)
      .post('/admin/registration-links')
      .set('Cookie', cookie)
      .type('form')
      .send({ csrf, name: 'Short-lived', expiresInDays: '1' });
    const url = decodeEntities(/id="registration-url"[^>]*value="([^"]+)"/.exec(created.text)![1]!);
    const dashboard = await request(t.url).get('/admin').set('Cookie', cookie);
    const revoke = parseForms(dashboard.text).find((f) => f.action.endsWith('/revoke'))!;
    const res = await request(t.url)
      .post(revoke.action)
      .set('Cookie', cookie)
      .type('form')
      .send(Object.fromEntries(revoke.fields));
    expect(res.status).toBe(200);
    expect(res.text).toContain('was revoked');
    const refused = await follow(t, (await lms('canvas')).registrationStartUrl({ registrationUrl: url }));
    // With REGISTRATION_WITHOUT_LINK=pending a revoked link registers nothing active.
    expect(refused.body).not.toContain('webhook-secret');
  });
});

describe('LMSs waiting for approval', () => {
  it('approves a pending LMS under a confirmed name and shows its webhook secret once', async () => {
    const p = await lms('canvas');
    const pending = await follow(t, p.registrationStartUrl({}));
    expect(pending.status).toBe(200);
    const stored = await t.laurel.ctx.models.platforms.findOne({ issuer: p.issuer }).lean();
    expect(stored!.status).toBe('pending');

    const { cookie } = await signIn();
    const dashboard = await request(t.url).get('/admin').set('Cookie', cookie);
    expect(dashboard.text).toContain('Waiting for approval');
    const approve = parseForms(dashboard.text).find(
      (f) => f.action === `/admin/platforms/${String(stored!._id)}/approve`,
    )!;
    expect(approve).toBeTruthy();
    const fields = Object.fromEntries(approve.fields);
    const res = await request(t.url)
      .post(approve.action)
      .set('Cookie', cookie)
      .type('form')
      .send({ ...fields, name: 'Canvas of Example University' });
    expect(res.status).toBe(200);
    const secret = /id="webhook-secret"[^>]*value="([0-9a-f]{64})"/.exec(res.text)?.[1];
    expect(secret).toBeTruthy();
    const after = await t.laurel.ctx.models.platforms.findById(stored!._id).lean();
    expect(after).toMatchObject({ status: 'active', name: 'Canvas of Example University' });
    expect(t.laurel.ctx.sealer.open(after!.webhookSecretSealed)).toBe(secret);
  });

  it('refuses and removes a pending LMS, and will not remove an active one from the page', async () => {
    const p = await lms('moodle');
    await follow(t, p.registrationStartUrl({}));
    const stored = await t.laurel.ctx.models.platforms.findOne({ issuer: p.issuer }).lean();
    const { cookie, csrf } = await signIn();
    const res = await request(t.url)
      .post(`/admin/platforms/${String(stored!._id)}/refuse`)
      .set('Cookie', cookie)
      .type('form')
      .send({ csrf });
    expect(res.status).toBe(200);
    expect(await t.laurel.ctx.models.platforms.exists({ _id: stored!._id })).toBeNull();
    const active = await t.laurel.ctx.models.platforms.findOne({ status: { $ne: 'pending' } }).lean();
    const refused = await request(t.url)
      .post(`/admin/platforms/${String(active!._id)}/refuse`)
      .set('Cookie', cookie)
      .set('Accept', 'application/json')
      .type('form')
      .send({ csrf });
    expect(refused.status).toBe(409);
  });
});

describe('brute force', () => {
  it('limits sign-in attempts per network', async () => {
    let last = 0;
    for (let i = 0; i < 12; i++)
      last = (
        await request(t.url)
          .post('/admin/sign-in')
          .set('X-Forwarded-For', '203.0.113.7')
          .type('form')
          .send({ key: `guess-${i}` })
      ).status;
    // Last: every sign-in counts against the loopback address (TRUST_PROXY is off), so the budget is spent here.
    expect(last).toBe(429);
  });
});
