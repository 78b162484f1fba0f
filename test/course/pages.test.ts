import { admin, event, sendEvents, settled } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import {
  expectHumanPage,
  follow,
  linksOf,
  ltikOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

/** Posts a form of a page the way a browser would (multipart when the form says so). */
async function submit(
  t: TestLaurel,
  html: string,
  action: string,
  fields: Record<string, string>,
  drop: string[] = [],
) {
  // Forms carry the launch's ltik in their action (checked before the body is read).
  const form = parseForms(html).find((f) => new URL(f.action, t.url).pathname === action);
  if (!form) throw new Error(`no form posting to ${action}`);
  const values: Record<string, string> = {};
  for (const [name, value] of form.fields) if (!drop.includes(name)) values[name] = value;
  Object.assign(values, fields);
  const multipart = new RegExp(`action="${action}[^"]*" enctype="multipart/form-data"`).test(html);
  let body: FormData | URLSearchParams;
  if (multipart) {
    body = new FormData();
    for (const [k, v] of Object.entries(values)) body.append(k, v);
  } else body = new URLSearchParams(values);
  const res = await fetch(new URL(form.action, t.url), {
    method: 'POST',
    body,
    redirect: 'manual',
    headers: { accept: 'text/html' },
  });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

describe('in-course badge pages', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let instructorPage: { url: string; body: string };
  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    instructorPage = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  const courseId = () => p.demo!.courses.chemistry.id;
  const ada = () => p.demo!.users.ada;

  it('shows an empty state that says what to do first, and a way to create a badge', async () => {
    expect(instructorPage.body).toContain('No badges yet');
    expect(instructorPage.body).toContain('Start by creating a badge');
    const create = linksOf(instructorPage.body).find((l) => l.startsWith('/course/instructor/badges/new'));
    expect(create).toBeDefined();
    expect(ltikOf(create!)).toBe(ltikOf(instructorPage.url));
  });

  let badgeUrl: string;

  it('keeps what was typed and shows each error beside its field', async () => {
    const form = await follow(
      t,
      linksOf(instructorPage.body).find((l) => l.startsWith('/course/instructor/badges/new'))!,
    );
    expect(form.status).toBe(200);
    expectHumanPage(form.body);
    const answer = await submit(t, form.body, '/course/instructor/badges', {
      name: '',
      description: 'Kept description',
      'groups[0][0][kind]': 'activity-grade',
      'groups[0][0][activityId]': 'quiz-3',
      'groups[0][0][threshold]': 'eighty',
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('Give the badge a name.');
    expect(answer.body).toContain('Kept description');
    expect(answer.body).toMatch(/id="g0r0-threshold"[^>]*value="eighty"/);
    expect(answer.body).toContain('Give a number, such as 80.');
    expect(answer.body).toMatch(/aria-describedby="g0r0-threshold-error"/);
  });

  it('offers the activities Laurel knows: seen in events and the gradebook columns', async () => {
    p.addLineItem(courseId(), { label: 'Lab practical', scoreMaximum: 10, resourceId: 'lab-practical' });
    await sendEvents(
      t,
      moodle.webhookSecret,
      event(moodle.id, {
        type: 'activity.completed',
        course: { id: courseId() },
        user: { id: p.demo!.users.grace.sub },
        data: { activityId: 'essay-1', activityTitle: 'First essay' },
      }),
    );
    await settled(t);
    const form = await follow(
      t,
      linksOf(instructorPage.body).find((l) => l.startsWith('/course/instructor/badges/new'))!,
    );
    // Each by name, kind and id (the list is searchable by any of them).
    expect(form.body).toContain(
      '<option value="lab-practical" data-name="Lab practical" data-kind="Gradebook column">Lab practical · Gradebook column · id lab-practical</option>',
    );
    expect(form.body).toContain(
      '<option value="essay-1" data-name="First essay" data-kind="">First essay · id essay-1</option>',
    );
  });

  it('refuses a form post without the launch’s CSRF token', async () => {
    const form = await follow(
      t,
      linksOf(instructorPage.body).find((l) => l.startsWith('/course/instructor/badges/new'))!,
    );
    const answer = await submit(t, form.body, '/course/instructor/badges', { name: 'Sneaky' }, ['csrf']);
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('This form could not be accepted');
    expect(await t.laurel.ctx.models.templates.countDocuments({ name: 'Sneaky' })).toBe(0);
  });

  it('creates a badge with a two-group rule and summarises it in plain language', async () => {
    const form = await follow(
      t,
      linksOf(instructorPage.body).find((l) => l.startsWith('/course/instructor/badges/new'))!,
    );
    const fields = {
      name: 'Lab star',
      description: 'Great lab work.',
      criteria: 'Score 80% on Quiz 3, and finish the course or pass the final.',
      tags: 'chemistry, lab',
      'groups[0][0][kind]': 'activity-grade',
      'groups[0][0][activityId]': 'quiz-3',
      'groups[0][0][threshold]': '80',
      'groups[0][0][unit]': 'percent',
      'groups[1][0][kind]': 'course-completed',
      'groups[1][1][kind]': 'activity-grade',
      'groups[1][1][activityId]': 'final',
      'groups[1][1][threshold]': '70',
      'groups[1][1][unit]': 'percent',
    };
    const first = await submit(t, form.body, '/course/instructor/badges', fields);
    // No grade has named quiz-3 or final yet: the form asks to confirm them before saving.
    expect(first.status).toBe(400);
    expect(decodeEntities(first.body)).toContain('Laurel has never heard of these activities');
    expect(first.body).toContain('name="confirmActivity" value="quiz-3"');
    expect(first.body).toContain('name="confirmActivity" value="final"');
    expect(await t.laurel.ctx.models.templates.countDocuments({ name: 'Lab star' })).toBe(0);
    // Confirming one of the two is not enough.
    const half = await submit(t, first.body, '/course/instructor/badges', {
      ...fields,
      confirmActivity: 'quiz-3',
    });
    expect(half.status).toBe(400);
    expect(half.body).not.toContain('name="confirmActivity" value="quiz-3"');
    expect(half.body).toContain('name="confirmActivity" value="final"');
    const body = new FormData();
    for (const [k, v] of parseForms(half.body)[0]!.fields) body.append(k, v);
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    body.append('confirmActivity', 'quiz-3');
    body.append('confirmActivity', 'final');
    const answer = await fetch(new URL(parseForms(half.body)[0]!.action, t.url), {
      method: 'POST',
      body,
      redirect: 'manual',
    }).then((r) => ({ status: r.status, location: r.headers.get('location') }));
    badgeUrl = answer.location!;
    const page = await follow(t, badgeUrl);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Saved.');
    expect(decodeEntities(page.body)).toContain(
      'activity “quiz-3” ≥ 80% AND (course completed OR activity “final” ≥ 70%)',
    );
    const stored = await t.laurel.ctx.models.templates.findOne({ name: 'Lab star' }).lean();
    expect(stored?.state).toBe('draft');
    expect(stored?.tags).toEqual(['chemistry', 'lab']);
    expect(stored?.groups).toHaveLength(2);
    expect(stored?.courseRef).not.toBeNull();
  });

  it('activates behind a confirmation that says what happens', async () => {
    const page = await follow(t, badgeUrl);
    const confirmLink = linksOf(page.body).find(
      (l) => l.includes('/state') && l.includes('action=activate'),
    )!;
    const confirm = await follow(t, confirmLink);
    expect(confirm.body).toContain('Results Laurel already received count too');
    const done = await submit(t, confirm.body, new URL(confirmLink, t.url).pathname, {});
    expect(done.status).toBe(303);
    const listed = await follow(t, done.location!);
    expect(listed.body).toContain('Lab star');
    expect(listed.body).toMatch(/state-active">Active/);
    expect(listed.body).toMatch(/<strong>0<\/strong> earned/);
  });

  it('shows a learner the badge, their progress as it moves, then the earned badge first with its link', async () => {
    const learner = await launch(p, { courseId: courseId(), sub: ada().sub });
    expect(learner.status).toBe(200);
    expect(learner.body).toContain('Lab star');
    expect(learner.body).toMatch(/<progress max="100" value="0"/);

    const send = (over: Record<string, unknown>) =>
      sendEvents(
        t,
        moodle.webhookSecret,
        event(moodle.id, { course: { id: courseId() }, user: { id: ada().sub }, ...over }),
      );
    await send({ data: { activityId: 'quiz-3', score: 9, maxScore: 10 } });
    await settled(t);
    let again = await follow(t, learner.url);
    expect(again.body).toMatch(/<progress max="100" value="50"/);
    // In a learner's words, with their best result; no rule notation, no raw id.
    expect(decodeEntities(again.body)).toContain(
      'Done:</span> Scoring 80% or more on an activity of this course <span class="best">(your best: 90%)</span>',
    );
    expect(decodeEntities(again.body)).toContain(
      'Earn this badge by: scoring 80% or more on an activity of this course, and either completing the course or scoring 70% or more on an activity of this course',
    );

    await send({ type: 'course.completed', data: {} });
    await settled(t);
    again = await follow(t, learner.url);
    expect(again.body).toContain('Earned on');
    expect(again.body).toMatch(/href="http:\/\/localhost:\d+\/credentials\/[0-9a-f]{24}"/);
    expect(again.body).toMatch(/<progress max="100" value="100"/);
  });

  it('lists the learners’ progress for the instructor, sortable', async () => {
    const list = await follow(t, instructorPage.url);
    expect(list.body).toMatch(/<strong>1<\/strong> earned/);
    const progressLink = linksOf(list.body).find((l) => l.includes('/progress'))!;
    const page = await follow(t, progressLink);
    expect(page.status).toBe(200);
    expect(page.body).toContain(ada().name);
    expect(page.body).toMatch(/<progress max="100" value="100" aria-label="Progress of Ada Lovelace"/);
    const byProgress = await follow(
      t,
      linksOf(page.body).find((l) => l.includes('sort=progress'))!,
    );
    expect(byProgress.status).toBe(200);
    expect(byProgress.body).toContain('aria-current="true"><strong>Progress');
  });

  it('refuses a learner on instructor URLs, and an instructor of another course on this course’s badges', async () => {
    const learner = await launch(p, { courseId: courseId(), sub: ada().sub });
    const asLearner = await follow(
      t,
      badgeUrl.replace(/ltik=[^&]+/, `ltik=${encodeURIComponent(ltikOf(learner.url)!)}`),
    );
    expect(asLearner.status).toBe(403);
    const other = await launch(p, {
      courseId: p.demo!.courses.history.id,
      sub: p.demo!.users.instructor.sub,
    });
    const foreign = await follow(
      t,
      badgeUrl.replace(/ltik=[^&]+/, `ltik=${encodeURIComponent(ltikOf(other.url)!)}`),
    );
    expect(foreign.status).toBe(403);
    expect(foreign.body).not.toContain('Lab star');
    expectHumanPage(foreign.body);
    const missing = await follow(
      t,
      `/course/instructor/badges/0123456789abcdef01234567?ltik=${encodeURIComponent(ltikOf(other.url)!)}`,
    );
    expect(missing.status).toBe(403);
  });

  it('withdraws with a confirmation; the badge stays earned', async () => {
    const page = await follow(t, badgeUrl);
    const confirmLink = linksOf(page.body).find((l) => l.includes('action=withdraw'))!;
    const confirm = await follow(t, confirmLink);
    expect(confirm.body).toContain('Nothing is revoked: learners who earned it keep it.');
    const done = await submit(t, confirm.body, new URL(confirmLink, t.url).pathname, {});
    expect(done.status).toBe(303);
    const stored = await t.laurel.ctx.models.templates.findOne({ name: 'Lab star' }).lean();
    expect(stored?.state).toBe('inactive');
    expect((await admin(t, 'GET', `/credentials?templateId=${stored!._id}`)).body.items[0].status).toMatch(
      /awarded|issued/,
    );
  });
});
