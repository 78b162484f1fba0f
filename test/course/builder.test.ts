import type { TestLaurel } from '../support/laurel.js';
import { event, sendEvents, settled } from '../support/api.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import {
  follow,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

/**
 * The requirement builder over HTTP, as a browser without JavaScript uses it: the course's activities
 * offered by name from every source, the warning before a condition on an activity Laurel has never
 * heard of is saved, and groups and conditions added and removed through the form's own buttons.
 */
describe('the requirement builder', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let newFormUrl: string;

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

  const chem = () => p.demo!.courses.chemistry.id;
  const models = () => t.laurel.ctx.models;

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
  /** The builder rows a page shows, as "g<group>r<row>". */
  const rowsOf = (html: string) =>
    [...html.replace(/<template[\s\S]*?<\/template>/g, '').matchAll(/id="(g\d+r\d+)-kind"/g)].map(
      (m) => m[1],
    );

  it('offers the course’s activities from every source, by name, kind and id', async () => {
    // The LMS's own description (the Moodle plugin's course structure lands in lms_activities).
    const platform = await models().platforms.findById(moodle.id).lean();
    await models().lmsActivities.create([
      {
        platformId: platform!._id,
        courseId: chem(),
        activityId: '42',
        name: 'Quiz 3',
        kind: 'quiz',
        source: 'moodle',
      },
      {
        platformId: platform!._id,
        courseId: chem(),
        activityId: '43',
        name: 'Gone',
        kind: 'assign',
        source: 'moodle',
        state: 'deleted',
      },
    ]);
    // A gradebook column the launch reads through AGS.
    p.addLineItem(chem(), { label: 'Lab practical', scoreMaximum: 10, resourceId: 'lab-practical' });
    // An activity named only in an event.
    await sendEvents(
      t,
      moodle.webhookSecret,
      event(moodle.id, {
        type: 'activity.completed',
        course: { id: chem() },
        user: { id: p.demo!.users.grace.sub },
        data: { activityId: 'essay-1', activityName: 'First essay' },
      }),
    );
    await settled(t);

    const form = await follow(t, newFormUrl);
    expect(form.status).toBe(200);
    const options = [...form.body.matchAll(/<option value="([^"]*)" data-name[^>]*>([^<]*)<\/option>/g)].map(
      (m) => [m[1], decodeEntities(m[2]!)],
    );
    expect(options).toEqual([
      ['essay-1', 'First essay · id essay-1'],
      ['lab-practical', 'Lab practical · Gradebook column · id lab-practical'],
      ['42', 'Quiz 3 · Quiz · id 42'],
    ]);
    // A plain datalist on a text field: it works, and is searched, without JavaScript.
    expect(form.body).toMatch(
      /<input id="g0r0-activity" name="groups\[0\]\[0\]\[activityId\]" list="known-activities"/,
    );
  });

  it('saves "any N of these" for a group, and refuses an N the group cannot reach', async () => {
    const form = await follow(t, newFormUrl);
    expect(form.body).toMatch(/<label for="g0-at-least">How many of these must be met<\/label>/);
    const rows = {
      name: 'Two of three',
      'groups[0][0][kind]': 'activity-completed',
      'groups[0][0][activityId]': '42',
      'groups[0][1][kind]': 'activity-completed',
      'groups[0][1][activityId]': 'essay-1',
      'groups[0][2][kind]': 'course-completed',
    };
    const refused = await post(form.body, { ...rows, 'groups[0][atLeast]': '4' });
    expect(refused.status).toBe(400);
    expect(decodeEntities(refused.body)).toContain(
      'Give a whole number from 1 to 3 (the conditions in this group).',
    );
    expect(refused.body).toMatch(
      /id="g0-at-least" name="groups\[0\]\[atLeast\]"[^>]*value="4" aria-invalid="true"/,
    );
    expect(await models().templates.countDocuments({ name: 'Two of three' })).toBe(0);

    const saved = await post(refused.body, { ...rows, 'groups[0][atLeast]': '2' });
    expect(saved.status).toBe(303);
    const stored = await models().templates.findOne({ name: 'Two of three' }).lean();
    expect(stored!.groups).toHaveLength(1);
    expect(stored!.groups[0]!.atLeast).toBe(2);
    expect(stored!.groups[0]!.requirements).toHaveLength(3);
    const edit = await follow(t, saved.location!);
    expect(edit.body).toMatch(/id="g0-at-least" name="groups\[0\]\[atLeast\]"[^>]*value="2"/);
  });

  it('saves a condition on a known activity at once', async () => {
    const form = await follow(t, newFormUrl);
    const answer = await post(form.body, {
      name: 'Quiz ace',
      'groups[0][0][kind]': 'activity-grade',
      'groups[0][0][activityId]': '42',
      'groups[0][0][threshold]': '80',
    });
    expect(answer.status).toBe(303);
    expect(await models().templates.countDocuments({ name: 'Quiz ace' })).toBe(1);
    // Shown again, the condition names its activity, without JavaScript.
    const edit = await follow(t, answer.location!);
    expect(edit.body).toContain('<p id="g0r0-activity-hint" class="activity-hint">Quiz 3 (Quiz), id 42</p>');
  });

  it('warns about an activity Laurel has never heard of, and saves it only once confirmed', async () => {
    const form = await follow(t, newFormUrl);
    const fields = {
      name: 'Typo badge',
      'groups[0][0][kind]': 'activity-grade',
      'groups[0][0][activityId]': 'Quiz 3',
      'groups[0][0][threshold]': '80',
    };
    const warned = await post(form.body, fields);
    expect(warned.status).toBe(400);
    const text = decodeEntities(warned.body);
    expect(text).toContain('Not saved yet: Laurel has never heard of this activity in this course.');
    expect(warned.body).toMatch(/<div class="warning-box" role="alert"/);
    expect(text).toContain(
      '<input type="checkbox" id="confirm-activity-0" name="confirmActivity" value="Quiz 3">',
    );
    expect(text).toContain('Yes, “Quiz 3” is right: save it anyway');
    // The name of a known activity typed where its id belongs: the warning says which id it is.
    expect(text).toContain(
      '“Quiz 3” is the name of an activity whose id is <strong>42</strong> (Quiz 3 · Quiz · id 42)',
    );
    // Beside the field too, and what was typed is kept.
    expect(text).toMatch(/id="g0r0-activity"[^>]*value="Quiz 3"/);
    expect(text).toContain(
      '<p id="g0r0-activity-hint" class="activity-hint unknown">Laurel has never heard of this activity',
    );
    expect(await models().templates.countDocuments({ name: 'Typo badge' })).toBe(0);

    const saved = await post(warned.body, { ...fields, confirmActivity: 'Quiz 3' });
    expect(saved.status).toBe(303);
    const stored = await models().templates.findOne({ name: 'Typo badge' }).lean();
    expect(stored!.groups[0]!.requirements[0]).toMatchObject({
      rules: [
        { path: 'data.activityId', op: 'eq', value: 'Quiz 3' },
        { path: 'data.percent', op: 'gte', value: 80 },
      ],
    });

    // Saving the badge again does not ask about what it already names; a new unknown id is asked about.
    const edit = await follow(t, saved.location!);
    const again = await post(edit.body, {
      ...fields,
      'groups[0][0][id]': stored!.groups[0]!.requirements[0]!.id,
      'groups[0][0][threshold]': '75',
    });
    expect(again.status).toBe(303);
    const other = await post(edit.body, {
      ...fields,
      'groups[0][0][id]': stored!.groups[0]!.requirements[0]!.id,
      'groups[0][0][activityId]': 'quiz-9',
    });
    expect(other.status).toBe(400);
    expect(decodeEntities(other.body)).toContain('value="quiz-9"');
    expect(decodeEntities(other.body)).toContain('Yes, “quiz-9” is right');
  });

  it('starts with one condition, and adds and removes conditions and groups without JavaScript', async () => {
    const form = await follow(t, newFormUrl);
    expect(rowsOf(form.body)).toEqual(['g0r0']);
    const typed = {
      name: 'Built by hand',
      'groups[0][0][kind]': 'course-completed',
    };
    // "Add an alternative" to group 1: the same form with one more condition, nothing saved.
    const added = await post(form.body, { ...typed, builder: 'add-row:0' });
    expect(added.status).toBe(200);
    expect(rowsOf(added.body)).toEqual(['g0r0', 'g0r1']);
    expect(added.body).toMatch(/<select id="g0r0-kind"[\s\S]*?<option value="course-completed" selected>/);
    expect(await models().templates.countDocuments({ name: 'Built by hand' })).toBe(0);

    const grouped = await post(added.body, {
      ...typed,
      'groups[0][1][kind]': 'activity-completed',
      'groups[0][1][activityId]': '42',
      builder: 'add-group',
    });
    expect(rowsOf(grouped.body)).toEqual(['g0r0', 'g0r1', 'g1r0']);
    expect(grouped.body).toMatch(/id="g0r1-activity"[^>]*value="42"/);

    // Removing the first condition moves the second up; removing a group leaves the others.
    const removed = await post(grouped.body, {
      ...typed,
      'groups[0][1][kind]': 'activity-completed',
      'groups[0][1][activityId]': '42',
      'groups[1][0][kind]': 'course-completed',
      builder: 'remove-row:0:0',
    });
    expect(rowsOf(removed.body)).toEqual(['g0r0', 'g1r0']);
    expect(removed.body).toMatch(/id="g0r0-activity"[^>]*value="42"/);
    const oneGroup = await post(removed.body, {
      name: 'Built by hand',
      'groups[0][0][kind]': 'activity-completed',
      'groups[0][0][activityId]': '42',
      'groups[1][0][kind]': 'course-completed',
      builder: 'remove-group:0',
    });
    expect(rowsOf(oneGroup.body)).toEqual(['g0r0']);
    expect(oneGroup.body).toMatch(/<select id="g0r0-kind"[\s\S]*?<option value="course-completed" selected>/);
    expect(await models().templates.countDocuments({ name: 'Built by hand' })).toBe(0);

    // The form's Save saves what is there.
    const saved = await post(oneGroup.body, {
      name: 'Built by hand',
      'groups[0][0][kind]': 'course-completed',
    });
    expect(saved.status).toBe(303);
    const stored = await models().templates.findOne({ name: 'Built by hand' }).lean();
    expect(stored!.groups.map((g) => g.requirements.map((r) => ('event' in r ? r.event : r.badge)))).toEqual([
      ['course.completed'],
    ]);
  });

  it('does not grow slots after a failed submit', async () => {
    const form = await follow(t, newFormUrl);
    const two = await post(form.body, {
      name: '',
      'groups[0][0][kind]': 'course-completed',
      builder: 'add-row:0',
    });
    const failed = await post(two.body, { name: '', 'groups[0][0][kind]': 'course-completed' });
    expect(failed.status).toBe(400);
    expect(failed.body).toContain('Give the badge a name.');
    expect(rowsOf(failed.body)).toEqual(['g0r0', 'g0r1']);
    const again = await post(failed.body, { name: '', 'groups[0][0][kind]': 'course-completed' });
    expect(rowsOf(again.body)).toEqual(['g0r0', 'g0r1']);
  });

  it('puts the save button first, so Enter in a field saves instead of removing a condition', async () => {
    const form = await follow(t, newFormUrl);
    const body = form.body.slice(form.body.indexOf('<form method="post"'));
    const firstSubmit = /<button type="submit"[^>]*>([^<]*)</.exec(body);
    expect(firstSubmit![1]).toBe('Create the badge');
    expect(firstSubmit![0]).not.toContain('name="builder"');
  });

  it('summarises the rule once, without repeating “Earned when:”', async () => {
    const stored = await models().templates.findOne({ name: 'Quiz ace' }).lean();
    const home = await launch(p, { courseId: chem(), sub: p.demo!.users.instructor.sub });
    const ltik = new URL(home.url).searchParams.get('ltik')!;
    const page = await follow(t, `/course/instructor/badges/${stored!._id}?ltik=${encodeURIComponent(ltik)}`);
    const text = decodeEntities(page.body);
    expect(text).toContain('<span id="rule-summary">Earned when: Quiz 3 ≥ 80%</span>');
    expect(text.match(/Earned when:/g)).toHaveLength(1);
  });
});
