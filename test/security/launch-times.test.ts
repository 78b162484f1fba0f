/**
 * Issue 17, item 6: an LTI launch whose id_token is dated in the future (or carries no iat) was accepted.
 * Every time claim is now checked with at most a minute of clock skew, on ltijs's cookie path and on
 * Laurel's cookieless path alike.
 */
import type { TestLaurel } from '../support/laurel.js';
import {
  fieldValue,
  launch,
  parseForms,
  type DriverLaunchOptions,
  type HtmlForm,
} from '../support/lms-platform/index.js';
import {
  expectHumanPage,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

describe('time claims of LTI launches', () => {
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

  const learnerLaunch = (r: RegisteredPlatform, extra: Partial<DriverLaunchOptions> = {}) =>
    launch(r.platform, {
      courseId: r.platform.demo!.courses.chemistry.id,
      sub: r.platform.demo!.users.ada.sub,
      ...extra,
    });
  const people = () => t.laurel.ctx.models.people.countDocuments({});
  const nowS = () => Math.floor(Date.now() / 1000);

  for (const flavour of ['moodle', 'canvas'] as const) {
    const platform = () => (flavour === 'moodle' ? moodle : canvas);

    it(`refuses a launch whose iat lies 5 minutes ahead (${flavour}), and stores nothing of it`, async () => {
      const before = await people();
      const page = await learnerLaunch(platform(), { clockOffsetSeconds: 300 });
      expect(page.claims!.iat).toBeGreaterThanOrEqual(nowS() + 290);
      expect(page.status).toBe(401);
      expectHumanPage(page.body);
      expect(page.body).toContain('The launch is dated in the future');
      expect(page.body).toMatch(/(299|300) seconds ahead of Laurel/);
      expect(page.body).toContain('(clock_skew)');
      expect(page.url).not.toContain('ltik=');
      expect(await people()).toBe(before);
    });

    it(`accepts a launch whose iat lies 30 s ahead or behind (${flavour})`, async () => {
      for (const offset of [30, -30]) {
        const page = await learnerLaunch(platform(), { clockOffsetSeconds: offset });
        expect(page.claims!.iat).toBeGreaterThanOrEqual(nowS() + offset - 5);
        expect(page.status).toBe(200);
        expect(new URL(page.url).pathname).toBe('/course/learner');
      }
    });
  }

  it('refuses an iat alone, or an nbf, more than a minute ahead (exp as usual)', async () => {
    for (const claims of [{ iat: nowS() + 300 }, { nbf: nowS() + 300 }, { iat: nowS() + 90 }]) {
      const page = await learnerLaunch(moodle, { claims });
      expect(page.status).toBe(401);
      expect(page.body).toContain('The launch is dated in the future');
    }
    const nbfNow = await learnerLaunch(moodle, { claims: { nbf: nowS() } });
    expect(nbfNow.status).toBe(200);
  });

  it('refuses an id_token without iat or exp, or with an exp before its iat (ltijs took the first two)', async () => {
    for (const claims of [{ iat: undefined }, { exp: undefined }, { exp: nowS() - 10 }, { iat: 'now' }]) {
      const page = await learnerLaunch(canvas, { claims });
      expect(page.status).toBe(401);
      expectHumanPage(page.body);
      expect(page.body).toMatch(/\((invalid_launch|expired)\)/);
    }
  });

  describe('on the cookieless path (platform storage)', () => {
    const post = (url: string, fields: [string, string][]) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams(fields).toString(),
      });

    /** A Canvas launch whose cookies the browser blocks: the id_token's form as the LMS answers it. */
    async function cookielessIdTokenForm(clockOffsetSeconds: number): Promise<HtmlForm> {
      const login = await learnerLaunch(canvas, { blockThirdPartyCookies: true, clockOffsetSeconds });
      expect(login.body).toContain('data-mode="platform-storage"');
      const auth = parseForms(login.body).find((f) => f.id === 'laurel-auth-request')!;
      const answer = parseForms(await (await post(auth.action, auth.fields)).text())[0]!;
      expect(fieldValue(answer, 'state')).toBe(fieldValue(auth, 'state'));
      return answer;
    }

    it('refuses an id_token dated 5 minutes ahead and accepts one 30 s ahead', async () => {
      const ahead = await cookielessIdTokenForm(300);
      const refused = await post(ahead.action, ahead.fields);
      expect(refused.status).toBe(401);
      const page = await refused.text();
      expectHumanPage(page);
      expect(page).toContain('The launch is dated in the future');

      const near = await cookielessIdTokenForm(30);
      const accepted = await post(near.action, near.fields);
      expect(accepted.status).toBe(200);
      expect(await accepted.text()).toMatch(/data-completion="[^"]+"/);
    });
  });
});
