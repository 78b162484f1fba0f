import type { TestLaurel } from '../support/laurel.js';
import { admin, event, sendEvents, settled } from '../support/api.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import {
  follow,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

/**
 * "Before the course ends" with the course's end date Laurel learns: from a Canvas launch
 * (`$Canvas.course.endAt`, as Canvas writes a time), or from the instructor's course settings, which
 * win. Judged by when the LMS says each grade was given, however late it arrives.
 */
describe('the course end date', () => {
  let t: TestLaurel;
  let canvas: RegisteredPlatform;
  let p: TestPlatform;
  let ltik: string;

  const course = () => p.demo!.courses.chemistry;
  const models = () => t.laurel.ctx.models;

  beforeAll(async () => {
    t = await startLaurelForLti();
    canvas = await startRegisteredPlatform(t, 'canvas');
    p = canvas.platform;
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  it('is learned at launch from Canvas’s $Canvas.course.endAt, and a launch without it changes nothing', async () => {
    // Canvas writes the time as Ruby does: "2026-06-12 23:59:59 -0600" (the course's own zone).
    const home = await launch(p, {
      courseId: course().id,
      sub: p.demo!.users.instructor.sub,
      custom: { canvas_course_ends: '2026-06-12 23:59:59 -0600' },
    });
    ltik = new URL(home.url).searchParams.get('ltik')!;
    const stored = await models().courses.findOne({ platformId: canvas.id, ids: course().id }).lean();
    expect(stored!.lmsEndsAt).toEqual(new Date('2026-06-13T05:59:59Z'));
    expect(stored!.instructorEndsAt).toBeNull();

    // A launch whose tool configuration lacks the parameter (Canvas sends it unexpanded) keeps the date.
    await launch(p, {
      courseId: course().id,
      sub: p.demo!.users.instructor.sub,
      custom: { canvas_course_ends: '$Canvas.course.endAt' },
    });
    const again = await models().courses.findOne({ platformId: canvas.id, ids: course().id }).lean();
    expect(again!.lmsEndsAt).toEqual(new Date('2026-06-13T05:59:59Z'));
  });

  it('limits a condition to grades given before it: a late grade does not count, an early one delivered late does', async () => {
    const created = await admin(t, 'POST', '/templates', {
      platformId: canvas.id,
      courseId: course().id,
      name: 'Essay in time',
      groups: [
        {
          requirements: [
            {
              event: 'activity.grade.updated',
              rules: [
                { path: 'data.activityId', op: 'eq', value: 'essay' },
                { path: 'data.percent', op: 'gte', value: 60 },
              ],
              window: { beforeCourseEnd: true },
            },
          ],
        },
      ],
    });
    expect(created.status).toBe(201);
    expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    const [ada, grace] = [p.demo!.users.ada, p.demo!.users.grace];
    const grade = (user: string, occurredAt: string) =>
      event(canvas.id, {
        occurredAt,
        course: { id: course().id },
        user: { id: user },
        data: { activityId: 'essay', percent: 90 },
      });
    // Both arrive now, months after the end: Ada's was given after it, Grace's on its last day.
    const answer = await sendEvents(t, canvas.webhookSecret, {
      events: [grade(ada.lmsUserId, '2026-06-20T10:00:00Z'), grade(grace.lmsUserId, '2026-06-12T18:00:00Z')],
    });
    expect(answer.status).toBe(200);
    await settled(t);
    const credentials = await admin(t, 'GET', `/credentials?templateId=${created.body.id}`);
    expect(credentials.body.items.map((c: { userId: string }) => c.userId)).toEqual([grace.lmsUserId]);

    // The builder summary names the date.
    const page = decodeEntities(
      (await follow(t, `/course/instructor/badges/${created.body.id}?ltik=${encodeURIComponent(ltik)}`)).body,
    );
    expect(page).toContain('before the course ends on 13 June 2026, 05:59 UTC');
    expect(page).toMatch(
      /<input type="checkbox" id="g0r0-before-end" name="groups\[0\]\[0\]\[beforeEnd\]" value="on" checked/,
    );
    expect(page).toContain('The course ends on 13 June 2026, 05:59 UTC (as the LMS says).');
  });

  it('can be set by the instructor, whose date wins and recounts the badge; a bad date is refused beside the field', async () => {
    const url = `/course/instructor/course-settings?ltik=${encodeURIComponent(ltik)}`;
    const page = await follow(t, url);
    expect(page.status).toBe(200);
    expect(decodeEntities(page.body)).toContain(
      'the course ends on 13 June 2026, 05:59 UTC</strong> (as the LMS says)',
    );
    const form = parseForms(page.body).find((f) => f.action.includes('/course-settings'))!;
    const postDate = async (endDate: string) => {
      const body = new URLSearchParams([
        ...form.fields.filter(([k]) => k !== 'endDate'),
        ['endDate', endDate],
      ]);
      return fetch(new URL(form.action, t.url), { method: 'POST', body, redirect: 'manual' });
    };

    const refused = await postDate('2026-02-30');
    expect(refused.status).toBe(400);
    expect(decodeEntities(await refused.text())).toContain(
      '<p id="endDate-error" class="field-error">That day does not exist; give a date such as 2027-06-12.</p>',
    );

    // Ada's grade of 20 June counts once the course runs to the end of 30 June.
    const saved = await postDate('2026-06-30');
    expect(saved.status).toBe(303);
    const stored = await models().courses.findOne({ platformId: canvas.id, ids: course().id }).lean();
    expect(stored!.instructorEndsAt).toEqual(new Date('2026-07-01T00:00:00Z'));
    expect(stored!.lmsEndsAt).toEqual(new Date('2026-06-13T05:59:59Z'));
    const template = await models().templates.findOne({ name: 'Essay in time' }).lean();
    const deadline = Date.now() + 15_000;
    let holders: string[] = [];
    while (Date.now() < deadline) {
      const list = await admin(t, 'GET', `/credentials?templateId=${template!._id}`);
      holders = list.body.items.map((c: { userId: string }) => c.userId).sort();
      if (holders.length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(holders).toEqual([p.demo!.users.ada.lmsUserId, p.demo!.users.grace.lmsUserId].sort());
    const after = decodeEntities((await follow(t, url)).body);
    expect(after).toContain('the course ends on 30 June 2026</strong> (set here)');
    expect(after).toContain('The LMS says the course ends on 13 June 2026, 05:59 UTC.');
    const audit = await models().audit.findOne({ action: 'course.end-date.set' }).lean();
    expect(audit).toMatchObject({ details: { instructorEndsAt: '2026-07-01T00:00:00.000Z' } });
  });
});
