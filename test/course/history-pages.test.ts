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
 * Counts of activities and time limits on the course pages, over HTTP as a browser without
 * JavaScript uses them: the builder's fields (with errors beside them), its summary, and the
 * learner's "2 of 3 labs" beside a count.
 */
describe('counts and time limits on the course pages', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let newFormUrl: string;

  const chem = () => p.demo!.courses.chemistry.id;
  const models = () => t.laurel.ctx.models;

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    const home = await launch(p, { courseId: chem(), sub: p.demo!.users.instructor.sub });
    newFormUrl = `/course/instructor/badges/new?ltik=${encodeURIComponent(new URL(home.url).searchParams.get('ltik')!)}`;
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  /** Posts the form of `html` as a browser would (multipart), with `fields` set over its inputs. */
  async function post(html: string, fields: Record<string, string | string[]>) {
    const form = parseForms(html).find((f) => f.action.includes('/course/instructor/badges'))!;
    const body = new FormData();
    const given = new Set(Object.keys(fields));
    for (const [k, v] of form.fields) if (!given.has(k)) body.append(k, v);
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
    const res = await fetch(new URL(form.action, t.url), { method: 'POST', body, redirect: 'manual' });
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }

  it('saves "any 3 labs at 70% or more, until a date, within 30 days of enrolling" from the builder', async () => {
    const form = await follow(t, newFormUrl);
    expect(form.body).toContain(
      '<option value="activities-grade" >Several activities by name or tag, each at or above</option>',
    );
    expect(form.body).toMatch(/<label for="g0r0-pattern">Activities titled like<\/label>/);
    expect(form.body).toMatch(/<summary>Time limits \(optional\)<\/summary>/);
    const row = {
      name: 'Lab regular',
      'groups[0][0][kind]': 'activities-grade',
      'groups[0][0][pattern]': 'lab',
      'groups[0][0][threshold]': '70',
      'groups[0][0][until]': '2027-06-30',
      'groups[0][0][days]': '30',
    };
    const refused = await post(form.body, { ...row, 'groups[0][0][count]': '0' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatch(
      /id="g0r0-count" name="groups\[0\]\[0\]\[count\]"[^>]*value="0" aria-invalid="true" aria-describedby="g0r0-count-error"/,
    );
    expect(refused.body).toContain(
      '<p id="g0r0-count-error" class="field-error">Give a whole number from 1 to 100.</p>',
    );
    // The time limits stay open, with what was typed.
    expect(refused.body).toMatch(/<details class="for-time" open>/);
    expect(refused.body).toMatch(/id="g0r0-days" name="groups\[0\]\[0\]\[days\]"[^>]*value="30"/);
    expect(await models().templates.countDocuments({ name: 'Lab regular' })).toBe(0);

    const saved = await post(refused.body, { ...row, 'groups[0][0][count]': '3' });
    expect(saved.status).toBe(303);
    const stored = await models().templates.findOne({ name: 'Lab regular' }).lean();
    const [req] = stored!.groups[0]!.requirements;
    expect(req).toEqual({
      id: expect.any(String),
      event: 'activity.grade.updated',
      rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
      activities: { name: 'lab', atLeast: 3 },
      window: { until: '2027-07-01T00:00:00Z', daysAfterEnrolment: 30 },
    });
    expect(stored!.eventTypes).toEqual(['activity.grade.updated', 'enrollment.created']);
    const edit = decodeEntities((await follow(t, saved.location!)).body);
    expect(edit).toContain(
      '<span id="rule-summary">Earned when: 3 activities whose name contains “lab”, each ≥ 70%, by the end of 30 Jun 2027, within 30 days of enrolment</span>',
    );
    expect(edit).toMatch(/id="g0r0-until" name="groups\[0\]\[0\]\[until\]" type="date" value="2027-06-30"/);
  });

  it('orders a condition after a saved one, and refuses a loop beside the field', async () => {
    const form = await follow(t, newFormUrl);
    const rows = {
      name: 'Draft then final',
      'groups[0][0][kind]': 'activity-completed',
      'groups[0][0][activityId]': 'draft',
      'groups[1][0][kind]': 'activity-grade',
      'groups[1][0][activityId]': 'final',
      'groups[1][0][threshold]': '60',
    };
    // Activities Laurel has never heard of: confirmed on the warning first.
    const warned = await post(form.body, rows);
    expect(warned.status).toBe(400);
    const done = await post(warned.body, { ...rows, confirmActivity: ['draft', 'final'] });
    expect(done.status).toBe(303);
    const stored = await models().templates.findOne({ name: 'Draft then final' }).lean();
    const draftId = stored!.groups[0]!.requirements[0]!.id;
    const finalId = stored!.groups[1]!.requirements[0]!.id;
    const edit = await follow(t, done.location!);
    // The saved conditions are offered, by what they say, the row's own one left out.
    expect(decodeEntities(edit.body)).toContain(
      `<option value="${draftId}" >activity “draft” completed</option>`,
    );

    // (The test's form reader skips <select>s: the kinds are given again, as a browser would send them.)
    const ordered = await post(edit.body, { ...rows, 'groups[1][0][after]': draftId });
    expect(ordered.status).toBe(303);
    const after = await models().templates.findById(stored!._id).lean();
    expect(after!.groups[1]!.requirements[0]).toMatchObject({ id: finalId, after: draftId });
    const page = decodeEntities((await follow(t, ordered.location!)).body);
    expect(page).toContain('AND activity “final” ≥ 60%, after “activity “draft” completed”</span>');

    const loop = await post(page, {
      ...rows,
      'groups[1][0][after]': draftId,
      'groups[0][0][after]': finalId,
    });
    expect(loop.status).toBe(400);
    expect(decodeEntities(loop.body)).toContain(
      '<p id="g0r0-after-error" class="field-error">These conditions would each wait for the other, so none could be met.</p>',
    );
    expect(
      (await models().templates.findById(stored!._id).lean())!.groups[0]!.requirements[0],
    ).not.toHaveProperty('after');
  });

  it('shows a learner "2 of 3 labs" beside a count, with how many such activities the course has', async () => {
    const created = await admin(t, 'POST', '/templates', {
      platformId: moodle.id,
      courseId: chem(),
      name: 'Three labs',
      groups: [
        {
          requirements: [
            {
              event: 'activity.grade.updated',
              rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
              activities: { name: 'lab', atLeast: 3 },
            },
          ],
        },
      ],
    });
    expect(created.status).toBe(201);
    await admin(t, 'POST', `/templates/${created.body.id}/activate`);
    const ada = p.demo!.users.ada;
    const grade = (activityId: string, activityName: string, percent: number) =>
      event(moodle.id, {
        course: { id: chem() },
        user: { id: ada.sub },
        data: { activityId, activityName, percent },
      });
    const answer = await sendEvents(t, moodle.webhookSecret, {
      events: [
        grade('l1', 'Lab 1', 90),
        grade('l2', 'Lab 2', 75),
        grade('l3', 'Lab 3', 40),
        grade('l4', 'Lab 4', 10),
      ],
    });
    expect(answer.status).toBe(200);
    await settled(t);
    const page = decodeEntities(
      (await follow(t, (await launch(p, { courseId: chem(), sub: ada.sub })).url)).body,
    );
    const from = page.indexOf(`data-badge="${created.body.id}"`);
    expect(from).toBeGreaterThan(0);
    const card = page.slice(from);
    expect(card).toContain(
      'Earn this badge by: scoring 70% or more on any 3 activities whose name contains “lab”',
    );
    expect(card).toContain(
      '<span class="count">2 of 3 labs (4 in this course)</span> <progress class="count-bar" max="3" value="2" aria-label="2 of 3 labs done">',
    );
    expect(card).toMatch(/<progress max="100" value="67" aria-label="Your progress on Three labs"/);
  });
});
