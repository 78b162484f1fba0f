import { Types } from 'mongoose';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { frameA11yViolations, newContextWithId, screenshots } from './helpers.js';

/**
 * The builder's count of activities and time limits in a real browser, inside the Canvas-like LMS's
 * frame: the fields a count needs appear for it (and the activity field goes), the kinds of the
 * course's activities are offered in a person's words, the time limits unfold, the summary follows,
 * and the page stays accessible, also at 375 pixels.
 */
describe('the builder’s counts and time limits in the canvas frame', () => {
  let t: TestLaurel;
  let lms: RegisteredPlatform;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    t = await startLaurelForLti();
    [lms, browser] = await Promise.all([startRegisteredPlatform(t, 'canvas'), launchBrowser()]);
    context = await newContextWithId(browser);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await lms?.platform.close();
    await t?.stop();
  });

  async function launchInstructor(page: Page): Promise<Frame> {
    await page.goto(`${lms.platform.url}/`);
    await page
      .locator('section.course', { has: page.getByRole('heading', { name: 'Chemistry 101' }) })
      .locator('form', { hasText: 'Iris Instructor' })
      .getByRole('button', { name: 'Launch as instructor', exact: true })
      .click();
    const frame = page.frame({ name: 'tool' })!;
    await frame.waitForURL(/\/course\/instructor/, { timeout: 20000 });
    await frame.waitForLoadState();
    return frame;
  }

  it('shows the fields of a count and of time limits, and summarises them', async () => {
    const demo = lms.platform.demo!;
    await t.laurel.ctx.models.lmsActivities.create(
      ['Lab 1', 'Lab 2', 'Lab 3'].map((name, i) => ({
        activityId: `lab-${i + 1}`,
        name,
        kind: 'assignment',
        platformId: new Types.ObjectId(lms.id),
        courseId: demo.courses.chemistry.id,
        source: 'canvas' as const,
      })),
    );
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    const frame = await launchInstructor(page);
    await frame.getByRole('link', { name: 'Create a badge' }).click();
    await frame.waitForURL(/badges\/new/);
    await frame.getByLabel('Name', { exact: true }).fill('Lab regular');

    await frame.locator('#g0r0-kind').selectOption('activities-grade');
    expect(await frame.locator('#g0r0-pattern').isVisible()).toBe(true);
    expect(await frame.locator('#g0r0-activity').isVisible()).toBe(false);
    // The course's kinds, in a person's words, with their LMS value.
    expect(
      await frame
        .locator('#g0r0-pattern-kind option')
        .evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent])),
    ).toEqual([
      ['', 'any kind'],
      ['assignment', 'Assignment'],
    ]);
    await frame.getByLabel('Activities titled like').fill('lab');
    await frame.getByLabel('Kind of activity').selectOption('assignment');
    await frame.getByLabel('How many of them').fill('2');
    await frame.locator('#g0r0-threshold').fill('70');

    // The time limits are folded until opened, from the keyboard too.
    expect(await frame.locator('#g0r0-days').isVisible()).toBe(false);
    await frame.locator('.condition details.for-time > summary').first().focus();
    await page.keyboard.press('Enter');
    await frame.getByLabel('Within this many days of enrolling').fill('30');
    await frame.getByLabel('Until the end of').fill('2027-06-30');
    await frame.waitForFunction(
      () =>
        document.getElementById('rule-summary')?.textContent ===
        'Earned when: 2 activities of kind “assignment” whose name contains “lab”, each ≥ 70%, by the end of 30 Jun 2027, within 30 days of enrolment',
    );
    expect({ violations: await frameA11yViolations(frame) }).toEqual({ violations: [] });
    await screenshots(page, 'builder-counts-1-form', page.locator('iframe[name="tool"]'));

    await page.setViewportSize({ width: 375, height: 800 });
    // No field of a condition is wider than the phone (the picture field above is another matter).
    const wide = await frame.evaluate(() =>
      [...document.querySelectorAll('.builder .condition *')]
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((e) => `${e.tagName}#${e.id}`),
    );
    expect(wide).toEqual([]);
    await screenshots(page, 'builder-counts-2-phone', page.locator('iframe[name="tool"]'));

    await page.setViewportSize({ width: 1280, height: 900 });
    await frame.getByRole('button', { name: 'Create the badge' }).click();
    await frame.waitForURL(/saved=1/);
    const stored = await t.laurel.ctx.models.templates.findOne({ name: 'Lab regular' }).lean();
    expect(stored!.groups[0]!.requirements[0]).toMatchObject({
      activities: { name: 'lab', kind: 'assignment', atLeast: 2 },
      window: { until: '2027-07-01T00:00:00Z', daysAfterEnrolment: 30 },
    });
    // Saved time limits show unfolded.
    expect(await frame.locator('#g0r0-days').inputValue()).toBe('30');
    expect(await frame.locator('#g0r0-days').isVisible()).toBe(true);
  });
});
