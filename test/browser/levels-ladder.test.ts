import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import { admin, event, sendEvents, settled } from '../support/api.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { frameA11yViolations, newContextWithId, screenshots } from './helpers.js';

/**
 * Issue 22: a learner's ladder of levels in a real browser, inside the LMS's frame: accessible, said
 * in words, and readable at 375 px without sideways scrolling.
 */
describe('the ladder of levels on the learner page, in a browser', () => {
  let t: TestLaurel;
  let canvas: RegisteredPlatform;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    t = await startLaurelForLti();
    [canvas, browser] = await Promise.all([startRegisteredPlatform(t, 'canvas'), launchBrowser()]);
    context = await newContextWithId(browser);
    const demo = canvas.platform.demo!;
    const created = await admin(t, 'POST', '/templates', {
      platformId: canvas.id,
      courseId: demo.courses.chemistry.id,
      name: 'Exam medal',
      levels: {
        activityId: 'final-exam',
        steps: [
          { name: 'Bronze', min: 60 },
          { name: 'Silver', min: 75 },
          { name: 'Gold', min: 90 },
        ],
      },
      regrade: { policy: 'fallback' },
    });
    expect(created.status).toBe(201);
    expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    const sent = await sendEvents(
      t,
      canvas.webhookSecret,
      event(canvas.id, {
        course: { id: demo.courses.chemistry.id },
        user: { id: demo.users.ada.lmsUserId, email: demo.users.ada.email, name: demo.users.ada.name },
        data: { activityId: 'final-exam', activityName: 'Final exam', percent: 78 },
      }),
    );
    expect(sent.status).toBe(200);
    await settled(t);
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await canvas?.platform.close();
    await t?.stop();
  });

  async function launchAsAda(page: Page): Promise<Frame> {
    await page.goto(`${canvas.platform.url}/`);
    await page
      .locator('section.course', { has: page.getByRole('heading', { name: 'Chemistry 101' }) })
      .locator('form', { hasText: 'Ada' })
      .getByRole('button', { name: 'Launch as learner', exact: true })
      .click();
    const frame = page.frame({ name: 'tool' })!;
    await frame.waitForURL(/\/course\/learner/, { timeout: 20000 });
    await frame.waitForLoadState();
    return frame;
  }

  it('shows silver as hers, gold next, in words, accessibly, and fits 375 px', async () => {
    const page = await context.newPage();
    const frame = await launchAsAda(page);
    const ladder = frame.getByRole('region', { name: 'Levels of Exam medal' });
    await ladder.waitFor();
    const rungs = await ladder.locator('li').allInnerTexts();
    expect(rungs.map((r) => r.replace(/\s+/g, ' ').trim())).toEqual([
      'Gold 90% next to reach',
      'Silver 75% your level',
      'Bronze 60% reached',
    ]);
    expect(await ladder.locator('li[aria-current="true"]').innerText()).toContain('Silver');
    expect(await frame.locator('li.badge-card', { has: ladder }).locator('.earned-line').innerText()).toMatch(
      /^Earned Silver on \d{4}-\d{2}-\d{2}\./,
    );
    expect(await frameA11yViolations(frame)).toEqual([]);

    await page.setViewportSize({ width: 375, height: 740 });
    const overflow = await frame.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshots(page, 'learner-ladder', page.locator('iframe[name="tool"]'));
    await page.close();
  }, 120_000);
});
