/**
 * Issue 24 in a real browser at 375 px: the pathway map (done, next and locked steps, N-of-M bars,
 * badge pictures), its instructor pages and its shared page fit a phone with no serious accessibility
 * problem; following a pathway works by keyboard. Screenshots under test/artifacts/.
 */
import { Types } from 'mongoose';
import type { Browser } from 'playwright-core';
import { enrol, sharePathway } from '../../src/pathways/enrolments.js';
import { createPathway } from '../../src/pathways/service.js';
import { admin } from '../support/api.js';
import { launchBrowser, seriousA11yViolations } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch, type TestPlatform } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { screenshots } from './helpers.js';

let t: TestLaurel;
let moodle: RegisteredPlatform;
let p: TestPlatform;
let browser: Browser;
let pathwayId: string;
let sharedPath: string;
const ids: Record<string, string> = {};

async function template(name: string, courseId: string, activity: string) {
  const created = await admin(t, 'POST', '/templates', {
    platformId: moodle.id,
    courseId,
    name,
    description: `${name}: a test badge.`,
    groups: [
      {
        requirements: [
          {
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: activity },
              { path: 'data.percent', op: 'gte', value: 80 },
            ],
          },
        ],
      },
    ],
  });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  await admin(t, 'POST', `/templates/${created.body.id}/activate`);
  return created.body.id as string;
}

beforeAll(async () => {
  t = await startLaurelForLti();
  moodle = await startRegisteredPlatform(t, 'moodle');
  p = moodle.platform;
  const chem = p.demo!.courses.chemistry.id;
  const hist = p.demo!.courses.history.id;
  ids.safety = await template('Laboratory safety and good practice', chem, 'quiz-1');
  ids.sources = await template('Working with historical sources', hist, 'essay-1');
  ids.lab1 = await template('Titration lab', chem, 'lab-1');
  ids.lab2 = await template('Spectroscopy lab', chem, 'lab-2');
  ids.lab3 = await template('Synthesis lab', chem, 'lab-3');
  ids.poster = await template('Science poster', chem, 'poster');
  ids.finish = await template('Research assistant', chem, 'never');
  const ctx = t.laurel.ctx;
  const platformId = new Types.ObjectId(moodle.id);
  // Courses and people are known from launches.
  await launch(p, { courseId: chem, sub: p.demo!.users.instructor.sub });
  await launch(p, { courseId: chem, sub: p.demo!.users.ada.sub });
  const course = await ctx.models.courses.findOne({ ids: chem }).lean();
  const actor = { type: 'instructor' as const, id: 'iris', name: 'Iris Instructor' };
  const pathway = await createPathway(
    ctx,
    { platformId, courseRef: course!._id, admin: true },
    {
      name: 'Research assistant',
      description: 'From safe lab work and sources to independent research, across chemistry and history.',
      badgeTemplateId: ids.finish,
      steps: [
        {
          id: 'basics',
          name: 'Foundations',
          description: 'Safety first, and how to read sources.',
          templateIds: [ids.safety, ids.sources],
          atLeast: null,
          prerequisites: [],
          optional: false,
        },
        {
          id: 'labs',
          name: 'Lab practice',
          description: '',
          templateIds: [ids.lab1, ids.lab2, ids.lab3],
          atLeast: 2,
          prerequisites: ['basics'],
          optional: false,
        },
        {
          id: 'poster',
          name: 'Present your work',
          description: '',
          templateIds: [ids.poster],
          atLeast: null,
          prerequisites: ['labs'],
          optional: true,
        },
      ],
    },
    actor,
  );
  pathwayId = String(pathway._id);
  const ada = await ctx.models.people.findOne({ ids: p.demo!.users.ada.sub }).lean();
  await enrol(ctx, pathway, [ada!._id], 'subscribed', actor);
  for (const b of [ids.safety!, ids.sources!, ids.lab2!])
    await admin(t, 'POST', '/credentials', { templateId: b, userId: p.demo!.users.ada.sub, reason: 'test' });
  await ctx.jobs.idle?.();
  const enrolment = await ctx.models.pathwayEnrolments.findOne({ personId: ada!._id }).lean();
  sharedPath = `/pathways/shared/${await sharePathway(ctx, enrolment!)}`;
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await p?.close();
  await t?.stop();
});

