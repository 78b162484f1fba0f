import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import {
  follow,
  linksOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';
import { backpackLinkOf, Visitor } from '../backpack/helpers.js';

/**
 * The pathway pages over HTTP, launched from test LMSs: an instructor makes a pathway (with
 * validation beside the fields and CSRF), sees learners per step and enrols the course; a learner
 * follows it, sees the map move as badges arrive, shares it (410 once withdrawn) and finds it in the
 * backpack; nobody reaches another platform's or another course's pathway, and a learner edits none.
 */
let t: TestLaurel;
let moodle: RegisteredPlatform;
let canvas: RegisteredPlatform;
let p: TestPlatform;
const ids: Record<string, string> = {};
let instructor: { url: string; body: string };
let pathwayId: string;

const chem = () => p.demo!.courses.chemistry.id;
const hist = () => p.demo!.courses.history.id;

async function template(name: string, courseId: string) {
  const created = await admin(t, 'POST', '/templates', {
    platformId: moodle.id,
    courseId,
    name,
    groups: [
      {
        requirements: [
          {
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: `${name}-quiz` },
              { path: 'data.percent', op: 'gte', value: 80 },
            ],
          },
        ],
      },
    ],
  });
  expect(created.status).toBe(201);
  expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
  return created.body.id as string;
}

/** Posts a form of `page` (found by its action's path) with these fields, keeping its CSRF token. */
async function post(
  page: string,
  path: string,
  fields: [string, string][],
  options: { csrf?: boolean } = {},
) {
  const form = parseForms(page).find((f) => new URL(f.action, t.url).pathname === path);
  if (!form) throw new Error(`no form posting to ${path}`);
  const body = new URLSearchParams();
  if (options.csrf !== false) body.append('csrf', form.fields.find(([n]) => n === 'csrf')![1]);
  for (const [k, v] of fields) body.append(k, v);
  const res = await fetch(new URL(form.action, t.url), {
    method: 'POST',
    body,
    redirect: 'manual',
    headers: { accept: 'text/html' },
  });
  return {
    status: res.status,
    location: res.headers.get('location'),
    body: decodeEntities(await res.text()),
  };
}

const stepFields = (
  i: number,
  id: string,
  name: string,
  badges: string[],
  extra: [string, string][] = [],
): [string, string][] => [
  [`step.${i}.id`, id],
  [`step.${i}.name`, name],
  ...badges.map((b): [string, string] => [`step.${i}.badge`, b]),
  ...extra,
];

beforeAll(async () => {
  t = await startLaurelForLti();
  moodle = await startRegisteredPlatform(t, 'moodle');
  canvas = await startRegisteredPlatform(t, 'canvas');
  p = moodle.platform;
  ids.safety = await template('Lab safety', chem());
  ids.lab1 = await template('Lab one', chem());
  ids.lab2 = await template('Lab two', chem());
  ids.lab3 = await template('Lab three', chem());
  ids.finish = await template('Chemistry pathway', chem());
  // Another course's badge, not shared: its instructors' own.
  ids.essay = await template('History essay', hist());
  instructor = await launch(p, { courseId: chem(), sub: p.demo!.users.instructor.sub });
}, 120_000);
afterAll(async () => {
  await moodle?.platform.close();
  await canvas?.platform.close();
  await t?.stop();
});

