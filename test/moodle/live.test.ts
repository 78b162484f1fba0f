import { signatureHeader } from '../../src/events/signature.js';
import { lmsActivityModel } from '../../src/db/models/lmsActivity.js';
import { activitiesSeenInEvents } from '../../src/courses/activities.js';
import { listLmsActivities } from '../../src/web/api/webhooks/moodle.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { admin, registerTestPlatform, settled, type TestPlatformRecord } from '../support/api.js';
import { moodleEvent, moodleFixture, runPlugin, type Fixture } from './php.js';

/** A badge for 80% or more on the Moodle quiz whose course module id is 42. */
const quizBadge = (platformId: string) => ({
  platformId,
  courseId: '5',
  name: 'Quiz 3 champion',
  description: 'Top marks on Quiz 3.',
  criteria: '80% or more on Quiz 3.',
  tags: [],
  groups: [
    {
      requirements: [
        {
          id: 'quiz3',
          event: 'activity.grade.updated',
          rules: [
            { path: 'data.activityId', op: 'eq', value: '42' },
            { path: 'data.percent', op: 'gte', value: 80 },
          ],
        },
      ],
    },
  ],
  penalties: [],
});

/** POSTs a body to the Moodle receiver, signed with `secret`. */
async function postSigned(t: TestLaurel, platformId: string, secret: string, body: unknown) {
  const raw = JSON.stringify(body);
  const res = await fetch(`${t.url}/api/v1/webhooks/moodle/${platformId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-laurel-signature': signatureHeader(secret, raw) },
    body: raw,
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('the Moodle plugin’s sender against a running Laurel', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  let fixture: Fixture;
  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t, { lms: 'moodle' });
    fixture = moodleFixture({
      laurelurl: `${t.url}/`,
      platformid: platform.id,
      secret: platform.webhookSecret,
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers the test button once the signature holds, storing nothing', async () => {
    const out = await runPlugin({ ...fixture, post: { platform: platform.id, test: true } });
    expect(out.post?.status).toBe(200);
    expect(JSON.parse(out.post!.body)).toEqual({
      test: {
        ok: true,
        platform: { id: platform.id, name: expect.any(String) },
        message: expect.any(String),
      },
    });
    const wrong = await runPlugin({
      ...moodleFixture({ laurelurl: t.url, platformid: platform.id, secret: 'not-the-secret' }),
      post: { platform: platform.id, test: true },
    });
    expect(wrong.post?.status).toBe(401);
  });

  it('sends a gradebook grade that Laurel stores once and turns into the award', async () => {
    const created = await admin(t, 'POST', '/templates', quizBadge(platform.id));
    expect(created.status).toBe(201);
    const templateId = created.body.id as string;
    expect((await admin(t, 'POST', `/templates/${templateId}/activate`)).body.state).toBe('active');

    const grade = moodleEvent('\\core\\event\\user_graded', {
      objectid: 812,
      timecreated: Math.floor(Date.now() / 1000) - 60,
      other: { itemid: 7, overridden: false, finalgrade: '9.20000' },
    });
    const out = await runPlugin({ ...fixture, events: [grade], run: true });
    expect(out.runs).toEqual([
      expect.objectContaining({ class: 'local_laurel\\task\\send_events', ok: true }),
    ]);
    expect(out.log!.join('\n')).toContain('"stored":1');
    await settled(t);

    const fromMoodle = { platformId: platform.id, eventId: /^moodle-/ };
    const stored = await t.laurel.ctx.models.events.find(fromMoodle).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      type: 'activity.grade.updated',
      eventId: `moodle-user_graded-812-${grade.timecreated}`,
    });
    expect(stored[0]!.data).toMatchObject({ activityId: '42', activityName: 'Quiz 3', percent: 92 });

    const credentials = await admin(t, 'GET', `/credentials?templateId=${templateId}`);
    expect(credentials.body.items).toHaveLength(1);
    expect(credentials.body.items[0]).toMatchObject({ userId: '57', courseId: '5', platformId: platform.id });

    // Moodle running the task again (a retry after a lost answer) changes nothing.
    const again = await runPlugin({ ...fixture, events: [grade], run: true });
    expect(again.runs![0]!.ok).toBe(true);
    expect(again.log!.join('\n')).toContain('"duplicates":1');
    await settled(t);
    expect(await t.laurel.ctx.models.events.countDocuments(fromMoodle)).toBe(1);
    expect((await admin(t, 'GET', `/credentials?templateId=${templateId}`)).body.items).toHaveLength(1);
  });

  it('keeps Laurel told of each course’s activities and grade items', async () => {
    const changed = moodleEvent('\\core\\event\\course_module_updated', {
      objectid: 42,
      other: { modulename: 'quiz', instanceid: 3, name: 'Quiz 3' },
    });
    const out = await runPlugin({ ...fixture, events: [changed], run: true });
    expect(out.runs).toEqual([
      expect.objectContaining({ class: 'local_laurel\\task\\sync_course', ok: true }),
    ]);

    let list = await listLmsActivities(t.laurel.ctx, platform.id, '5');
    expect(list.map((a) => [a.activityId, a.name, a.kind, a.maxScore])).toEqual([
      ['43', 'Essay', 'assign', 5],
      ['gradeitem-9', 'Lab notebook', 'manual', 20],
      ['42', 'Quiz 3', 'quiz', 10],
      ['44', 'Reading', 'page', null],
    ]);
    // Moodle's tags of a course module, and the course's end date, come with the list.
    expect(list.find((a) => a.activityId === '42')!.tags).toEqual(['Lab']);
    expect(list.find((a) => a.activityId === '44')!.tags).toEqual([]);
    const chemistry = await t.laurel.ctx.models.courses.findOne({ ids: '5' }).lean();
    expect(chemistry!.lmsEndsAt).toEqual(new Date('2027-06-13T00:00:00Z'));

    // The essay is deleted and the quiz renamed: the next full list says so.
    const next = moodleFixture(fixture.config);
    next.db!.course_modules = next
      .db!.course_modules!.filter((cm) => cm.id !== 43)
      .map((cm) => (cm.id === 42 ? { ...cm, name: 'Quiz 3 (final)' } : cm));
    const deleted = moodleEvent('\\core\\event\\course_module_deleted', {
      objectid: 43,
      other: { modulename: 'assign', instanceid: 9 },
    });
    const out2 = await runPlugin({ ...next, events: [deleted], run: true });
    expect(out2.runs![0]!.ok).toBe(true);
    list = await listLmsActivities(t.laurel.ctx, platform.id, '5');
    expect(list.map((a) => [a.activityId, a.name])).toEqual([
      ['gradeitem-9', 'Lab notebook'],
      ['42', 'Quiz 3 (final)'],
      ['44', 'Reading'],
    ]);
    // The badge builder offers them by name, the ones no grade has named yet too.
    const course = await t.laurel.ctx.models.courses.findOne({ platformId: platform.id, ids: '5' }).lean();
    expect(course).not.toBeNull();
    const offered = await activitiesSeenInEvents(t.laurel.ctx, {
      platformId: course!.platformId,
      courseRef: course!._id,
    });
    expect(offered).toContainEqual({ id: '44', title: 'Reading', source: 'lms' });
    expect(offered.map((a) => a.id)).not.toContain('43');

    const all = await lmsActivityModel(t.laurel.ctx.models.platforms.db)
      .find({ platformId: platform.id })
      .lean();
    expect(all.find((a) => a.activityId === '43')?.state).toBe('deleted');
  });

  it('refuses what this platform did not sign, and events naming another platform', async () => {
    const other = await registerTestPlatform(t, { lms: 'moodle' });
    const body = { platform: platform.id, test: true };
    // Signed with another platform's secret, or sent to another platform's URL.
    expect((await postSigned(t, platform.id, other.webhookSecret, body)).status).toBe(401);
    expect((await postSigned(t, other.id, platform.webhookSecret, body)).status).toBe(401);
    expect((await postSigned(t, 'not-an-id', platform.webhookSecret, body)).status).toBe(401);
    // Unsigned.
    const unsigned = await fetch(`${t.url}/api/v1/webhooks/moodle/${platform.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(unsigned.status).toBe(401);

    const foreign = await postSigned(t, other.id, other.webhookSecret, {
      platform: other.id,
      events: [
        {
          id: 'moodle-x-1-1',
          type: 'course.completed',
          occurredAt: new Date().toISOString(),
          platform: platform.id,
          course: { id: '5' },
          user: { id: '57' },
        },
      ],
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe('invalid_events');

    const badCatalogue = await postSigned(t, platform.id, platform.webhookSecret, {
      platform: platform.id,
      catalogue: [{ course: { id: '5' }, full: true, activities: [{ id: '', name: 'x', type: 'quiz' }] }],
    });
    expect(badCatalogue.status).toBe(400);
    expect(badCatalogue.body.error).toBe('invalid_catalogue');
    expect(badCatalogue.body.details[0].path).toBe('catalogue.0.activities.0.id');

    // An end date that is no date, and a tag that is no text, are named; nothing of the list is stored.
    const badDate = await postSigned(t, platform.id, platform.webhookSecret, {
      platform: platform.id,
      catalogue: [
        {
          course: { id: '5', endDate: '12/06/2027' },
          full: true,
          activities: [{ id: '42', name: 'Quiz 3', type: 'quiz', tags: [7] }],
        },
      ],
    });
    expect(badDate.status).toBe(400);
    expect(badDate.body.error).toBe('invalid_catalogue');
    expect(badDate.body.details).toEqual([
      { path: 'catalogue.0.course.endDate', message: 'must be an ISO 8601 date-time with a time zone' },
      { path: 'catalogue.0.activities.0.tags.0', message: 'must be a string' },
    ]);
    const course = await t.laurel.ctx.models.courses.findOne({ ids: '5' }).lean();
    expect(course!.lmsEndsAt).toEqual(new Date('2027-06-13T00:00:00Z'));
  });
});
