import { Types } from 'mongoose';
import { admin, event, sendEvents, settled } from '../support/api.js';
import { FakeCredly } from '../support/fakes/credly.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, parseForms } from '../support/lms-platform/index.js';
import {
  expectHumanPage,
  follow,
  linksOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

/**
 * A Credly-sourced badge end to end, with the worker running: an instructor picks the synced template
 * for the course, it gets a condition and is activated, a learner's completion awards it, the job
 * issues it at Credly, and the learner's, instructor's and public pages lead to the badge at Credly.
 */
describe('a Credly badge in a course', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let credly: FakeCredly;

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    credly = new FakeCredly();
    await credly.start();
  });
  afterAll(async () => {
    await credly?.stop();
    await moodle?.platform.close();
    await t?.stop();
  });

  it('is picked by the instructor, earned by the learner, issued at Credly and linked from the pages', async () => {
    const p = moodle.platform;
    const { chemistry } = p.demo!.courses;
    const { ada, instructor } = p.demo!.users;
    const template = credly.addTemplate({ name: 'Lab safety', description: 'Safe in the lab' });
    expect(
      (
        await admin(t, 'PUT', `/platforms/${moodle.id}/providers/credly`, {
          organizationId: credly.organizationId,
          authToken: credly.token,
          environment: 'sandbox',
          baseUrl: credly.baseUrl,
        })
      ).status,
    ).toBe(200);
    expect((await admin(t, 'POST', `/platforms/${moodle.id}/providers/credly/sync`)).status).toBe(202);
    const platformId = new Types.ObjectId(moodle.id);
    for (
      let i = 0;
      i < 100 && !(await t.laurel.ctx.models.templates.exists({ platformId, source: 'credly' }));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));

    // The instructor picks it from the list of the services' templates.
    const staff = await launch(p, { courseId: chemistry.id, sub: instructor.sub });
    // The synced catalogue is not listed as every course's drafts; it has its own page.
    expect(staff.body).not.toContain('Lab safety');
    const pick = linksOf(staff.body).find((l) => l.startsWith('/course/instructor/badges/from-service'));
    expect(pick).toBeDefined();
    const list = await follow(t, pick!);
    expect(list.status).toBe(200);
    expectHumanPage(list.body);
    expect(list.body).toContain('Lab safety');
    const form = parseForms(list.body).find((f) => f.fields.some(([n]) => n === 'templateId'))!;
    const picked = await fetch(new URL(decodeEntities(form.action), t.url), {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form.fields).toString(),
      redirect: 'manual',
    });
    expect(picked.status).toBe(303);
    const copyId = /\/course\/instructor\/badges\/([0-9a-f]{24})/.exec(picked.headers.get('location')!)![1]!;
    const copy = await admin(t, 'GET', `/templates/${copyId}`);
    expect(copy.body).toMatchObject({
      source: 'credly',
      externalId: template.id,
      name: 'Lab safety',
      state: 'draft',
    });
    expect(copy.body.courseId).not.toBeNull();
    // The edit form of the copy opens like any badge of the course.
    const edit = await follow(t, picked.headers.get('location')!);
    expect(edit.status).toBe(200);
    expect(edit.body).toContain('Lab safety');
    // Picking again leads to the same copy.
    const again = await fetch(new URL(decodeEntities(form.action), t.url), {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form.fields).toString(),
      redirect: 'manual',
    });
    expect(again.headers.get('location')).toContain(copyId);

    // A condition and activation (the builder's job; the API does the same).
    expect(
      (
        await admin(t, 'PATCH', `/templates/${copyId}`, {
          groups: [{ requirements: [{ event: 'course.completed' }] }],
        })
      ).status,
    ).toBe(200);
    expect((await admin(t, 'POST', `/templates/${copyId}/activate`)).status).toBe(200);

    // Ada completes the course: the award is issued at Credly by the worker.
    await launch(p, { courseId: chemistry.id, sub: ada.sub });
    const sent = await sendEvents(t, moodle.webhookSecret, {
      events: [
        event(moodle.id, {
          type: 'course.completed',
          course: { id: chemistry.id },
          user: { id: ada.lmsUserId, email: ada.email, name: ada.name },
          data: {},
        }),
      ],
    });
    expect(sent.body.stored).toBe(1);
    await settled(t);
    let issued: any = null;
    for (let i = 0; i < 100 && !issued; i++) {
      const listed = await admin(t, 'GET', `/credentials?templateId=${copyId}`);
      issued = listed.body.items.find((c: { status: string }) => c.status === 'issued') ?? null;
      if (!issued) await new Promise((r) => setTimeout(r, 100));
    }
    expect(issued).not.toBeNull();
    expect(credly.badges).toHaveLength(1);
    expect(credly.badges[0]).toMatchObject({
      recipient_email: ada.email,
      badge_template: { id: template.id },
    });
    const externalUrl = `https://sandbox.credly.com/badges/${credly.badges[0]!.id}`;
    expect(issued).toMatchObject({ externalId: credly.badges[0]!.id, externalUrl });

    const learner = await launch(p, { courseId: chemistry.id, sub: ada.sub });
    expect(linksOf(learner.body)).toContain(externalUrl);
    const progressLink = linksOf(
      (await launch(p, { courseId: chemistry.id, sub: instructor.sub })).body,
    ).find((l) => l.includes(`/badges/${copyId}/progress`));
    const progress = await follow(t, progressLink!);
    expect(linksOf(progress.body)).toContain(externalUrl);
    const publicPage = await fetch(issued.url, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(publicPage.status).toBe(303);
    expect(publicPage.headers.get('location')).toBe(externalUrl);
  });
});