it('lets an instructor create a pathway from the instructor page, with every problem named beside its field', async () => {
  const list = linksOf(instructor.body).find((l) => l.startsWith('/course/instructor/pathways?'));
  expect(list).toBeDefined();
  const listPage = await follow(t, list!);
  expect(listPage.status).toBe(200);
  expect(listPage.body).toContain('No pathways yet');
  const newPage = await follow(
    t,
    linksOf(listPage.body).find((l) => l.startsWith('/course/instructor/pathways/new?'))!,
  );
  expect(newPage.status).toBe(200);
  const form = decodeEntities(newPage.body);
  // Badges are picked by name; another course's unshared badge is not offered.
  expect(form).toContain('Lab safety (Chemistry 101)');
  expect(form).not.toContain('History essay');

  const stepId = parseForms(newPage.body)[0]!.fields.find(([n]) => n === 'step.0.id')![1];
  // A step button re-renders the form with one more step, saving nothing.
  const added = await post(newPage.body, '/course/instructor/pathways', [
    ['name', 'Lab technician'],
    ...stepFields(0, stepId, 'Basics', [ids.safety!]),
    ['edit', 'add'],
  ]);
  expect(added.status).toBe(200);
  expect(added.body).toContain('<legend>Step 2</legend>');
  expect(await t.laurel.ctx.models.pathways.countDocuments()).toBe(0);
  const secondId = parseForms(added.body)[0]!.fields.find(([n]) => n === 'step.1.id')![1];

  const bad = await post(newPage.body, '/course/instructor/pathways', [
    ['name', ''],
    ...stepFields(0, stepId, 'Basics', [ids.safety!]),
    ...stepFields(
      1,
      secondId,
      'Labs',
      [ids.lab1!, ids.essay!],
      [
        [`step.1.need`, 'some'],
        ['step.1.atLeast', '3'],
      ],
    ),
  ]);
  expect(bad.status).toBe(400);
  expect(bad.body).toContain('Give the pathway a name.');
  expect(bad.body).toContain('This step has 2 badges: it cannot need 3.');
  expect(await t.laurel.ctx.models.pathways.countDocuments()).toBe(0);
  // The badge of another course is refused beside its step, as if it did not exist.
  const unseen = await post(newPage.body, '/course/instructor/pathways', [
    ['name', 'Lab technician'],
    ...stepFields(0, stepId, 'Basics', [ids.essay!]),
  ]);
  expect(unseen.status).toBe(400);
  expect(unseen.body).toMatch(
    /<p class="field-error" id="step-0-badges-error">Choose badges from the list.<\/p>/,
  );

  const noToken = await post(
    newPage.body,
    '/course/instructor/pathways',
    [['name', 'x'], ...stepFields(0, stepId, 'Basics', [ids.safety!])],
    { csrf: false },
  );
  expect(noToken.status).toBe(403);

  const saved = await post(newPage.body, '/course/instructor/pathways', [
    ['name', 'Lab technician'],
    ['description', 'From safety to the labs.'],
    ['badgeTemplateId', ids.finish!],
    ...stepFields(0, stepId, 'Basics', [ids.safety!]),
    ...stepFields(
      1,
      secondId,
      'Labs',
      [ids.lab1!, ids.lab2!, ids.lab3!],
      [
        ['step.1.need', 'some'],
        ['step.1.atLeast', '2'],
        ['step.1.prereq', stepId],
      ],
    ),
  ]);
  expect(saved.status).toBe(303);
  const stored = await t.laurel.ctx.models.pathways.findOne({ name: 'Lab technician' }).lean();
  pathwayId = String(stored!._id);
  expect(saved.location).toContain(`/course/instructor/pathways/${pathwayId}?`);
  expect(stored!.steps.map((s) => [s.name, s.atLeast, s.prerequisites, s.templateIds.length])).toEqual([
    ['Basics', null, [], 1],
    ['Labs', 2, [stepId], 3],
  ]);
  expect(String(stored!.badgeTemplateId)).toBe(ids.finish);
  expect(String(stored!.courseRef)).toBe(
    String((await t.laurel.ctx.models.courses.findOne({ ids: chem() }).lean())!._id),
  );
}, 60_000);

it('shows a learner the pathway as a map, follows it, and moves it as badges arrive', async () => {
  const ada = await launch(p, { courseId: chem(), sub: p.demo!.users.ada.sub });
  const list = await follow(
    t,
    linksOf(ada.body).find((l) => l.startsWith('/course/learner/pathways?'))!,
  );
  expect(list.body).toContain('Lab technician');
  const mapLink = linksOf(list.body).find((l) => l.startsWith(`/course/learner/pathways/${pathwayId}?`))!;
  const before = await follow(t, mapLink);
  expect(before.status).toBe(200);
  expect(before.body).toContain('Follow this pathway');
  const followed = await post(before.body, `/course/learner/pathways/${pathwayId}/subscribe`, []);
  expect(followed.status).toBe(303);

  let map = decodeEntities((await follow(t, mapLink)).body);
  expect(map).toContain('0 of 2 required steps done');
  expect(map).toContain('Earn any 2 of these 3 badges:');
  expect(map).toContain('First finish “Basics”.');
  // How to get a badge, in a learner's words, with its course.
  expect(map).toContain('Earn this badge by: scoring 80% or more on an activity of this course');
  // Linked to the course in the LMS (Moodle's course page, by the LMS's own course id).
  expect(map).toContain(
    `In <a href="${p.url}/course/view.php?id=${chem()}" target="_blank" rel="noopener">Chemistry 101`,
  );
  expect(map).toMatch(
    /data-step="[a-z0-9]+">\s*<h2 class="step-title"><span class="step-state">Next<\/span>/,
  );

  for (const b of [ids.lab1!, ids.safety!])
    expect(
      (
        await admin(t, 'POST', '/credentials', {
          templateId: b,
          userId: p.demo!.users.ada.sub,
          reason: 'test',
        })
      ).status,
    ).toBe(201);
  await t.laurel.ctx.jobs.idle?.();
  map = decodeEntities((await follow(t, mapLink)).body);
  expect(map).toContain('1 of 2 required steps done');
  expect(map).toMatch(
    /<span class="step-state"><span aria-hidden="true">✔ <\/span>Done<\/span>\s*<span class="step-name">1. Basics/,
  );
  expect(map).toContain('<progress max="2" value="1" aria-label="Badges earned for Labs">');
  expect(map).toContain('Next:</strong> Labs');
}, 60_000);

