import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { eventPanelRouter } from '../support/demo-panel.js';
import type { TestLaurel } from '../support/laurel.js';
import { settled } from '../support/api.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { frameA11yViolations, newContextWithId, screenshots } from './helpers.js';

/**
 * The main flow of the in-course pages, in a real browser, with Laurel inside the frame of a page
 * that plays the LMS (another site, so the browser keeps Laurel's cookies out): the instructor
 * creates a badge with a two-group rule and activates it, grades come from the LMS panel, and the
 * learner watches the progress bar move and then sees the earned badge.
 */
describe('badges in the LMS frame, in a browser', () => {
  let t: TestLaurel;
  let canvas: RegisteredPlatform;
  let browser: Browser;
  let context: BrowserContext;
  let panel: http.Server;
  let panelUrl: string;

  beforeAll(async () => {
    t = await startLaurelForLti();
    [canvas, browser] = await Promise.all([startRegisteredPlatform(t, 'canvas'), launchBrowser()]);
    const demo = canvas.platform.demo!;
    const app = express();
    app.use(
      eventPanelRouter({
        laurelUrl: t.url,
        platformId: () => canvas.id,
        webhookSecret: () => canvas.webhookSecret,
        courses: () => [{ id: demo.courses.chemistry.id, title: demo.courses.chemistry.title }],
        learners: () => [
          { id: demo.users.ada.lmsUserId, name: demo.users.ada.name, email: demo.users.ada.email },
        ],
      }),
    );
    panel = app.listen(0, '127.0.0.1');
    await new Promise((r) => panel.once('listening', r));
    panelUrl = `http://127.0.0.1:${(panel.address() as AddressInfo).port}/lms-panel`;
    context = await newContextWithId(browser);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await new Promise((r) => panel?.close(r));
    await canvas?.platform.close();
    await t?.stop();
  });

  const frameOf = (page: Page): Frame => page.frame({ name: 'tool' })!;
  async function launchAs(page: Page, person: string, label: string): Promise<Frame> {
    await page.goto(`${canvas.platform.url}/`);
    await page
      .locator('section.course', { has: page.getByRole('heading', { name: 'Chemistry 101' }) })
      .locator('form', { hasText: person })
      .getByRole('button', { name: label, exact: true })
      .click();
    const frame = frameOf(page);
    await frame.waitForURL(/\/course\/(instructor|learner)/, { timeout: 20000 });
    await frame.waitForLoadState();
    return frame;
  }
  async function check(page: Page, frame: Frame, name: string) {
    expect({ name, violations: await frameA11yViolations(frame) }).toEqual({ name, violations: [] });
    await screenshots(page, name, page.locator('iframe[name="tool"]'));
  }
  async function sendFromPanel(
    page: Page,
    legend: string,
    fill: (form: ReturnType<Page['locator']>) => Promise<void>,
  ) {
    await page.goto(panelUrl);
    const form = page.locator('form', { has: page.locator('legend', { hasText: legend }) });
    await fill(form);
    await form.getByRole('button').click();
    await page.waitForLoadState();
    expect(await page.locator('#result-title').innerText()).toBe('Sent to Laurel: answer 200');
    await settled(t);
  }

  it('walks from an empty course to an earned badge', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });

    // Instructor: an empty course, then a badge with two groups.
    let frame = await launchAs(page, 'Iris Instructor', 'Launch as instructor');
    expect(await frame.locator('main').innerText()).toContain('No badges yet');
    await check(page, frame, 'walk-1-instructor-empty');
    await frame.getByRole('link', { name: 'Create a badge' }).click();
    await frame.waitForURL(/badges\/new/);
    await check(page, frame, 'walk-2-badge-form');
    await frame.getByLabel('Name', { exact: true }).fill('Lab star');
    await frame.getByLabel('Description').fill('Top marks on the quiz, and the course finished.');
    await frame.locator('#g0r0-kind').selectOption('activity-grade');
    await frame.locator('#g0r0-activity').fill('quiz-3');
    await frame.locator('#g0r0-threshold').fill('80');
    // Groups and conditions are added as needed (in the page, with JavaScript).
    await frame.getByRole('button', { name: 'Add a group (all of these)' }).click();
    await frame.locator('#g1r0-kind').selectOption('course-completed');
    await frame.getByRole('button', { name: 'Add an alternative to group 2' }).click();
    await frame.locator('#g1r1-kind').selectOption('activity-grade');
    await frame.locator('#g1r1-activity').fill('final-exam');
    await frame.locator('#g1r1-threshold').fill('70');
    // With JavaScript the summary follows the form before it is saved.
    await frame.waitForFunction(() =>
      document.getElementById('rule-summary')?.textContent?.includes('final-exam” ≥ 70'),
    );
    expect(await frame.locator('#rule-summary').innerText()).toBe(
      'Earned when: activity “quiz-3” ≥ 80% AND (course completed OR activity “final-exam” ≥ 70%)',
    );
    await frame.getByRole('button', { name: 'Create the badge' }).click();
    // No grade has named these activities yet: Laurel asks before saving conditions on them.
    await frame.locator('#unknown-activities').waitFor();
    await frame.getByLabel('Yes, “quiz-3” is right: save it anyway').check();
    await frame.getByLabel('Yes, “final-exam” is right: save it anyway').check();
    await frame.getByRole('button', { name: 'Create the badge' }).click();
    await frame.waitForURL(/saved=1/);
    expect(await frame.locator('[role=status]').first().innerText()).toBe('Saved.');
    await check(page, frame, 'walk-3-badge-saved');
    await frame.getByRole('link', { name: 'Activate…' }).click();
    await frame.waitForURL(/action=activate/);
    await check(page, frame, 'walk-4-confirm-activate');
    await frame.getByRole('button', { name: 'Activate “Lab star”' }).click();
    await frame.waitForURL(/\/course\/instructor\?/);
    expect(await frame.locator('main').innerText()).toMatch(/Lab star[\s\S]*Active/);
    await check(page, frame, 'walk-5-instructor-list');

    // Learner: nothing yet.
    frame = await launchAs(page, 'Ada Lovelace', 'Launch as learner');
    const progress = () => frame.locator('progress').first().getAttribute('value');
    expect(await progress()).toBe('0');
    await check(page, frame, 'walk-6-learner-start');

    // The LMS sends a grade: one group of two is met.
    const learnerUrl = frame.url();
    await sendFromPanel(page, 'Set a grade on an activity', async (form) => {
      await form.getByLabel('Activity').selectOption('quiz-3');
      await form.getByLabel('Score').fill('17');
      await form.getByLabel('Out of').fill('20');
    });
    frame = await launchAs(page, 'Ada Lovelace', 'Launch as learner');
    expect(await progress()).toBe('50');
    await check(page, frame, 'walk-7-learner-halfway');
    expect(learnerUrl).toContain('/course/learner');

    // The course is completed: the badge is earned, shown first, with its public page.
    await sendFromPanel(page, 'Complete the course', async () => {});
    frame = await launchAs(page, 'Ada Lovelace', 'Launch as learner');
    const main = await frame.locator('main').innerText();
    expect(main).toContain('Earned on');
    expect(await progress()).toBe('100');
    const link = frame.getByRole('link', { name: /View and share your badge/ });
    expect(await link.getAttribute('href')).toMatch(/\/credentials\/[0-9a-f]{24}$/);
    await check(page, frame, 'walk-8-learner-earned');

    // The instructor's progress table shows her at 100%.
    frame = await launchAs(page, 'Iris Instructor', 'Launch as instructor');
    await frame
      .getByRole('link', { name: /Learners’ progress/ })
      .first()
      .click();
    await frame.waitForURL(/\/progress/);
    expect(await frame.locator('progress[aria-label="Progress of Ada Lovelace"]').getAttribute('value')).toBe(
      '100',
    );
    await check(page, frame, 'walk-9-progress-table');
    await page.close();
    // A whole walk through nine pages, each checked by axe and photographed twice: minutes under full-suite load.
  }, 180_000);
});