async function check(page: import('playwright-core').Page, name: string, url: string) {
  await page.setViewportSize({ width: 375, height: 740 });
  const answer = await page.goto(url);
  expect([name, answer?.status()]).toEqual([name, 200]);
  expect([name, await page.evaluate(() => document.documentElement.scrollWidth)]).toEqual([name, 375]);
  expect([name, await seriousA11yViolations(page)]).toEqual([name, []]);
  await screenshots(page, name);
}

it('the learner’s pathway map shows done, next and locked steps at 375 px and passes axe', async () => {
  const ada = await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.ada.sub });
  const ltik = new URL(ada.url).searchParams.get('ltik')!;
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  try {
    const q = `?ltik=${encodeURIComponent(ltik)}`;
    await check(page, 'pathways-learner-list', `${t.url}/course/learner/pathways${q}`);
    await check(page, 'pathways-map', `${t.url}/course/learner/pathways/${pathwayId}${q}`);
    const steps = page.locator('.pathway-step');
    expect(await steps.count()).toBe(3);
    expect(await steps.nth(0).locator('.step-state').innerText()).toContain('Done');
    expect(await steps.nth(1).locator('.step-state').innerText()).toBe('Next');
    expect(await steps.nth(2).locator('.step-state').innerText()).toContain('Locked');
    expect(await steps.nth(1).locator('progress').getAttribute('value')).toBe('1');
    expect(await steps.nth(1).locator('progress').getAttribute('max')).toBe('2');
    // Badge pictures load (every one of the six in the map).
    const loaded = await page.$$eval('.step-badge img', (imgs) =>
      imgs.map((i) => (i as HTMLImageElement).naturalWidth > 0),
    );
    expect(loaded).toEqual([true, true, true, true, true, true]);
    // On a phone the steps run top to bottom; on a wide screen left to right.
    const [a, b] = await steps.evaluateAll((els) => els.slice(0, 2).map((e) => e.getBoundingClientRect()));
    expect(b!.top).toBeGreaterThan(a!.bottom);
    await page.setViewportSize({ width: 1280, height: 900 });
    const [c, d] = await steps.evaluateAll((els) => els.slice(0, 2).map((e) => e.getBoundingClientRect()));
    expect(d!.left).toBeGreaterThan(c!.right);
    expect(Math.round(d!.top)).toBe(Math.round(c!.top));
  } finally {
    await context.close();
  }
}, 120_000);

it('a learner follows a pathway by keyboard', async () => {
  const grace = await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.grace.sub });
  const ltik = new URL(grace.url).searchParams.get('ltik')!;
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  try {
    await page.goto(`${t.url}/course/learner/pathways/${pathwayId}?ltik=${encodeURIComponent(ltik)}`);
    await page.getByRole('button', { name: 'Follow this pathway' }).focus();
    await page.keyboard.press('Enter');
    await page
      .getByText('0 of 1 required steps done')
      .or(page.getByText('0 of 2 required steps done'))
      .waitFor();
    expect(await page.getByRole('button', { name: 'Make a share link' }).isVisible()).toBe(true);
  } finally {
    await context.close();
  }
}, 60_000);

it('the instructor’s pathway pages and the shared page fit 375 px and pass axe', async () => {
  const iris = await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.instructor.sub });
  const q = `?ltik=${encodeURIComponent(new URL(iris.url).searchParams.get('ltik')!)}`;
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  try {
    await check(page, 'pathways-staff-list', `${t.url}/course/instructor/pathways${q}`);
    await check(page, 'pathways-form', `${t.url}/course/instructor/pathways/${pathwayId}${q}`);
    await check(page, 'pathways-shared', `${t.url}${sharedPath}`);
    expect(await page.getByText('The progress of Ada Lovelace on this pathway.').isVisible()).toBe(true);
  } finally {
    await context.close();
  }
}, 120_000);