it('shows the instructor how many learners are at each step, and enrols the course', async () => {
  const list = decodeEntities(
    (
      await follow(
        t,
        linksOf(instructor.body).find((l) => l.startsWith('/course/instructor/pathways?'))!,
      )
    ).body,
  );
  expect(list).toMatch(/1\. Basics<\/th>\s*<td><progress max="100" value="0"[^>]*>0%<\/progress> 0<\/td>/);
  expect(list).toMatch(/2\. Labs<\/th>\s*<td><progress max="100" value="100"[^>]*>100%<\/progress> 1<\/td>/);
  // Grace, the course's other learner, is known to Laurel from her launch.
  await launch(p, { courseId: chem(), sub: p.demo!.users.grace.sub });
  const enrolled = await post(list, `/course/instructor/pathways/${pathwayId}/enrol`, []);
  expect(enrolled.status).toBe(303);
  const after = decodeEntities((await follow(t, enrolled.location!)).body);
  expect(after).toContain('1 learner enrolled in “Lab technician” (1 already followed it).');
  const grace = await t.laurel.ctx.models.people.findOne({ ids: p.demo!.users.grace.sub }).lean();
  const theirs = await t.laurel.ctx.models.pathwayEnrolments.findOne({ personId: grace!._id }).lean();
  expect([theirs!.via, theirs!.currentStep]).toEqual([
    'enrolled',
    (await t.laurel.ctx.models.pathways.findById(pathwayId).lean())!.steps[0]!.id,
  ]);
}, 60_000);

it('refuses a learner the instructor pages, and another platform or course the pathway', async () => {
  const ada = await launch(p, { courseId: chem(), sub: p.demo!.users.ada.sub });
  const ltik = new URL(ada.url).searchParams.get('ltik')!;
  const q = `?ltik=${encodeURIComponent(ltik)}`;
  expect((await follow(t, `/course/instructor/pathways${q}`)).status).toBe(403);
  expect((await follow(t, `/course/instructor/pathways/${pathwayId}${q}`)).status).toBe(403);
  const edit = await fetch(`${t.url}/course/instructor/pathways/${pathwayId}${q}`, {
    method: 'POST',
    body: new URLSearchParams({ name: 'Hijacked' }),
    redirect: 'manual',
  });
  expect(edit.status).toBe(403);
  expect((await t.laurel.ctx.models.pathways.findById(pathwayId).lean())!.name).toBe('Lab technician');

  // The Canvas platform's instructor and learner: the Moodle pathway does not exist for them.
  const c = canvas.platform;
  const theirs = await launch(c, {
    courseId: c.demo!.courses.chemistry.id,
    sub: c.demo!.users.instructor.sub,
  });
  const cq = `?ltik=${encodeURIComponent(new URL(theirs.url).searchParams.get('ltik')!)}`;
  expect((await follow(t, `/course/instructor/pathways/${pathwayId}${cq}`)).status).toBe(404);
  expect((await follow(t, `/course/learner/pathways/${pathwayId}${cq}`)).status).toBe(404);
  expect((await follow(t, `/course/instructor/pathways${cq}`)).body).toContain('No pathways yet');
  // The instructor of another course of the same LMS neither edits it nor sees it offered.
  const history = await launch(p, { courseId: hist(), sub: p.demo!.users.instructor.sub });
  const hq = `?ltik=${encodeURIComponent(new URL(history.url).searchParams.get('ltik')!)}`;
  expect((await follow(t, `/course/instructor/pathways/${pathwayId}${hq}`)).status).toBe(404);
  expect((await follow(t, `/course/instructor/pathways${hq}`)).body).not.toContain('Lab technician');
}, 60_000);

