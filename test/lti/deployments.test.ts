import { Types } from 'mongoose';
import { runCli } from '../../src/cli.js';
import { admin } from '../support/api.js';
import { withDevDefaults } from '../support/dev-env.js';
import type { TestLaurel } from '../support/laurel.js';
import {
  fieldValue,
  launch,
  parseForms,
  startTestPlatform,
  type HtmlForm,
  type TestPlatform,
} from '../support/lms-platform/index.js';
import { expectHumanPage, follow, startLaurelForLti } from './helpers.js';

/**
 * Issue 19, item 5: a dynamic registration names no deployment on Canvas (the deployment id comes with
 * the first launch of an installation); the first validly signed launch of a new deployment of an
 * authorised platform is admitted and recorded, or, under the `approve` policy, refused and listed.
 */
describe('new deployments of a registered LMS', () => {
  let t: TestLaurel;
  const platforms: TestPlatform[] = [];

  beforeAll(async () => {
    t = await startLaurelForLti();
  });
  afterAll(async () => {
    await Promise.all(platforms.map((p) => p.close()));
    await t?.stop();
  });

  /** A Canvas-flavoured LMS registered through a registration link; its answer names no deployment. */
  async function canvasByDynamicRegistration() {
    const p = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour: 'canvas',
      host: '127.0.0.1',
      seedDemo: true,
      registrationAnswersDeploymentId: false,
    });
    platforms.push(p);
    const link = await admin(t, 'POST', '/registration-links', { name: 'Example Canvas' });
    expect(link.status).toBe(201);
    const res = await follow(t, p.registrationStartUrl({ registrationUrl: link.body.url }));
    expect(res.status).toBe(200);
    expect(p.refusals).toEqual([]);
    const registration = p.registrations[0]!;
    const stored = await t.laurel.ctx.models.platforms
      .findOne({ issuer: p.issuer, clientId: registration.clientId })
      .lean();
    return { p, registration, id: String(stored!._id), page: res.body };
  }

  const instructorLaunch = (p: TestPlatform, clientId: string, deploymentId?: string) =>
    launch(p, {
      clientId,
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
      ...(deploymentId ? { deploymentId } : {}),
    });

  const auditOf = (id: string, action: string) =>
    t.laurel.ctx.models.audit
      .find({ platformId: new Types.ObjectId(id), action })
      .lean<{ details?: Record<string, unknown> }[]>();

  it('admits and records the first launch of a Canvas deployment the registration never named', async () => {
    const { p, registration, id, page } = await canvasByDynamicRegistration();
    const before = await admin(t, 'GET', `/platforms/${id}`);
    expect(before.body).toMatchObject({
      deploymentIds: [],
      deploymentPolicy: 'auto',
      pendingDeployments: [],
    });
    // The page that ends the registration says what happens, and shows no error.
    expect(page).toContain('records each installation');
    expect(page).not.toContain('role="alert"');

    const first = await instructorLaunch(p, registration.clientId);
    expect(new URL(first.url).pathname).toBe('/course/instructor');
    const after = await admin(t, 'GET', `/platforms/${id}`);
    expect(after.body.deploymentIds).toEqual([registration.deploymentId]);
    const added = await auditOf(id, 'platform.deployment.added');
    expect(added).toHaveLength(1);
    expect(added[0]!.details).toMatchObject({
      deploymentId: registration.deploymentId,
      via: 'first-launch',
      policy: 'auto',
    });

    // Another installation (a sub-account) launches too; a second launch of it records nothing new.
    const second = p.addDeployment(registration.clientId);
    for (let i = 0; i < 2; i++) {
      const again = await instructorLaunch(p, registration.clientId, second);
      expect(new URL(again.url).pathname).toBe('/course/instructor');
    }
    expect((await admin(t, 'GET', `/platforms/${id}`)).body.deploymentIds).toEqual([
      registration.deploymentId,
      second,
    ]);
    expect(await auditOf(id, 'platform.deployment.added')).toHaveLength(2);
  });

  it('under the approve policy refuses a new deployment with a page, lists it pending, and launches once approved', async () => {
    const { p, registration, id } = await canvasByDynamicRegistration();
    const set = await admin(t, 'PATCH', `/platforms/${id}/settings`, { deploymentPolicy: 'approve' });
    expect(set.status).toBe(200);
    expect(set.body.deploymentPolicy).toBe('approve');
    const people = await t.laurel.ctx.models.people.countDocuments({});

    for (let i = 0; i < 2; i++) {
      const refused = await instructorLaunch(p, registration.clientId);
      expect(refused.status).toBe(403);
      expectHumanPage(refused.body);
      expect(refused.body).toContain('(unknown_deployment)');
      expect(refused.body).toMatch(/waiting for approval/);
    }
    expect(await t.laurel.ctx.models.people.countDocuments({})).toBe(people);
    const pending = (await admin(t, 'GET', `/platforms/${id}`)).body;
    expect(pending.deploymentIds).toEqual([]);
    expect(pending.pendingDeployments).toEqual([
      expect.objectContaining({ deploymentId: registration.deploymentId }),
    ]);
    expect(await auditOf(id, 'platform.deployment.pending')).toHaveLength(1);

    const approved = await admin(t, 'POST', `/platforms/${id}/deployments`, {
      deploymentId: registration.deploymentId,
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      deploymentIds: [registration.deploymentId],
      pendingDeployments: [],
    });
    const ok = await instructorLaunch(p, registration.clientId);
    expect(new URL(ok.url).pathname).toBe('/course/instructor');

    // Removing it stops its launches again; a bad policy is refused.
    const removed = await admin(
      t,
      'DELETE',
      `/platforms/${id}/deployments/${encodeURIComponent(registration.deploymentId)}`,
    );
    expect(removed.body.deploymentIds).toEqual([]);
    expect((await instructorLaunch(p, registration.clientId)).status).toBe(403);
    expect((await admin(t, 'PATCH', `/platforms/${id}/settings`, { deploymentPolicy: 'any' })).status).toBe(
      400,
    );
  });

  it('keeps today’s strictness for platforms an administrator registered with their deployments', async () => {
    const p = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour: 'moodle',
      host: '127.0.0.1',
      seedDemo: true,
    });
    platforms.push(p);
    const made = await admin(t, 'POST', '/platforms', p.registrationInfo());
    expect(made.status).toBe(201);
    expect(made.body.deploymentPolicy).toBe('approve');
    const other = p.addDeployment();
    expect((await instructorLaunch(p, p.clientId, other)).status).toBe(403);
    expect((await admin(t, 'GET', `/platforms/${made.body.id}`)).body.pendingDeployments).toEqual([
      expect.objectContaining({ deploymentId: other }),
    ]);
    await admin(t, 'PATCH', `/platforms/${made.body.id}/settings`, { deploymentPolicy: 'auto' });
    const admitted = await instructorLaunch(p, p.clientId, other);
    expect(new URL(admitted.url).pathname).toBe('/course/instructor');
    const after = (await admin(t, 'GET', `/platforms/${made.body.id}`)).body;
    expect(after.deploymentIds).toEqual([p.deploymentId, other]);
    expect(after.pendingDeployments).toEqual([]);
  });

  it('admits a new deployment on the launch path without cookies too', async () => {
    const { p, registration, id } = await canvasByDynamicRegistration();
    const post = (url: string, fields: [string, string][]) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams(fields).toString(),
      });
    const login = await launch(p, {
      clientId: registration.clientId,
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.ada.sub,
      blockThirdPartyCookies: true,
    });
    expect(login.body).toContain('data-mode="platform-storage"');
    const auth = parseForms(login.body).find((f) => f.id === 'laurel-auth-request')!;
    const idTokenForm: HtmlForm = parseForms(await (await post(auth.action, auth.fields)).text())[0]!;
    const launched = await post(idTokenForm.action, idTokenForm.fields);
    const page = await launched.text();
    expect(launched.status).toBe(200);
    const dataOf = (html: string, name: string) => new RegExp(`data-${name}="([^"]*)"`).exec(html)?.[1];
    const res = await fetch(`${t.url}/lti/launch/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        completion: dataOf(page, 'completion'),
        state: fieldValue(auth, 'state'),
        origin: dataOf(login.body, 'platform-origin'),
      }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { location: string }).location).toMatch(/^\/course\/learner\?ltik=/);
    expect((await admin(t, 'GET', `/platforms/${id}`)).body.deploymentIds).toEqual([
      registration.deploymentId,
    ]);
  });

  it('switches the policy and approves a pending deployment from the command line', async () => {
    const { p, registration, id } = await canvasByDynamicRegistration();
    const out: string[] = [];
    const io = () => ({
      env: withDevDefaults({
        NODE_ENV: 'test',
        MONGODB_URI: t.db.uri,
        PUBLIC_URL: t.laurel.config.publicUrl,
      }).env,
      out: (line: string) => out.push(line),
      err: (line: string) => out.push(line),
    });
    expect(await runCli(['platform', 'deployment-policy', id, 'sometimes'], io())).toBe(2);
    expect(await runCli(['platform', 'deployment-policy', id, 'approve'], io())).toBe(0);
    expect(out.at(-1)).toMatch(/for approval/);
    expect((await instructorLaunch(p, registration.clientId)).status).toBe(403);
    expect(await runCli(['platform', 'add-deployment', id, registration.deploymentId], io())).toBe(0);
    const after = (await admin(t, 'GET', `/platforms/${id}`)).body;
    expect(after).toMatchObject({ deploymentIds: [registration.deploymentId], pendingDeployments: [] });
    const approved = await auditOf(id, 'platform.deployment.added');
    expect(approved.at(-1)!.details).toMatchObject({ approvedPending: true });
  });
});
