import { createLineItem, listLineItems, readResults, type AgsTarget } from '../../src/lti/ags.js';
import { admin, event, sendEvents } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import {
  followAutoSubmit,
  launch,
  parseForms,
  startTestPlatform,
  type LaunchResult,
  type TestPlatform,
} from '../support/lms-platform/index.js';
import {
  expectHumanPage,
  follow,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from './helpers.js';

describe('LTI Advantage services and registration', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let canvas: RegisteredPlatform;
  const extra: TestPlatform[] = [];

  beforeAll(async () => {
    t = await startLaurelForLti();
    [moodle, canvas] = await Promise.all([
      startRegisteredPlatform(t, 'moodle'),
      startRegisteredPlatform(t, 'canvas'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([moodle?.platform.close(), canvas?.platform.close(), ...extra.map((p) => p.close())]);
    await t?.stop();
  });

  describe('deep linking', () => {
    for (const flavour of ['moodle', 'canvas'] as const) {
      it(`returns a Badges resource link that the ${flavour} platform verifies and can launch`, async () => {
        const { platform: p } = flavour === 'moodle' ? moodle : canvas;
        const courseId = p.demo!.courses.history.id;
        const page = await launch(p, {
          courseId,
          sub: p.demo!.users.instructor.sub,
          messageType: 'LtiDeepLinkingRequest',
        });
        expect(page.status).toBe(200);
        expect(new URL(page.url).pathname).toBe('/course/deep-link');
        expect(page.body).toContain('Add Badges to this course');

        const form = parseForms(page.body).find((f) => f.action === '/course/deep-link')!;
        expect(form.fields.find(([name]) => name === 'ltik')?.[1]).toBeTruthy();
        const res = await fetch(new URL(form.action, page.url), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
          body: new URLSearchParams(form.fields).toString(),
        });
        expect(res.status).toBe(200);
        const html = await res.text();
        // The auto-submitting script runs under the CSP through its nonce.
        const nonce = /<script nonce="([^"]+)"/.exec(html)?.[1];
        expect(nonce).toBeTruthy();
        expect(res.headers.get('content-security-policy')).toContain(`'nonce-${nonce}'`);

        const before = p.deepLinkResponses.length;
        const back = await followAutoSubmit({ ...page, url: res.url, body: html } as LaunchResult);
        expect(back?.status).toBe(200);
        expect(p.deepLinkResponses).toHaveLength(before + 1);
        const record = p.deepLinkResponses.at(-1)!;
        expect(record.contentItems).toEqual([
          expect.objectContaining({
            type: 'ltiResourceLink',
            title: 'Badges',
            url: `${t.laurel.config.publicUrl}/lti/launch`,
          }),
        ]);
        expect(record.created).toHaveLength(1);

        // The new link launches Laurel like any other.
        const learner = await launch(p, {
          courseId,
          sub: p.demo!.users.ada.sub,
          resourceLinkId: record.created[0]!.resourceLinkId,
        });
        expect(new URL(learner.url).pathname).toBe('/course/learner');
      });
    }

    it('refuses the deep-linking page to a launch that is not a deep-linking request', async () => {
      const p = moodle.platform;
      const page = await launch(p, {
        courseId: p.demo!.courses.history.id,
        sub: p.demo!.users.instructor.sub,
      });
      const ltik = new URL(page.url).searchParams.get('ltik')!;
      const res = await follow(t, `/course/deep-link?ltik=${encodeURIComponent(ltik)}`);
      expect(res.status).toBe(403);
      expectHumanPage(res.body);
    });
  });

  describe('assignment and grade services', () => {
    it("creates the tool's own line item and reads its results (result.readonly)", async () => {
      const p = canvas.platform;
      const courseId = p.demo!.courses.chemistry.id;
      const target: AgsTarget = {
        issuer: p.issuer,
        clientId: p.clientId,
        lineItemsUrl: p.lineItemsUrl(courseId),
      };
      const grade = t.laurel.lti.provider.Grade;
      const item = await createLineItem(grade, target, {
        label: 'Laurel: Lab safety',
        scoreMaximum: 10,
        tag: 'laurel',
      });
      expect(item.id).toMatch(/^http/);
      expect(item).toMatchObject({ label: 'Laurel: Lab safety', scoreMaximum: 10, tag: 'laurel' });
      const own = await listLineItems(grade, target, { tag: 'laurel' });
      expect(own.map((i) => i.id)).toContain(item.id);

      const localId = p.lineItems(courseId).find((i) => i.id === item.id)!.localId as string;
      p.setResult(courseId, localId, p.demo!.users.ada.sub, 8, 10, 'Good work');
      p.setResult(courseId, localId, p.demo!.users.grace.sub, 4, 10);
      const results = await readResults(grade, target, item.id);
      expect(results.sort((a, b) => a.userId.localeCompare(b.userId))).toEqual(
        [
          { userId: p.demo!.users.ada.sub, resultScore: 8, resultMaximum: 10, comment: 'Good work' },
          { userId: p.demo!.users.grace.sub, resultScore: 4, resultMaximum: 10, comment: null },
        ].sort((a, b) => a.userId.localeCompare(b.userId)),
      );
      const ada = await readResults(grade, target, item.id, { userId: p.demo!.users.ada.sub });
      expect(ada).toHaveLength(1);
      expect(p.refusals.filter((r) => r.endpoint.includes('line_items'))).toEqual([]);
    });
  });

  describe('dynamic registration', () => {
    for (const flavour of ['moodle', 'canvas'] as const) {
      it(`registers Laurel with a ${flavour} platform and the platform with Laurel, showing the secret once`, async () => {
        const p = await startTestPlatform({
          toolUrl: t.laurel.config.publicUrl,
          flavour,
          host: '127.0.0.1',
          seedDemo: true,
        });
        extra.push(p);
        // Issue 17: a registration needs a one-time link an administrator made.
        const link = await admin(t, 'POST', '/registration-links', { name: `Example ${flavour}` });
        expect(link.status).toBe(201);
        const res = await follow(t, p.registrationStartUrl({ registrationUrl: link.body.url }));
        expect(res.status).toBe(200);
        expect(p.refusals).toEqual([]);
        expect(p.registrations).toHaveLength(1);
        const registration = p.registrations[0]!;
        const request = registration.request as Record<string, any>;
        expect(request.redirect_uris).toEqual([`${t.laurel.config.publicUrl}/lti/launch`]);
        const toolConfig = request['https://purl.imsglobal.org/spec/lti-tool-configuration'];
        if (flavour === 'canvas') {
          expect(toolConfig['https://canvas.instructure.com/lti/privacy_level']).toBe('public');
          expect(toolConfig.custom_parameters).toMatchObject({
            canvas_course_id: '$Canvas.course.id',
            canvas_user_id: '$Canvas.user.id',
          });
        } else expect(toolConfig.custom_parameters).toMatchObject({ moodle_user_id: '$User.id' });

        const stored = await t.laurel.ctx.models.platforms
          .findOne({ issuer: p.issuer, clientId: registration.clientId })
          .lean();
        expect(stored).toMatchObject({
          name: `Example ${flavour}`,
          lms: flavour,
          status: 'active',
          registeredBy: 'dynamic-registration',
          deploymentIds: [registration.deploymentId],
        });
        const secret = /id="webhook-secret"[^>]*value="([0-9a-f]{64})"/.exec(res.body)?.[1];
        expect(secret).toBeTruthy();
        expect(res.body).toContain('org.imsglobal.lti.close');
        expect(res.body).toContain('shows it only this once');

        // The secret signs events; a launch through the new client works and shares names and e-mails.
        const sent = await sendEvents(t, secret!, event(String(stored!._id), { type: 'enrollment.created' }));
        expect(sent.status).toBe(200);
        const page = await launch(p, {
          clientId: registration.clientId,
          courseId: p.demo!.courses.chemistry.id,
          sub: p.demo!.users.instructor.sub,
        });
        expect(new URL(page.url).pathname).toBe('/course/instructor');
        const iris = await t.laurel.ctx.models.people
          .findOne({ platformId: stored!._id, sub: p.demo!.users.instructor.sub })
          .lean();
        expect(iris).toMatchObject({ name: 'Iris Instructor', email: 'iris@example.edu' });
      });
    }

    it('refuses a registration without a link; with one, names a missing parameter and hides what the LMS answered', async () => {
      const refused = await follow(t, '/lti/register?registration_token=abc');
      expect(refused.status).toBe(403);
      expectHumanPage(refused.body);
      expect(refused.body).toContain('registration link');
      const link = (await admin(t, 'POST', '/registration-links', {})).body.url as string;
      const noConfig = await follow(t, `${link}&registration_token=abc`);
      expect(noConfig.status).toBe(400);
      expectHumanPage(noConfig.body);
      expect(noConfig.body).toContain('openid_configuration');
      // A "configuration" that lacks every field a platform must give: the caller learns only that
      // the registration failed (the log names the fields).
      const empty = await follow(t, `${link}&openid_configuration=${encodeURIComponent(`${t.url}/healthz`)}`);
      expect(empty.status).toBe(502);
      expectHumanPage(empty.body);
      expect(empty.body).toContain('Laurel could not complete the registration with your LMS.');
      expect(empty.body).not.toContain('openid_configuration.');
      const help = await follow(t, '/lti/register');
      expect(help.status).toBe(200);
      expect(help.body).toContain(`${t.laurel.config.publicUrl}/lti/register`);
    });
  });

  it('serves the Canvas developer key configuration', async () => {
    const res = await fetch(`${t.url}/lti/canvas.json`);
    expect(res.status).toBe(200);
    const json = (await res.json()) as Record<string, any>;
    const base = t.laurel.config.publicUrl;
    expect(json).toMatchObject({
      title: 'Laurel',
      oidc_initiation_url: `${base}/lti/login`,
      target_link_uri: `${base}/lti/launch`,
      public_jwk_url: `${base}/lti/keys`,
      custom_fields: { canvas_course_id: '$Canvas.course.id', canvas_user_id: '$Canvas.user.id' },
    });
    expect(typeof json.description).toBe('string');
    expect(json.scopes.sort()).toEqual(
      [
        'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
        'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
        'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
        'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
        'https://purl.imsglobal.org/spec/lti-ags/scope/score',
      ].sort(),
    );
    const [extension] = json.extensions;
    expect(extension).toMatchObject({
      platform: 'canvas.instructure.com',
      privacy_level: 'public',
      domain: new URL(base).host,
    });
    const placements = Object.fromEntries(
      extension.settings.placements.map((pl: any) => [pl.placement, pl.message_type]),
    );
    expect(placements).toEqual({
      course_navigation: 'LtiResourceLinkRequest',
      link_selection: 'LtiDeepLinkingRequest',
      assignment_selection: 'LtiDeepLinkingRequest',
    });
  });

  it("keeps ltijs's platform records in step with the admin API, and repairs them at start", async () => {
    const kids = async () =>
      ((await (await fetch(`${t.url}/lti/keys`)).json()) as { keys: { kid: string }[] }).keys.map(
        (k) => k.kid,
      );
    const lti = t.laurel.lti;
    const p = await startTestPlatform({ toolUrl: t.laurel.config.publicUrl, flavour: 'moodle' });
    extra.push(p);
    const created = await admin(t, 'POST', '/platforms', p.registrationInfo());
    expect(created.status).toBe(201);
    const record =
      (await lti.db.Get(false, 'platform', { platformUrl: p.issuer, clientId: p.clientId })) || [];
    expect(record).toHaveLength(1);
    const kid = record[0]!.kid as string;
    expect(await kids()).toContain(kid);

    // A crash between the two writes leaves ltijs without the platform: the start-up check restores it.
    await lti.platforms.remove({ issuer: p.issuer, clientId: p.clientId });
    expect(await kids()).not.toContain(kid);
    await lti.platforms.reconcile(t.laurel.ctx.models, t.laurel.logger);
    expect(await lti.db.Get(false, 'platform', { platformUrl: p.issuer, clientId: p.clientId })).toHaveLength(
      1,
    );

    expect((await admin(t, 'DELETE', `/platforms/${created.body.id}`)).status).toBe(204);
    expect(await lti.db.Get(false, 'platform', { platformUrl: p.issuer })).toBe(false);
    expect(await lti.db.Get(false, 'publickey', { platformUrl: p.issuer })).toBe(false);
  });

  it('publishes one key per registered platform in the JWKS', async () => {
    const res = await fetch(`${t.url}/lti/keys`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
  });
});