it('shares a learner’s progress by a link that answers 410 once withdrawn, and lists it in the backpack', async () => {
  const ada = await launch(p, { courseId: chem(), sub: p.demo!.users.ada.sub });
  const ltik = new URL(ada.url).searchParams.get('ltik')!;
  const mapUrl = `/course/learner/pathways/${pathwayId}?ltik=${encodeURIComponent(ltik)}`;
  const shared = await post(
    (await follow(t, mapUrl)).body,
    `/course/learner/pathways/${pathwayId}/share`,
    [],
  );
  expect(shared.status).toBe(303);
  const page = decodeEntities((await follow(t, mapUrl)).body);
  const url = /value="(http[^"]+\/pathways\/shared\/[A-Za-z0-9_-]{22})"/.exec(page)![1]!;
  const open = await fetch(url, { headers: { accept: 'text/html' } });
  expect(open.status).toBe(200);
  const publicPage = decodeEntities(await open.text());
  expect(publicPage).toContain('The progress of Ada Lovelace on this pathway.');
  expect(publicPage).toContain('1 of 2 required steps done');
  expect(publicPage).not.toContain(ltik);

  // My Record lists the pathway, and its page in the backpack shows the same map.
  const visitor = new Visitor(t);
  await visitor.get(await backpackLinkOf(p, p.demo!.users.ada.sub));
  const record = decodeEntities((await visitor.get('/backpack')).body);
  expect(record).toContain('My pathways');
  const inBackpack = /href="(\/backpack\/pathways\/[0-9a-f]{24})"/.exec(record)![1]!;
  const backpackMap = await visitor.get(inBackpack);
  expect(backpackMap.status).toBe(200);
  expect(decodeEntities(backpackMap.body)).toContain('1 of 2 required steps done');

  const withdrawn = await post(page, `/course/learner/pathways/${pathwayId}/unshare`, []);
  expect(withdrawn.status).toBe(303);
  expect((await fetch(url, { headers: { accept: 'text/html' } })).status).toBe(410);
  expect((await fetch(url.replace(/[A-Za-z0-9_-]{22}$/, 'A'.repeat(22)))).status).toBe(404);
}, 60_000);

it('lets a learner stop following, and an instructor delete a pathway only when confirmed', async () => {
  const ctx = t.laurel.ctx;
  const ada = await launch(p, { courseId: chem(), sub: p.demo!.users.ada.sub });
  const q = `?ltik=${encodeURIComponent(new URL(ada.url).searchParams.get('ltik')!)}`;
  const map = (await follow(t, `/course/learner/pathways/${pathwayId}${q}`)).body;
  const left = await post(map, `/course/learner/pathways/${pathwayId}/leave`, []);
  expect(left.status).toBe(303);
  const adaId = (await ctx.models.people.findOne({ ids: p.demo!.users.ada.sub }).lean())!._id;
  expect(await ctx.models.pathwayEnrolments.countDocuments({ personId: adaId })).toBe(0);
  expect(decodeEntities((await follow(t, left.location!)).body)).toMatch(
    /Pathways you can follow<\/h2>\s*<ul class="badge-list">\s*<li class="badge-card"><div class="badge-body">\s*<h3><a href="[^"]+">Lab technician/,
  );

  const iq = `?ltik=${encodeURIComponent(new URL(instructor.url).searchParams.get('ltik')!)}`;
  const edit = (await follow(t, `/course/instructor/pathways/${pathwayId}${iq}`)).body;
  const unconfirmed = await post(edit, `/course/instructor/pathways/${pathwayId}/delete`, []);
  expect(unconfirmed.status).toBe(400);
  expect(unconfirmed.body).toContain('Tick the box to confirm the deletion.');
  expect(await ctx.models.pathways.countDocuments({ _id: pathwayId })).toBe(1);
  const deleted = await post(edit, `/course/instructor/pathways/${pathwayId}/delete`, [['confirm', '1']]);
  expect(deleted.status).toBe(303);
  expect(await ctx.models.pathways.countDocuments({ _id: pathwayId })).toBe(0);
  expect(await ctx.models.pathwayEnrolments.countDocuments({ pathwayId })).toBe(0);
  expect(decodeEntities((await follow(t, deleted.location!)).body)).toContain(
    'The pathway “Lab technician” was deleted.',
  );
}, 60_000);
