import { Types } from 'mongoose';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { admin, event, sendEvents, settled } from '../support/api.js';
import { launchBrowser } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { frameA11yViolations, newContextWithId, screenshots } from './helpers.js';

/**
 * Issue 22 in a real browser inside the Canvas-like LMS's frame: the builder's "Tagged" field and
 * "Before the course ends" (saying that Laurel knows no end date, then which date it goes by), and the
 * learner's "2 of 3 labs" beside a count, accessible and at 375 pixels.
 */
describe('counts by tag and the course end, in the canvas frame', () => {
  let t: TestLaurel;
  let lms: RegisteredPlatform;
  let browser: Browser;
  let context: BrowserContext;

  const demo = () => lms.platform.demo!;

  beforeAll(async () => {
    t = await startLaurelForLti();
    [lms, browser] = await Promise.all([startRegisteredPlatform(t, 'canvas'), launchBrowser()]);
    context = await newContextWithId(browser);
    // Canvas's assignment groups tag its assignments: three in "Lab", one elsewhere.
    await t.laurel.ctx.models.lmsActivities.create(
      [
        ['lab-1', 'Titration', 'Lab'],
        ['lab-2', 'Distillation', 'Lab'],
        ['lab-3', 'Chromatography', 'Lab'],
        ['essay-1', 'Essay', 'Writing'],
      ].map(([activityId, name, tag]) => ({
        activityId,
        name,
        kind: 'online_upload',
        tags: [tag],
        platformId: new Types.ObjectId(lms.id),
        courseId: demo().courses.chemistry.id,
        source: 'canvas' as const,
      })),
    );
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await lms?.platform.close();
    await t?.stop();
  });

  async function launchAs(page: Page, who: string, role: 'instructor' | 'learner'): Promise<Frame> {
    await page.goto(`${lms.platform.url}/`);
    await page
      .locator('section.course', { has: page.getByRole('heading', { name: 'Chemistry 101' }) })
      .locator('form', { hasText: who })
      .getByRole('button', { name: `Launch as ${role}`, exact: true })
      .click();
    const frame = page.frame({ name: 'tool' })!;
    await frame.waitForURL(new RegExp(`/course/${role}`), { timeout: 20000 });
    await frame.waitForLoadState();
    return frame;
  }

  it('offers "Tagged" and "Before the course ends", says when no end date is known, and summarises them', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    const frame = await launchAs(page, 'Iris Instructor', 'instructor');
    await frame.getByRole('link', { name: 'Create a badge' }).click();
    await frame.waitForURL(/badges\/new/);
    await frame.getByLabel('Name', { exact: true }).fill('Lab regular');
    await frame.locator('#g0r0-kind').selectOption('activities-grade');
    // The course's tags are offered as one types.
    expect(
      await frame
        .locator('#known-tags option')
        .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
    ).toEqual(['Lab', 'Writing']);
    await frame.getByLabel('Tagged').fill('Lab');
    await frame.getByLabel('How many of them').fill('2');
    await frame.locator('#g0r0-threshold').fill('70');
    await frame.locator('.condition details.for-time > summary').first().click();
    const hint = frame.locator('#g0r0-before-end-hint');
    expect(await hint.innerText()).toContain(
      'Laurel knows no end date for this course yet, so this limits nothing',
    );
    await frame.getByLabel('Before the course ends').check();
    await frame.waitForFunction(
      () =>
        document.getElementById('rule-summary')?.textContent ===
        'Earned when: 2 activities tagged “Lab”, each ≥ 70%, before the course ends',
    );
    expect({ violations: await frameA11yViolations(frame) }).toEqual({ violations: [] });
    await frame.evaluate(() =>
      document.getElementById('g0r0-before-end')?.scrollIntoView({ block: 'center' }),
    );
    await screenshots(page, 'builder-tag-course-end-1-no-date', page.locator('iframe[name="tool"]'));
    await frame.getByRole('button', { name: 'Create the badge' }).click();
    await frame.waitForURL(/saved=1/);
    const stored = await t.laurel.ctx.models.templates.findOne({ name: 'Lab regular' }).lean();
    expect(stored!.groups[0]!.requirements[0]).toMatchObject({
      activities: { tag: 'Lab', atLeast: 2 },
      window: { beforeCourseEnd: true },
    });

    // The instructor sets the end date in the course settings; the builder and its summary name it.
    await frame.getByRole('link', { name: 'Badges' }).first().click();
    await frame.getByRole('link', { name: 'Course settings (end date)' }).click();
    await frame.getByLabel('Last day of the course (UTC)').fill('2027-06-12');
    await frame.getByRole('button', { name: 'Save' }).click();
    await frame.waitForURL(/saved=1/);
    expect(await frame.locator('main, body').first().innerText()).toContain(
      'the course ends on 12 June 2027 (set here)',
    );
    expect(await frameA11yViolations(frame)).toEqual([]);
    await screenshots(page, 'course-settings-end-date', page.locator('iframe[name="tool"]'));
    await frame.getByRole('link', { name: 'Badges' }).first().click();
    await frame.getByRole('link', { name: 'Lab regular', exact: true }).click();
    await frame.locator('#g0r0-before-end').waitFor({ state: 'attached' });
    expect(await frame.locator('#g0r0-before-end-hint').innerText()).toContain(
      'The course ends on 12 June 2027 (set in Laurel).',
    );
    expect(await frame.locator('#rule-summary').innerText()).toBe(
      'Earned when: 2 activities tagged “Lab”, each ≥ 70%, before the course ends on 12 June 2027',
    );
    await page.setViewportSize({ width: 375, height: 800 });
    const wide = await frame.evaluate(() =>
      [...document.querySelectorAll('.builder .condition *')]
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((e) => `${e.tagName}#${e.id}`),
    );
    expect(wide).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 900 });
    await frame.evaluate(() =>
      document.getElementById('g0r0-before-end')?.scrollIntoView({ block: 'center' }),
    );
    await screenshots(page, 'builder-tag-course-end-2-with-date', page.locator('iframe[name="tool"]'));
    await page.close();
  }, 120_000);

  it('words a learner’s count as "2 of 3 labs" with its bar', async () => {
    const created = await admin(t, 'POST', '/templates', {
      platformId: lms.id,
      courseId: demo().courses.chemistry.id,
      name: 'Three labs',
      groups: [
        {
          requirements: [
            {
              event: 'activity.grade.updated',
              rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
              activities: { tag: 'lab', atLeast: 3 },
            },
          ],
        },
      ],
    });
    expect(created.status).toBe(201);
    expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    const ada = demo().users.ada;
    const grade = (activityId: string, percent: number) =>
      event(lms.id, {
        course: { id: demo().courses.chemistry.id },
        user: { id: ada.lmsUserId, email: ada.email, name: ada.name },
        data: { activityId, percent },
      });
    const sent = await sendEvents(t, lms.webhookSecret, {
      events: [grade('lab-1', 90), grade('lab-2', 75), grade('lab-3', 40), grade('essay-1', 99)],
    });
    expect(sent.status).toBe(200);
    await settled(t);

    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    const frame = await launchAs(page, 'Ada', 'learner');
    const card = frame.locator('li.badge-card', { hasText: 'Three labs' });
    await card.waitFor();
    expect(await card.locator('.count').innerText()).toBe('2 of 3 labs (3 in this course)');
    const bar = card.locator('progress.count-bar');
    expect(await bar.getAttribute('aria-label')).toBe('2 of 3 labs done');
    expect([await bar.getAttribute('value'), await bar.getAttribute('max')]).toEqual(['2', '3']);
    expect(await card.locator('.rule').innerText()).toBe(
      'Earn this badge by: scoring 70% or more on any 3 activities tagged “lab”',
    );
    expect(await frameA11yViolations(frame)).toEqual([]);
    await card.scrollIntoViewIfNeeded();
    await screenshots(page, 'learner-count-2-of-3-labs', page.locator('iframe[name="tool"]'));
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await frame.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    // The phone picture again, scrolled to the count (the helper's shows the top of the page).
    await frame.evaluate(() => document.querySelector('.count')?.scrollIntoView({ block: 'center' }));
    await page
      .locator('iframe[name="tool"]')
      .screenshot({ path: 'test/artifacts/learner-count-2-of-3-labs-375.png' });
    await page.close();
  }, 120_000);
});
