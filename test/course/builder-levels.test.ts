import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import {
  follow,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

/**
 * Issue 22 in the builder, as a browser without JavaScript posts it: levels and the regrade policy
 * saved, shown again, named in the summary, and refused beside the field that is wrong.
 */
describe('the builder’s levels and regrade fields', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let newFormUrl: string;

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    const home = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    newFormUrl = `/course/instructor/badges/new?ltik=${encodeURIComponent(new URL(home.url).searchParams.get('ltik')!)}`;
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  async function post(html: string, fields: Record<string, string>) {
    const form = parseForms(html).find((f) => f.action.includes('/course/instructor/badges'))!;
    const body = new FormData();
    const given = new Set(Object.keys(fields));
    for (const [k, v] of form.fields) if (!given.has(k)) body.append(k, v);
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    const res = await fetch(new URL(form.action, t.url), { method: 'POST', body, redirect: 'manual' });
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }
  async function summary(html: string, fields: Record<string, string>) {
    const action = decodeEntities(/data-summary-action="([^"]+)"/.exec(html)![1]!);
    const form = parseForms(html).find((f) => f.fields.some(([name]) => name === 'csrf'))!;
    const body = new URLSearchParams(form.fields);
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    const res = await fetch(new URL(action, t.url), { method: 'POST', body });
    expect(res.status).toBe(200);
    return ((await res.json()) as { summary: string }).summary;
  }
  const ladder = {
    levelsOn: 'activity',
    levelsActivityId: 'final-exam',
    'levels[0][name]': 'Bronze',
    'levels[0][min]': '60',
    'levels[1][name]': 'Silver',
    'levels[1][min]': '75',
    'levels[2][name]': 'Gold',
    'levels[2][min]': '90',
  };

  it('offers the fields with nothing chosen for a new badge', async () => {
    const form = await follow(t, newFormUrl);
    expect(form.body).toContain('<legend>Levels (bronze, silver, gold)</legend>');
    expect(form.body).toMatch(/<input type="radio" id="levels-on-0" name="levelsOn" value="none" checked>/);
    expect(form.body).toMatch(
      /<input type="radio" id="regrade-0" name="regradePolicy" value="none" checked>/,
    );
    expect(form.body).toContain('<label for="level-0-min">Level 1: lowest score (%)</label>');
  });

  it('says the levels and the regrade policy in the summary as they are typed', async () => {
    const form = await follow(t, newFormUrl);
    const words = await summary(form.body, { ...ladder, regradePolicy: 'revoke', regradeGraceDays: '5' });
    expect(words).toBe(
      'Levels by the score on activity “final-exam”: Bronze at 60% or more, Silver at 75% or more, Gold at 90% or more; each level is its own badge, and a learner holds the highest reached (a lower one is marked superseded, not revoked). ' +
        'If a grade is lowered so that a condition no longer holds, progress falls back, and a badge already awarded is revoked after 5 days unless the grade comes back; the learner is told by e-mail, and earns it again when the grade comes back.',
    );
  });

  it('refuses levels out of order beside the level that is wrong, keeping what was typed', async () => {
    const form = await follow(t, newFormUrl);
    const refused = await post(form.body, { name: 'Exam medal', ...ladder, 'levels[2][min]': '70' });
    expect(refused.status).toBe(400);
    const text = decodeEntities(refused.body);
    expect(text).toContain(
      '<p id="level-2-min-error" class="field-error">Min must be higher than the level below (Silver: 75); list levels lowest first</p>',
    );
    expect(refused.body).toMatch(/id="level-2-min" name="levels\[2\]\[min\]" value="70"/);
    expect(refused.body).toMatch(
      /<input type="radio" id="levels-on-1" name="levelsOn" value="activity" checked>/,
    );
  });

  it('refuses a level without a name and a grace period that is not a number', async () => {
    const form = await follow(t, newFormUrl);
    const refused = await post(form.body, {
      name: 'Exam medal',
      ...ladder,
      'levels[1][name]': '',
      regradePolicy: 'revoke',
      regradeGraceDays: 'soon',
    });
    expect(refused.status).toBe(400);
    const text = decodeEntities(refused.body);
    expect(text).toContain(
      '<p id="level-1-name-error" class="field-error">Give this level a name, such as Gold.</p>',
    );
    expect(text).toContain(
      '<p id="regrade-grace-error" class="field-error">Give a number of days from 0 to 365.</p>',
    );
  });

  it('saves a badge of levels alone with its regrade policy, and shows them again', async () => {
    const form = await follow(t, newFormUrl);
    const saved = await post(form.body, {
      name: 'Exam medal',
      ...ladder,
      regradePolicy: 'revoke',
      regradeGraceDays: '2',
    });
    expect(saved.status).toBe(303);
    const stored = await t.laurel.ctx.models.templates.findOne({ name: 'Exam medal' }).lean();
    expect(stored!.levels).toEqual({
      activityId: 'final-exam',
      steps: [
        { id: 'bronze', name: 'Bronze', min: 60, imageId: null },
        { id: 'silver', name: 'Silver', min: 75, imageId: null },
        { id: 'gold', name: 'Gold', min: 90, imageId: null },
      ],
    });
    expect(stored!.regrade).toEqual({ policy: 'revoke', graceDays: 2 });
    expect(stored!.eventTypes).toEqual(['activity.grade.updated']);
    const edit = await follow(t, saved.location!);
    expect(edit.body).toMatch(/id="level-2-name" name="levels\[2\]\[name\]" value="Gold"/);
    expect(edit.body).toMatch(
      /<input type="radio" id="regrade-2" name="regradePolicy" value="revoke" checked>/,
    );
    expect(edit.body).toMatch(/id="regrade-grace" name="regradeGraceDays" value="2"/);
    expect(decodeEntities(edit.body)).toContain(
      'Levels by the score on activity “final-exam”: Bronze at 60% or more',
    );
  });

  it('takes a picture per level, checked as a badge picture, refused beside its level, and shows it again', async () => {
    const gold = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><circle cx="32" cy="32" r="30" fill="#c9a227"/><script>alert(1)</script></svg>',
    );
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00', 'binary');
    const form = await follow(t, newFormUrl);
    expect(form.body).toContain(
      '<label for="level-2-image">Level 3: own picture (optional; PNG or SVG, square, at most 256 KiB)</label>',
    );
    const postWith = async (files: Record<string, [Buffer, string, string]>) => {
      const parsed = parseForms(form.body).find((f) => f.action.includes('/course/instructor/badges'))!;
      const body = new FormData();
      const fields: Record<string, string> = { name: 'Medal with pictures', ...ladder };
      for (const [k, v] of parsed.fields) if (!(k in fields)) body.append(k, v);
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      for (const [field, [bytes, type, filename]] of Object.entries(files))
        body.append(field, new Blob([new Uint8Array(bytes)], { type }), filename);
      const res = await fetch(new URL(parsed.action, t.url), { method: 'POST', body, redirect: 'manual' });
      return { status: res.status, location: res.headers.get('location'), body: await res.text() };
    };
    const refused = await postWith({
      levelImage0: [gif, 'image/gif', 'bronze.gif'],
      levelImage2: [gold, 'image/svg+xml', 'gold.svg'],
    });
    expect(refused.status).toBe(400);
    expect(decodeEntities(refused.body)).toContain(
      '<p id="level-0-image-error" class="field-error">The image is a GIF; badges must be PNG or SVG.</p>',
    );
    expect(await t.laurel.ctx.models.templates.countDocuments({ name: 'Medal with pictures' })).toBe(0);

    const saved = await postWith({ levelImage2: [gold, 'image/svg+xml', 'gold.svg'] });
    expect(saved.status).toBe(303);
    const stored = await t.laurel.ctx.models.templates.findOne({ name: 'Medal with pictures' }).lean();
    const steps = stored!.levels!.steps;
    expect(steps.map((s) => [s.name, Boolean(s.imageId)])).toEqual([
      ['Bronze', false],
      ['Silver', false],
      ['Gold', true],
    ]);
    // The SVG was sanitised as a badge picture is: its script is gone.
    const picture = await fetch(new URL(`/images/${steps[2]!.imageId}`, t.url));
    expect(picture.status).toBe(200);
    const svg = await picture.text();
    expect(svg).toContain('<circle');
    expect(svg).not.toContain('script');
    const edit = await follow(t, saved.location!);
    expect(edit.body).toContain(
      `<img src="/images/${steps[2]!.imageId}" alt="Current picture of level 3" width="48" height="48" class="badge-image">`,
    );
    // Saved again without a new file, the level keeps its picture.
    const again = parseForms(edit.body).find((f) => f.action.includes('/course/instructor/badges'))!;
    const res = await fetch(new URL(again.action, t.url), {
      method: 'POST',
      body: (() => {
        const body = new FormData();
        for (const [k, v] of again.fields) body.append(k, v);
        return body;
      })(),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    const kept = await t.laurel.ctx.models.templates.findById(stored!._id).lean();
    expect(kept!.levels!.steps[2]!.imageId).toBe(steps[2]!.imageId);
  });
});
