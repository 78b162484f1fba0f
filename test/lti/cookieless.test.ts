import express from 'express';
import request from 'supertest';
import { csrfTokenFor, requireCsrf, requireCsrfFor } from '../../src/lti/csrf.js';
import { launchPathCounts, recordLaunchPath } from '../../src/lti/launch-paths.js';
import { LaunchRefusal } from '../../src/lti/refusals.js';
import { launchSession, resolveLaunch } from '../../src/lti/session.js';
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { fieldValue, launch, parseForms, type HtmlForm } from '../support/lms-platform/index.js';
import {
  expectHumanPage,
  follow,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from './helpers.js';

/**
 * The server side of the launches without cookies, driven without a browser: this test plays the part
 * of Laurel's login and launch pages (what their scripts send), so every answer of the server can be
 * checked, including the ones a faithful page never provokes. test/browser/ runs the real pages.
 */
describe('launches without cookies, server side', () => {
  let t: TestLaurel;
  let canvas: RegisteredPlatform;

  beforeAll(async () => {
    t = await startLaurelForLti();
    canvas = await startRegisteredPlatform(t, 'canvas');
  });
  afterAll(async () => {
    await canvas?.platform.close();
    await t?.stop();
  });

  const formById = (html: string, id: string) => parseForms(html).find((f) => f.id === id);
  const dataOf = (html: string, name: string) => new RegExp(`data-${name}="([^"]*)"`).exec(html)?.[1];
  const post = (url: string, fields: [string, string][]) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams(fields).toString(),
    });
  const complete = (body: Record<string, unknown>, cookie?: string) =>
    fetch(`${t.url}/lti/launch/complete`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(cookie ? { cookie } : {}),
      },
      body: JSON.stringify(body),
    });

  /**
   * A Canvas launch whose cookies the browser blocks, up to Laurel's launch page: the driver gets the login
   * page, this test sends its authentication form to the LMS (as the page does once the state is stored),
   * and posts the LMS's answer to Laurel.
   */
  async function loginPage(who = canvas.platform.demo!.users.ada.sub) {
    const login = await launch(canvas.platform, {
      courseId: canvas.platform.demo!.courses.chemistry.id,
      sub: who,
      blockThirdPartyCookies: true,
    });
    expect(login.body).toContain('data-mode="platform-storage"');
    return { login, auth: formById(login.body, 'laurel-auth-request')! };
  }

  /** The LMS's answer to the authentication request (the form that posts the id_token to Laurel). */
  async function lmsAnswer(auth: HtmlForm): Promise<HtmlForm> {
    return parseForms(await (await post(auth.action, auth.fields)).text())[0]!;
  }

  async function launchPage(who = canvas.platform.demo!.users.ada.sub) {
    const { login, auth } = await loginPage(who);
    const state = fieldValue(auth, 'state')!;
    const idTokenForm = await lmsAnswer(auth);
    expect(fieldValue(idTokenForm, 'state')).toBe(state);
    expect(fieldValue(idTokenForm, 'lti_storage_target')).toBe('post_message_forwarding');
    const res = await post(idTokenForm.action, idTokenForm.fields);
    const page = await res.text();
    return {
      state,
      status: res.status,
      page,
      launchFields: idTokenForm.fields,
      completion: dataOf(page, 'completion'),
      origin: dataOf(login.body, 'platform-origin'),
      stateKey: dataOf(login.body, 'state-key'),
    };
  }

  it('stores nothing of the state in a URL and names the LMS origin and storage frame to the page', async () => {
    const page = await launchPage();
    expect(page.status).toBe(200);
    expect(page.origin).toBe(new URL(canvas.platform.authLoginUrl).origin);
    expect(page.stateKey).toBe(`laurel_state_${page.state}`);
    expect(page.page).toContain('data-storage-target="post_message_forwarding"');
    // The launch page needs neither the id_token nor the nonce: neither is echoed.
    expect(page.page).not.toContain(page.launchFields.find(([n]) => n === 'id_token')![1]);
  });

  it('completes a launch once the state read back from the LMS origin matches, and counts its path', async () => {
    const before = await launchPathCounts(t.laurel.ctx, canvas.id);
    const page = await launchPage();
    const res = await complete({ completion: page.completion, state: page.state, origin: page.origin });
    expect(res.status).toBe(200);
    const { location } = (await res.json()) as { location: string };
    expect(location).toMatch(/^\/course\/learner\?ltik=/);
    const course = await follow(t, location);
    expect(course.status).toBe(200);
    expect(course.body).toContain('Chemistry 101');
    // The session is ltijs's: the same ltik resolves on every course page.
    const resolved = await resolveLaunch(
      t.laurel.ctx,
      t.laurel.lti.db,
      new URL(location, t.url).searchParams.get('ltik')!,
    );
    expect(resolved.launch.kind).toBe('learner');
    expect(resolved.token.platformContext.context?.title).toBe('Chemistry 101');
    const after = await launchPathCounts(t.laurel.ctx, canvas.id);
    expect(after.paths['platform-storage'].count).toBe(before.paths['platform-storage'].count + 1);
    expect(after.fallbacks).toBe(before.fallbacks + 1);

    // Replays: the proof again, and the LMS's answer again.
    const again = await complete({ completion: page.completion, state: page.state, origin: page.origin });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: 'reused_state' });
    const replayed = await post(`${t.url}/lti/launch`, page.launchFields);
    expect(replayed.status).toBe(401);
    const body = await replayed.text();
    expectHumanPage(body);
    expect(body).toContain('(reused_state)');
  });

  it('refuses a state read back from another origin, a wrong state, or none, and uses it up', async () => {
    for (const proof of [
      (p: { state: string; origin?: string }) => ({ state: p.state, origin: 'http://evil.example' }),
      (p: { state: string; origin?: string }) => ({ state: `${p.state}x`, origin: p.origin }),
      (p: { state: string; origin?: string }) => ({ state: null, origin: p.origin }),
    ]) {
      const page = await launchPage();
      const res = await complete({ completion: page.completion, ...proof(page) });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'state_not_confirmed' });
      const honest = await complete({ completion: page.completion, state: page.state, origin: page.origin });
      expect(await honest.json()).toMatchObject({ error: 'reused_state' });
    }
  });

  it('refuses a forged state, and a launch whose id_token is not for this login', async () => {
    const page = await launchPage();
    const forged = page.launchFields.map(([n, v]): [string, string] => [n, n === 'state' ? 'forged' : v]);
    const res = await post(`${t.url}/lti/launch`, forged);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('(missing_state)');
    // A live state of another login with this login's id_token: its nonce was not issued with that state.
    const first = await loginPage();
    const second = await loginPage();
    const answer = await lmsAnswer(first.auth);
    const swapped = answer.fields.map(([n, v]): [string, string] => [
      n,
      n === 'state' ? fieldValue(second.auth, 'state')! : v,
    ]);
    const mixed = await post(`${t.url}/lti/launch`, swapped);
    expect(mixed.status).toBe(401);
    expect(await mixed.text()).toContain('(invalid_launch)');
    // That refusal used the other state up too.
    const late = await post(`${t.url}/lti/launch`, (await lmsAnswer(second.auth)).fields);
    expect(await late.text()).toContain('(reused_state)');
  });

  it('answers the storage-access steps only for a registered LMS, and the binding cookie only where it came back', async () => {
    const params = {
      iss: canvas.platform.issuer,
      login_hint: 'x',
      target_link_uri: `${t.url}/lti/launch`,
      client_id: canvas.platform.clientId,
    };
    const unknown = await fetch(`${t.url}/lti/login/storage-access`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ step: 'bind', params: { ...params, iss: 'https://unknown.example' } }),
    });
    expect(unknown.status).toBe(401);
    const bind = await fetch(`${t.url}/lti/login/storage-access`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ step: 'bind', params }),
    });
    expect(bind.status).toBe(200);
    const bound = (await bind.json()) as { state: string; action: string };
    expect(bound.action).toBe(canvas.platform.authLoginUrl);
    const cookie = bind.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(
      /^laurel_sa_[0-9a-f]{16}=.+; Max-Age=300; Path=\/lti; .*HttpOnly; Secure; SameSite=None/,
    );
    const confirm = (withCookie: boolean) =>
      fetch(`${t.url}/lti/login/storage-access`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(withCookie ? { cookie: cookie.split(';')[0]! } : {}),
        },
        body: JSON.stringify({ step: 'confirm', state: bound.state }),
      });
    expect((await confirm(false)).status).toBe(409);
    expect((await confirm(true)).status).toBe(200);
    expect((await confirm(true)).status).toBe(409);
  });

  it('counts launch paths per platform, and answers them on the admin API', async () => {
    const ctx = t.laurel.ctx;
    const other = await startRegisteredPlatform(t, 'moodle');
    try {
      const id = (await ctx.models.platforms.findById(other.id).lean())!._id;
      await Promise.all([recordLaunchPath(ctx, id, 'new-window'), recordLaunchPath(ctx, id, 'new-window')]);
      await recordLaunchPath(ctx, id, 'cookie');
      const counts = await launchPathCounts(ctx, other.id);
      expect(counts).toMatchObject({ total: 3, fallbacks: 2 });
      expect(counts.paths['new-window'].count).toBe(2);
      expect(counts.paths['storage-access']).toEqual({ count: 0, lastAt: null });
      const answer = await admin(t, 'GET', `/platforms/${other.id}/launch-stats`);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual(counts);
      expect((await admin(t, 'GET', '/platforms/0123456789abcdef01234567/launch-stats')).status).toBe(404);
      const anonymous = await fetch(`${t.url}/api/v1/platforms/${other.id}/launch-stats`);
      expect(anonymous.status).toBe(401);
    } finally {
      await other.platform.close();
    }
  });

  describe('CSRF tokens bound to the launch', () => {
    const ltikOfLaunch = async (sub: string) => {
      const page = await launch(canvas.platform, { courseId: canvas.platform.demo!.courses.history.id, sub });
      return new URL(page.url).searchParams.get('ltik')!;
    };

    it('differ by launch and by purpose, and need a launch that launchSession resolved', async () => {
      const ctx = t.laurel.ctx;
      const { users } = canvas.platform.demo!;
      const a = (await resolveLaunch(ctx, t.laurel.lti.db, await ltikOfLaunch(users.instructor.sub))).launch;
      const aAgain = (await resolveLaunch(ctx, t.laurel.lti.db, a.ltik)).launch;
      const b = (await resolveLaunch(ctx, t.laurel.lti.db, await ltikOfLaunch(users.grace.sub))).launch;
      expect(csrfTokenFor(a)).toBe(csrfTokenFor(aAgain));
      expect(csrfTokenFor(a)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(csrfTokenFor(a)).not.toBe(csrfTokenFor(b));
      expect(csrfTokenFor(a, 'badge.create')).not.toBe(csrfTokenFor(a));
      expect(() => csrfTokenFor({ ...a })).toThrow(/launchSession/);
    });

    it('let forms through with their token only (field or header), as middleware after launchSession', async () => {
      const ltik = await ltikOfLaunch(canvas.platform.demo!.users.instructor.sub);
      const app = express();
      app.use(express.urlencoded({ extended: false }));
      const session = launchSession(t.laurel.ctx, t.laurel.lti.db);
      app.get('/form', session, (_req, res) => void res.json({ token: res.locals.csrfToken }));
      app.post('/save', session, requireCsrf, (_req, res) => void res.send('saved'));
      app.post('/award', session, requireCsrfFor('award'), (_req, res) => void res.send('awarded'));
      app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res
          .status(err instanceof LaunchRefusal ? err.status : 500)
          .send(err instanceof LaunchRefusal ? err.code : 'error');
      });
      const { token } = (await request(app).get('/form').query({ ltik })).body as { token: string };
      const launchOf = (await resolveLaunch(t.laurel.ctx, t.laurel.lti.db, ltik)).launch;
      expect(token).toBe(csrfTokenFor(launchOf));

      expect((await request(app).post('/save').type('form').send({ ltik, csrf: token })).text).toBe('saved');
      expect(
        (await request(app).post('/save').type('form').send({ ltik }).set('X-CSRF-Token', token)).status,
      ).toBe(200);
      for (const body of [
        { ltik },
        { ltik, csrf: 'x' },
        { ltik, csrf: `${token}x` },
        { ltik, csrf: csrfTokenFor(launchOf, 'award') },
      ]) {
        const refused = await request(app).post('/save').type('form').send(body);
        expect(refused.status).toBe(403);
        expect(refused.text).toBe('invalid_form');
      }
      expect((await request(app).post('/award').type('form').send({ ltik, csrf: token })).status).toBe(403);
      expect(
        (
          await request(app)
            .post('/award')
            .type('form')
            .send({ ltik, csrf: csrfTokenFor(launchOf, 'award') })
        ).text,
      ).toBe('awarded');
      // Another launch's token does not pass.
      const other = await ltikOfLaunch(canvas.platform.demo!.users.ada.sub);
      expect((await request(app).post('/save').type('form').send({ ltik: other, csrf: token })).status).toBe(
        403,
      );
    });
  });
});
