import { Types } from 'mongoose';
import { admin } from '../support/api.js';
import { FakeAccredible } from '../support/fakes/accredible.js';
import { FakeCredly } from '../support/fakes/credly.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, ROLE } from '../support/lms-platform/index.js';
import {
  expectHumanPage,
  follow,
  linksOf,
  parseForms,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

/** The LMS administrator's Credly and Accredible page: save (checked first), masked, check, sync, CSRF. */

describe('the Credly and Accredible page of the LMS administrator', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let credly: FakeCredly;
  let acc: FakeAccredible;
  let page: { status: number; url: string; body: string };

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    credly = new FakeCredly();
    acc = new FakeAccredible();
    await credly.start();
    await acc.start();
    const p = moodle.platform;
    const adminPage = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.grace.sub,
      roles: [`${ROLE.INSTITUTION}Administrator`, `${ROLE.SYSTEM}User`],
    });
    const link = linksOf(adminPage.body).find((l) => l.startsWith('/course/admin/providers'));
    expect(link).toBeDefined();
    page = await follow(t, link!);
    expect(page.status).toBe(200);
  });
  afterAll(async () => {
    await credly?.stop();
    await acc?.stop();
    await moodle?.platform.close();
    await t?.stop();
  });

  const formTo = (html: string, path: string) => {
    const form = parseForms(html).find((f) => new URL(decodeEntities(f.action), t.url).pathname === path);
    if (!form) throw new Error(`no form posting to ${path}`);
    return form;
  };
  async function submit(html: string, path: string, fields: Record<string, string>) {
    const form = formTo(html, path);
    const values = new Map(form.fields);
    for (const [k, v] of Object.entries(fields)) values.set(k, v);
    const res = await fetch(new URL(decodeEntities(form.action), t.url), {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([...values]).toString(),
    });
    return { status: res.status, body: await res.text() };
  }

  it('refuses a wrong token with Credly’s answer, then saves, shows the token masked, checks and queues a sync', async () => {
    expectHumanPage(page.body);
    expect(page.body).toContain('Credly and Accredible for');
    expect(page.body).toContain(`/api/v1/webhooks/credly/${moodle.id}`);

    const refused = await submit(page.body, '/course/admin/providers/credly', {
      organizationId: credly.organizationId,
      authToken: 'wrong-token-1234',
      environment: 'sandbox',
      baseUrl: credly.baseUrl,
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('Not saved.');
    expect(refused.body).toContain('Credly answered 401: Unauthorized');

    const saved = await submit(page.body, '/course/admin/providers/credly', {
      organizationId: credly.organizationId,
      authToken: credly.token,
      environment: 'sandbox',
      baseUrl: credly.baseUrl,
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toContain('Saved.');
    expect(saved.body).toContain('Acme Learning');
    expect(saved.body).toContain('••••0001');
    expect(saved.body).not.toContain(credly.token);
    const api = await admin(t, 'GET', `/platforms/${moodle.id}/providers`);
    expect(api.body.credly).toMatchObject({ organizationId: credly.organizationId, authToken: '••••0001' });

    // Saved again with the token left empty: the stored one is kept (and checked again).
    const calls = credly.count('GET', new RegExp(`/organizations/${credly.organizationId}$`));
    const kept = await submit(saved.body, '/course/admin/providers/credly', {
      organizationId: credly.organizationId,
      authToken: '',
      environment: 'production',
      baseUrl: credly.baseUrl,
    });
    expect(kept.status).toBe(200);
    expect(credly.count('GET', new RegExp(`/organizations/${credly.organizationId}$`))).toBe(calls + 1);
    expect((await admin(t, 'GET', `/platforms/${moodle.id}/providers`)).body.credly.environment).toBe(
      'production',
    );

    const checked = await submit(kept.body, '/course/admin/providers/credly/check', {});
    expect(checked.status).toBe(200);
    expect(checked.body).toContain('Credly answered: organisation “Acme Learning”');

    credly.addTemplate({ name: 'Synced from Credly' });
    const sync = await submit(kept.body, '/course/admin/providers/credly/sync', {});
    expect(sync.body).toContain('Sync queued');
    // The worker of this Laurel runs the queued sync.
    const platformId = new Types.ObjectId(moodle.id);
    for (let i = 0; i < 100; i++) {
      if (await t.laurel.ctx.models.templates.exists({ platformId, source: 'credly' })) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const templates = await admin(t, 'GET', `/templates?platformId=${moodle.id}`);
    expect(templates.body.items.map((x: { name: string }) => x.name)).toContain('Synced from Credly');
  });

  it('saves Accredible settings and shows field errors for a bad form', async () => {
    const bad = await submit(page.body, '/course/admin/providers/accredible', {
      apiKey: 'short',
      environment: 'mars',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/aria-invalid="true"/);
    const saved = await submit(page.body, '/course/admin/providers/accredible', {
      apiKey: acc.apiKey,
      environment: 'eu',
      baseUrl: acc.baseUrl,
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toContain('Accredible answered');
    expect(saved.body).toContain('••••0001');
    expect(saved.body).not.toContain(acc.apiKey);
  });

  it('refuses a form without this launch’s CSRF token, changing nothing', async () => {
    const before = (await admin(t, 'GET', `/platforms/${moodle.id}/providers`)).body;
    expect(before.accredible).not.toBeNull();
    const current = await follow(t, page.url);
    for (const csrf of ['', 'forged-token']) {
      const res = await submit(current.body, '/course/admin/providers/credly', {
        csrf,
        organizationId: credly.organizationId,
        authToken: 'another-token-5678',
        environment: 'sandbox',
        baseUrl: credly.baseUrl,
      });
      expect(res.status).toBe(403);
      const removed = await submit(current.body, '/course/admin/providers/accredible/remove', { csrf });
      expect(removed.status).toBe(403);
    }
    expect((await admin(t, 'GET', `/platforms/${moodle.id}/providers`)).body).toEqual(before);
  });

  it('is the administrator’s alone: an instructor launch is refused', async () => {
    const p = moodle.platform;
    const instructor = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    const ltik = new URL(instructor.url).searchParams.get('ltik')!;
    const res = await follow(t, `/course/admin/providers?ltik=${encodeURIComponent(ltik)}`);
    expect(res.status).toBe(403);
  });
});
