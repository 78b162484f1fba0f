import { Types } from 'mongoose';
import { admin, event, sendEvents } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import {
  expectHumanPage,
  follow,
  ltikOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

/** Posts a form of a page as a browser would; `fields` replace or add values, `drop` removes some. */
async function submit(
  t: TestLaurel,
  html: string,
  action: string,
  fields: Record<string, string> = {},
  options: { drop?: string[]; pick?: (fields: Map<string, string>) => boolean } = {},
) {
  const forms = parseForms(html).filter((f) => new URL(f.action, t.url).pathname === action);
  const form = options.pick ? forms.find((f) => options.pick!(new Map(f.fields))) : forms[0];
  if (!form) throw new Error(`no form posting to ${action}`);
  const values: Record<string, string> = {};
  for (const [name, value] of form.fields) if (!options.drop?.includes(name)) values[name] = value;
  Object.assign(values, fields);
  const res = await fetch(new URL(form.action, t.url), {
    method: 'POST',
    body: new URLSearchParams(values),
    redirect: 'manual',
    headers: { accept: 'text/html' },
  });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

describe("the LMS administrator's page inside the LMS", () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let other: RegisteredPlatform;
  let p: TestPlatform;
  let page: { url: string; body: string };
  const reload = async () => {
    const res = await follow(t, new URL(page.url).pathname + new URL(page.url).search);
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    other = await startRegisteredPlatform(t, 'canvas');
    p = moodle.platform;
    const alan = p.addUser({ name: 'Alan Admin', admin: true });
    page = await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: alan.sub });
    expect(new URL(page.url).pathname).toBe('/course/admin');
  });
  afterAll(async () => {
    await moodle?.platform.close();
    await other?.platform.close();
    await t?.stop();
  });

  it("shows this LMS's registration, how to connect the Moodle plugin, the issuer and the audit log", () => {
    const html = decodeEntities(page.body);
    expectHumanPage(page.body);
    expect(html).toContain(`<code>${p.issuer}</code>`);
    expect(html).toContain(`<code>${moodle.id}</code>`);
    expect(html).toContain('href="/lti/moodle/local_laurel.zip"');
    expect(html).toContain(`/api/v1/webhooks/moodle/${moodle.id}`);
    expect(html).toContain('Nothing failed');
    // The other platform's id appears nowhere.
    expect(html).not.toContain(other.id);
  });

  it('refuses learners and instructors, and forms without the CSRF token', async () => {
    const learner = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.ada.sub,
    });
    const teacher = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    for (const who of [learner, teacher]) {
      const ltik = encodeURIComponent(ltikOf(who.url)!);
      expect((await follow(t, `/course/admin?ltik=${ltik}`)).status).toBe(403);
      const post = await fetch(`${t.url}/course/admin/webhook-secret?ltik=${ltik}`, {
        method: 'POST',
        body: new URLSearchParams({ csrf: 'x' }),
        redirect: 'manual',
      });
      expect(post.status).toBe(403);
    }
    const before = await t.laurel.ctx.models.platforms.findById(moodle.id).lean();
    const noCsrf = await submit(t, page.body, '/course/admin/webhook-secret', {}, { drop: ['csrf'] });
    expect(noCsrf.status).toBe(403);
    const wrongCsrf = await submit(t, page.body, '/course/admin/webhook-secret', { csrf: 'forged' });
    expect(wrongCsrf.status).toBe(403);
    const after = await t.laurel.ctx.models.platforms.findById(moodle.id).lean();
    expect(after!.webhookSecretSealed).toEqual(before!.webhookSecretSealed);
  });

  it('makes a new webhook secret, shown once, that signs events from then on', async () => {
    const res = await submit(t, page.body, '/course/admin/webhook-secret');
    expect(res.status).toBe(200);
    const secret = /id="webhook-secret"[^>]*value="([0-9a-f]{64})"/.exec(res.body)?.[1];
    expect(secret).toBeDefined();
    expect(secret).not.toBe(moodle.webhookSecret);
    const accepted = await sendEvents(t, secret!, event(moodle.id));
    expect(accepted.status).toBe(200);
    // Not shown again: the page has no secret in it.
    expect(await reload()).not.toContain(secret!);
    const audit = await admin(
      t,
      'GET',
      `/audit?platformId=${moodle.id}&action=platform.webhook-secret.rotated`,
    );
    const rotated = audit.body.items;
    expect(rotated[0].actor).toMatchObject({ type: 'admin', name: 'Alan Admin' });
    moodle.webhookSecret = secret!;
  });

  it('approves a waiting deployment and removes one; the policy for new ones is saved', async () => {
    const now = new Date();
    await t.laurel.ctx.models.platforms.updateOne(
      { _id: new Types.ObjectId(moodle.id) },
      { $set: { pendingDeployments: [{ deploymentId: 'dep-42', firstSeenAt: now, lastSeenAt: now }] } },
    );
    let html = await reload();
    expect(decodeEntities(html)).toContain('<code>dep-42</code> tried to launch Laurel');
    const approved = await submit(
      t,
      html,
      '/course/admin/deployments',
      {},
      { pick: (f) => f.get('deploymentId') === 'dep-42' },
    );
    expect(approved.status).toBe(303);
    let stored = await t.laurel.ctx.models.platforms.findById(moodle.id).lean();
    expect(stored!.deploymentIds).toContain('dep-42');
    expect(stored!.pendingDeployments ?? []).toHaveLength(0);

    html = await reload();
    const removed = await submit(
      t,
      html,
      '/course/admin/deployments',
      {},
      { pick: (f) => f.get('deploymentId') === 'dep-42' && f.get('action') === 'remove' },
    );
    expect(removed.status).toBe(303);
    stored = await t.laurel.ctx.models.platforms.findById(moodle.id).lean();
    expect(stored!.deploymentIds).not.toContain('dep-42');

    const bad = await submit(t, html, '/course/admin/deployment-policy', { deploymentPolicy: 'sometimes' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('deploymentPolicy');
    const policy = await submit(t, html, '/course/admin/deployment-policy', { deploymentPolicy: 'approve' });
    expect(policy.status).toBe(303);
    stored = await t.laurel.ctx.models.platforms.findById(moodle.id).lean();
    expect(stored!.deploymentPolicy).toBe('approve');
  });

  it('saves the issuer profile, refusing a bad web address beside its field', async () => {
    const html = await reload();
    const bad = await submit(t, html, '/course/admin/issuer', { url: 'javascript:alert(1)' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('aria-invalid="true"');
    expect(bad.body).toContain('must be an absolute http(s) URL');
    const good = await submit(t, html, '/course/admin/issuer', {
      name: 'Riverside College',
      url: 'https://riverside.example.edu',
      email: '',
    });
    expect(good.status).toBe(303);
    const issuer = await admin(t, 'GET', `/platforms/${moodle.id}/issuer`);
    expect(issuer.body).toMatchObject({
      name: 'Riverside College',
      url: 'https://riverside.example.edu',
      email: null,
    });
    const before = issuer.body.keys.length;
    const rotated = await submit(t, await reload(), '/course/admin/issuer/rotate-key');
    expect(rotated.status).toBe(303);
    const keys = (await admin(t, 'GET', `/platforms/${moodle.id}/issuer`)).body.keys;
    expect(keys.length).toBe(Math.max(before, 1) + (before === 0 ? 0 : 1));
    expect(keys.filter((k: { retiredAt: unknown }) => k.retiredAt === null)).toHaveLength(1);
  });

  it("lists this platform's failures only, and retries them from the page and the API", async () => {
    const { events } = t.laurel.ctx.models;
    const base = {
      type: 'activity.grade.updated',
      occurredAt: new Date(),
      receivedAt: new Date(),
      source: 'test',
      course: { id: 'c1', title: 'Chemistry 101' },
      user: { id: 'u1', name: 'Ada Lovelace' },
      data: {},
      status: 'failed' as const,
      attempts: 5,
      lockedUntil: null,
      processedAt: null,
      error: 'template cache exploded',
    };
    const mine = await events.create({ ...base, platformId: new Types.ObjectId(moodle.id), eventId: 'f-1' });
    const theirs = await events.create({
      ...base,
      platformId: new Types.ObjectId(other.id),
      eventId: 'f-2',
      error: 'their own trouble',
    });
    const html = decodeEntities(await reload());
    expect(html).toContain('template cache exploded');
    expect(html).not.toContain('their own trouble');

    // Another platform's failure is not found from this page, even by its id.
    const foreign = await submit(t, html, '/course/admin/failures/retry', {
      kind: 'event',
      id: String(theirs._id),
    });
    expect(foreign.status).toBe(404);
    expect((await events.findById(theirs._id).lean())!.status).toBe('failed');

    const retried = await submit(
      t,
      html,
      '/course/admin/failures/retry',
      {},
      {
        pick: (f) => f.get('id') === String(mine._id),
      },
    );
    expect(retried.status).toBe(303);
    const again = await events.findById(mine._id).lean();
    expect(['pending', 'processing', 'processed']).toContain(again!.status);
    expect(again!.error).toBeNull();

    // The admin API: the other platform's failure, then retrying it; a second retry conflicts.
    const listed = await admin(t, 'GET', `/platforms/${other.id}/failures`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        kind: 'event',
        id: String(theirs._id),
        error: 'their own trouble',
        attempts: 5,
      }),
    ]);
    expect((await admin(t, 'POST', `/platforms/${other.id}/failures/job/${theirs._id}/retry`)).status).toBe(
      400,
    );
    expect(
      (await admin(t, 'POST', `/platforms/${moodle.id}/failures/event/${theirs._id}/retry`)).status,
    ).toBe(404);
    const ok = await admin(t, 'POST', `/platforms/${other.id}/failures/event/${theirs._id}/retry`);
    expect(ok.status).toBe(202);
    await events.updateOne({ _id: theirs._id }, { $set: { status: 'processed' } });
    const twice = await admin(t, 'POST', `/platforms/${other.id}/failures/event/${theirs._id}/retry`);
    expect(twice.status).toBe(409);
  });

  it('filters the audit log by action and by target', async () => {
    const base = `/course/admin?ltik=${encodeURIComponent(ltikOf(page.url)!)}`;
    const byAction = decodeEntities((await follow(t, `${base}&action=issuer.key.rotated`)).body);
    const rows = byAction.slice(byAction.indexOf('id="audit"'));
    expect(rows).toContain('<td>issuer.key.rotated</td>');
    expect(rows).not.toContain('<td>issuer.updated</td>');
    expect(rows).toContain('<option value="issuer.updated">');
    const profile = await t.laurel.ctx.models.issuerProfiles.findOne({ platformId: moodle.id }).lean();
    const byTarget = decodeEntities((await follow(t, `${base}&target=${profile!._id}`)).body);
    const targetRows = byTarget.slice(byTarget.indexOf('id="audit"'));
    expect(targetRows).toContain('<td>issuer.updated</td>');
    expect(targetRows).not.toContain('<td>platform.settings.updated</td>');
    const nothing = decodeEntities((await follow(t, `${base}&target=nothing-like-it`)).body);
    expect(nothing).toContain('No entries for that target.');
  });
});
