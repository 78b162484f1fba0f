import jwt from 'jsonwebtoken';
import type { TestLaurel } from '../support/laurel.js';
import {
  launch,
  parseSetCookie,
  postLaunch,
  replay,
  type LaunchResult,
  type Tamper,
} from '../support/lms-platform/index.js';
import {
  expectHumanPage,
  follow,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from './helpers.js';

describe('refused launches', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let canvas: RegisteredPlatform;

  beforeAll(async () => {
    t = await startLaurelForLti();
    [moodle, canvas] = await Promise.all([
      startRegisteredPlatform(t, 'moodle'),
      startRegisteredPlatform(t, 'canvas'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([moodle?.platform.close(), canvas?.platform.close()]);
    await t?.stop();
  });

  const learnerLaunch = (
    r: RegisteredPlatform,
    extra: { tamper?: Tamper; blockThirdPartyCookies?: boolean } = {},
  ) =>
    launch(r.platform, {
      courseId: r.platform.demo!.courses.chemistry.id,
      sub: r.platform.demo!.users.ada.sub,
      ...extra,
    });

  const expectRefused = (
    page: LaunchResult | { status: number; body: string },
    status: number,
    text: RegExp,
  ) => {
    expect(page.status).toBe(status);
    expectHumanPage(page.body);
    expect(page.body).toMatch(text);
  };

  const cases: [Tamper, number, RegExp, string][] = [
    ['bad-signature', 401, /could not be verified/, 'bad_signature'],
    ['wrong-audience', 401, /meant for another tool/, 'wrong_audience'],
    ['unknown-deployment', 403, /installation of Laurel is not registered/, 'unknown_deployment'],
    ['expired', 401, /has expired/, 'expired'],
    ['no-nonce', 401, /carries no nonce/, 'missing_nonce'],
  ];
  for (const [tamper, status, text, code] of cases) {
    for (const flavour of ['moodle', 'canvas'] as const) {
      it(`refuses ${tamper} (${flavour}) with ${status} and a page saying why`, async () => {
        const r = flavour === 'moodle' ? moodle : canvas;
        const people = await t.laurel.ctx.models.people.countDocuments({});
        const page = await learnerLaunch(r, { tamper });
        expectRefused(page, status, text);
        expect(page.body).toContain(`(${code})`);
        // Nothing of a refused launch is stored.
        expect(await t.laurel.ctx.models.people.countDocuments({})).toBe(people);
      });
    }
  }

  it('refuses a replayed launch: without the state cookie, and with it (a reused nonce)', async () => {
    const first = await learnerLaunch(moodle);
    expect(first.status).toBe(200);
    // The browser's own replay: ltijs cleared the state cookie on the first use.
    expectRefused(await replay(first), 401, /could not be completed/);
    // An attacker who kept the state cookie too: the nonce was seen.
    const setCookie = first.trace.flatMap((step) =>
      step.setCookies.filter((c) => c.startsWith('state')).map((c) => parseSetCookie(c, new URL(step.url))),
    );
    const cookie = setCookie.find((c) => c && c.value !== '');
    expect(cookie).toBeDefined();
    const replayed = await postLaunch(moodle.platform, {
      idToken: first.idToken!,
      state: first.state!,
      cookies: [cookie!],
    });
    expectRefused(replayed, 401, /already used/);
    expect(replayed.body).toContain('(reused_nonce)');
  });

  it('takes a browser that blocks its cookies in the frame another way, never to a dead launch', async () => {
    // Moodle offers no storage: Laurel's page continues in a new window (by script, which this driver lacks).
    const moodleBlocked = await learnerLaunch(moodle, { blockThirdPartyCookies: true });
    expect(moodleBlocked.status).toBe(200);
    expect(moodleBlocked.body).toContain('Open Laurel in a new window');
    expect(moodleBlocked.idToken).toBeUndefined();
    // Canvas offers its storage (lti_storage_target): Laurel's page keeps the state there first.
    const canvasBlocked = await learnerLaunch(canvas, { blockThirdPartyCookies: true });
    expect(canvasBlocked.status).toBe(200);
    expect(canvasBlocked.body).toContain('data-mode="platform-storage"');
    for (const blocked of [moodleBlocked, canvasBlocked])
      for (const step of blocked.trace) {
        expect(new URL(step.url).searchParams.has('state')).toBe(false);
        expect(new URL(step.url).searchParams.has('nonce')).toBe(false);
      }
  });

  it('refuses a launch whose state is missing, or whose state cookie never arrived', async () => {
    const first = await learnerLaunch(canvas);
    expect(first.status).toBe(200);
    const noCookie = await postLaunch(canvas.platform, { idToken: first.idToken!, state: first.state! });
    expectRefused(noCookie, 401, /could not be completed/);
    expect(noCookie.body).toContain('(missing_state)');
    const noState = await postLaunch(canvas.platform, { idToken: first.idToken!, cookies: first.jar });
    expectRefused(noState, 401, /could not be completed/);
    expect(noState.body).toContain('(missing_state)');
  });

  it('answers a launch URL opened without a launch, and an incomplete login request, with pages', async () => {
    const res = await fetch(`${t.url}/lti/launch`, { method: 'POST', headers: { accept: 'text/html' } });
    expectRefused({ status: res.status, body: await res.text() }, 401, /only opens from a course/);
    const login = await follow(t, '/lti/login?iss=x');
    expect(login.status).toBe(400);
    expectHumanPage(login.body);
    expect(login.body).toContain('login_hint');
    expect(login.body).toContain('target_link_uri');
  });

  it('never trusts an id_token posted beside an ltik (ltijs does not verify it then)', async () => {
    const first = await learnerLaunch(canvas);
    const ltik = new URL(first.url).searchParams.get('ltik')!;
    const grace = canvas.platform.demo!.users.grace;
    const forged = jwt.sign(
      {
        iss: canvas.platform.issuer,
        aud: canvas.platform.clientId,
        sub: 'intruder',
        nonce: 'n-1',
        'https://purl.imsglobal.org/spec/lti/claim/roles': [
          'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
        ],
        'https://purl.imsglobal.org/spec/lti/claim/custom': { canvas_user_id: grace.lmsUserId },
      },
      'not-the-platform-key',
    );
    const people = JSON.stringify(await t.laurel.ctx.models.people.find({}).sort({ _id: 1 }).lean());
    const res = await fetch(`${t.url}/lti/launch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ltik, id_token: forged }).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/course\?ltik=/);
    expect(JSON.stringify(await t.laurel.ctx.models.people.find({}).sort({ _id: 1 }).lean())).toBe(people);
  });

  it("refuses a launch whose signature cannot be checked because the LMS's keys are unreachable", async () => {
    // A keyset URL that answers 404 (got retries refused connections for seconds; a 404 it does not).
    const r = await startRegisteredPlatform(t, 'moodle', {}, { jwksUrl: `${t.url}/no-such-keys` });
    try {
      const page = await learnerLaunch(r);
      expectRefused(page, 401, /could not fetch your LMS/);
      expect(page.body).toContain('(keys_unreachable)');
    } finally {
      await r.platform.close();
    }
  });

  it('refuses a login from an LMS that is not registered', async () => {
    const res = await follow(t, '/lti/login?iss=https://unknown.example.edu&login_hint=1&target_link_uri=x');
    expectRefused(res, 401, /not registered/);
  });
});
