import { Types } from 'mongoose';
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch, startTestPlatform, type Flavour, type TestPlatform } from '../support/lms-platform/index.js';
import { follow, startLaurelForLti } from './helpers.js';
import { listLmsActivities } from '../../src/web/api/webhooks/moodle.js';
import { moodleEvent, moodleFixture, runPlugin, type Fixture } from '../moodle/php.js';
import { gradeChangeBody } from '../canvas/helpers.js';

/**
 * Issue 19, item 5: one LMS registered twice (manually, then by dynamic registration: two client ids
 * under one issuer) keeps one Laurel course per LMS course, whichever registration launched it; two
 * different LMSs never share a course or a person.
 */
describe('one LMS registered twice', () => {
  let t: TestLaurel;
  const platforms: TestPlatform[] = [];

  beforeAll(async () => {
    t = await startLaurelForLti();
  });
  afterAll(async () => {
    await Promise.all(platforms.map((p) => p.close()));
    await t?.stop();
  });

  async function lms(flavour: Flavour) {
    const p = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour,
      host: '127.0.0.1',
      seedDemo: true,
    });
    platforms.push(p);
    return p;
  }

  async function registerTwice(p: TestPlatform) {
    const manual = await admin(t, 'POST', '/platforms', p.registrationInfo());
    expect(manual.status).toBe(201);
    const link = await admin(t, 'POST', '/registration-links', { name: 'Again' });
    const res = await follow(t, p.registrationStartUrl({ registrationUrl: link.body.url }));
    expect(res.status).toBe(200);
    const registration = p.registrations.at(-1)!;
    const dynamic = await t.laurel.ctx.models.platforms
      .findOne({ issuer: p.issuer, clientId: registration.clientId })
      .lean();
    return {
      manualId: manual.body.id as string,
      dynamicId: String(dynamic!._id),
      registration,
      page: res.body,
    };
  }

  const instructorLaunch = (p: TestPlatform, clientId: string) =>
    launch(p, { clientId, courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.instructor.sub });

  it('keeps one course and one person for a Moodle registered manually and dynamically', async () => {
    const p = await lms('moodle');
    const { manualId, dynamicId, registration, page } = await registerTwice(p);
    expect((await admin(t, 'GET', `/platforms/${dynamicId}`)).body.sameLmsAs).toBe(manualId);
    expect((await admin(t, 'GET', `/platforms/${manualId}`)).body.sameLmsAs).toBeNull();
    expect(page).toContain(`platform <code>${manualId}</code>`);
    // Moodle's registration leaves Laurel out of the activity chooser: the page says how to fix it.
    expect(page).toContain('Show in activity chooser and as a preconfigured tool');

    const viaManual = await instructorLaunch(p, p.clientId);
    expect(new URL(viaManual.url).pathname).toBe('/course/instructor');
    const viaDynamic = await instructorLaunch(p, registration.clientId);
    expect(new URL(viaDynamic.url).pathname).toBe('/course/instructor');
    expect(viaDynamic.body).toContain('Chemistry 101');

    const ids = [new Types.ObjectId(manualId), new Types.ObjectId(dynamicId)];
    const courses = await t.laurel.ctx.models.courses
      .find({ platformId: { $in: ids }, ids: p.demo!.courses.chemistry.id })
      .lean();
    expect(courses).toHaveLength(1);
    expect(String(courses[0]!.platformId)).toBe(manualId);
    const people = await t.laurel.ctx.models.people
      .find({ platformId: { $in: ids }, ids: p.demo!.users.instructor.sub })
      .lean();
    expect(people).toHaveLength(1);
  });

  it('never joins two different LMSs, nor Canvas registrations that only share the Canvas Cloud issuer', async () => {
    const a = await lms('moodle');
    const b = await lms('moodle');
    const ra = await admin(t, 'POST', '/platforms', a.registrationInfo());
    const rb = await admin(t, 'POST', '/platforms', b.registrationInfo());
    expect(rb.body.sameLmsAs).toBeNull();
    await instructorLaunch(a, a.clientId);
    await instructorLaunch(b, b.clientId);
    const [ca, cb] = await Promise.all(
      [ra, rb].map((r) =>
        t.laurel.ctx.models.courses.countDocuments({ platformId: new Types.ObjectId(r.body.id as string) }),
      ),
    );
    expect([ca, cb]).toEqual([1, 1]);

    // Canvas: one issuer may be many schools; an administrator joins two registrations explicitly.
    const c = await lms('canvas');
    const { manualId, dynamicId, registration } = await registerTwice(c);
    expect((await admin(t, 'GET', `/platforms/${dynamicId}`)).body.sameLmsAs).toBeNull();
    const refused = await admin(t, 'PATCH', `/platforms/${dynamicId}/settings`, { sameLmsAs: ra.body.id });
    expect(refused.status).toBe(409);
    const joined = await admin(t, 'PATCH', `/platforms/${dynamicId}/settings`, { sameLmsAs: manualId });
    expect(joined.status).toBe(200);
    expect(joined.body.sameLmsAs).toBe(manualId);
    await instructorLaunch(c, c.clientId);
    await instructorLaunch(c, registration.clientId);
    const courses = await t.laurel.ctx.models.courses
      .find({ platformId: { $in: [new Types.ObjectId(manualId), new Types.ObjectId(dynamicId)] } })
      .lean();
    expect(courses).toHaveLength(1);
  });

  /** A badge for 80% or more on the activity `activityId` of a course. */
  async function activeBadge(platformId: string, courseId: string, activityId: string) {
    const created = await admin(t, 'POST', '/templates', {
      platformId,
      courseId,
      name: `Champion of ${activityId}`,
      description: 'Top marks.',
      criteria: '80% or more.',
      groups: [
        {
          requirements: [
            {
              event: 'activity.grade.updated',
              rules: [
                { path: 'data.activityId', op: 'eq', value: activityId },
                { path: 'data.percent', op: 'gte', value: 80 },
              ],
            },
          ],
        },
      ],
      penalties: [],
    });
    expect(created.status).toBe(201);
    expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    return created.body.id as string;
  }

  const waitForCredentials = async (templateId: string) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const items = (await admin(t, 'GET', `/credentials?templateId=${templateId}`)).body.items as {
        userId: string;
        platformId: string;
        courseId: string;
      }[];
      if (items.length > 0 || Date.now() > deadline) return items;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('takes the Moodle plugin’s events signed for the second registration into the first one’s course', async () => {
    const p = await lms('moodle');
    const { manualId, dynamicId, page } = await registerTwice(p);
    // The plugin is set up with what the dynamic registration's page showed: its id and its secret.
    const secret = /id="webhook-secret"[^>]*value="([^"]+)"/.exec(page)?.[1];
    expect(secret).toBeTruthy();
    const chem = p.demo!.courses.chemistry;
    const ada = p.demo!.users.ada;
    // Ada opened Laurel through the manual registration: her course and person are the first one's.
    const viaManual = await launch(p, { clientId: p.clientId, courseId: chem.id, sub: ada.sub });
    expect(new URL(viaManual.url).pathname).toBe('/course/learner');
    const templateId = await activeBadge(manualId, chem.id, '42');

    // The plugin's fixture, in this LMS's course and with Ada's Moodle user id.
    const fixture: Fixture = JSON.parse(
      JSON.stringify(moodleFixture({ laurelurl: t.url, platformid: dynamicId, secret: secret! })),
    );
    for (const row of fixture.db!.course!) if (row.id === 5) row.id = Number(chem.id);
    for (const row of fixture.db!.course_modules!) row.course = Number(chem.id);
    for (const row of fixture.db!.grade_items!) row.courseid = Number(chem.id);
    for (const row of fixture.db!.user!) if (row.id === 57) row.id = Number(ada.lmsUserId);
    const grade = moodleEvent('\\core\\event\\user_graded', {
      objectid: 9001,
      courseid: Number(chem.id),
      contextinstanceid: Number(chem.id),
      relateduserid: Number(ada.lmsUserId),
      timecreated: Math.floor(Date.now() / 1000) - 30,
      other: { itemid: 7, overridden: false, finalgrade: '9.00000' },
    });
    const changed = moodleEvent('\\core\\event\\course_module_updated', {
      objectid: 42,
      courseid: Number(chem.id),
      contextinstanceid: 42,
      other: { modulename: 'quiz', instanceid: 3, name: 'Quiz 3' },
    });
    const out = await runPlugin({ ...fixture, events: [grade, changed], run: true });
    expect(out.runs!.map((r) => r.ok)).toEqual([true, true]);
    expect(out.requests!.every((r) => r.url.endsWith(`/api/v1/webhooks/moodle/${dynamicId}`))).toBe(true);

    // Stored once, under the first registration: nothing under the second.
    const events = t.laurel.ctx.models.events;
    expect(await events.countDocuments({ platformId: new Types.ObjectId(dynamicId) })).toBe(0);
    const stored = await events.find({ platformId: new Types.ObjectId(manualId), source: 'generic' }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ user: { id: ada.lmsUserId }, course: { id: chem.id } });

    const credentials = await waitForCredentials(templateId);
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ platformId: manualId, courseId: chem.id });
    // One course and one Ada, the ones of her launch.
    const ids = [new Types.ObjectId(manualId), new Types.ObjectId(dynamicId)];
    expect(await t.laurel.ctx.models.courses.countDocuments({ platformId: { $in: ids }, ids: chem.id })).toBe(
      1,
    );
    const people = await t.laurel.ctx.models.people.find({ platformId: { $in: ids }, ids: ada.sub }).lean();
    expect(people).toHaveLength(1);
    expect(credentials[0]!.userId).toBe(ada.sub);
    // The course's activity list too: the badge builder of the first registration offers them.
    const listed = await listLmsActivities(t.laurel.ctx, manualId, chem.id);
    expect(listed.map((a) => a.activityId)).toContain('42');
    expect(await listLmsActivities(t.laurel.ctx, dynamicId, chem.id)).toEqual([]);
  });

  it('takes Live Events delivered to a second Canvas registration into the first one’s course', async () => {
    const c = await lms('canvas');
    // First a dynamic registration, then the same Canvas again through the admin API, with its Live Events
    // key set; an administrator says they are one Canvas (Canvas Cloud shares one issuer: never guessed).
    const link = await admin(t, 'POST', '/registration-links', { name: 'Canvas', lms: 'canvas' });
    expect((await follow(t, c.registrationStartUrl({ registrationUrl: link.body.url }))).status).toBe(200);
    const dynamicClientId = c.registrations.at(-1)!.clientId;
    const firstId = String(
      (await t.laurel.ctx.models.platforms.findOne({ issuer: c.issuer, clientId: dynamicClientId }).lean())!
        ._id,
    );
    const second = await admin(t, 'POST', '/platforms', {
      ...c.registrationInfo(),
      liveEventsJwksUrl: c.liveEventsJwksUrl,
      liveEventsRootAccountGuid: c.rootAccount.ltiGuid,
    });
    expect(second.status).toBe(201);
    const secondId = second.body.id as string;
    expect((await admin(t, 'PATCH', `/platforms/${secondId}/settings`, { sameLmsAs: firstId })).status).toBe(
      200,
    );

    const chem = c.demo!.courses.chemistry;
    const ada = c.demo!.users.ada;
    const templateId = await activeBadge(firstId, chem.id, '42');
    // Ada opens Laurel through the second registration: the first one's course and person.
    const page = await launch(c, { clientId: c.clientId, courseId: chem.id, sub: ada.sub });
    expect(new URL(page.url).pathname).toBe('/course/learner');

    const delivery = c.liveEvent({
      eventName: 'grade_change',
      courseId: chem.id,
      actorId: c.demo!.users.instructor.lmsUserId,
      body: gradeChangeBody({
        assignmentId: '42',
        assignmentName: 'Lab 3',
        userId: ada.lmsUserId,
        score: 9,
        pointsPossible: 10,
      }),
    });
    const answer = await c.deliverLiveEvent(`${t.url}/api/v1/webhooks/canvas/${secondId}`, delivery);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ stored: 1 });
    const events = t.laurel.ctx.models.events;
    expect(await events.countDocuments({ platformId: new Types.ObjectId(secondId) })).toBe(0);
    expect(await events.countDocuments({ platformId: new Types.ObjectId(firstId), source: 'canvas' })).toBe(
      1,
    );
    // The assignment's name is the first one's too.
    expect(
      await t.laurel.ctx.models.lmsActivities.countDocuments({
        platformId: new Types.ObjectId(firstId),
        activityId: '42',
      }),
    ).toBe(1);

    const credentials = await waitForCredentials(templateId);
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ platformId: firstId, courseId: chem.id });
    const ids = [new Types.ObjectId(firstId), new Types.ObjectId(secondId)];
    const people = await t.laurel.ctx.models.people
      .find({ platformId: { $in: ids }, ids: { $in: [ada.sub, ada.lmsUserId] } })
      .lean();
    expect(people).toHaveLength(1);
  });
});
