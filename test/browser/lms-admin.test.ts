import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import { sendEvents, event } from '../support/api.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { frameA11yViolations, grantStorageAccess, newContextWithId, screenshots } from './helpers.js';

/**
 * The LMS administrator's page in a real browser, inside the frame of the Canvas-shaped test LMS:
 * a new webhook secret made by keyboard and shown once, which then signs events; no serious
 * accessibility problem; nothing wider than a 375-pixel phone.
 */
describe.each(['canvas', 'moodle'] as const)("the LMS administrator's page in the %s frame", (flavour) => {
  let t: TestLaurel;
  let lms: RegisteredPlatform;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    t = await startLaurelForLti();
    [lms, browser] = await Promise.all([startRegisteredPlatform(t, flavour), launchBrowser()]);
    lms.platform.addUser({ name: 'Alan Admin', admin: true });
    context = await newContextWithId(browser);
    if (flavour === 'moodle') await grantStorageAccess(browser, context, lms.platform.url, t.url);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await lms?.platform.close();
    await t?.stop();
  });

  async function launchAsAdmin(page: Page): Promise<Frame> {
    await page.goto(`${lms.platform.url}/`);
    await page
      .locator('section.course', { has: page.getByRole('heading', { name: 'Chemistry 101' }) })
      .locator('form', { hasText: 'Alan Admin' })
      .getByRole('button', { name: 'Launch as administrator', exact: true })
      .click();
    const frame = page.frame({ name: 'tool' })!;
    await frame.waitForURL(/\/course\/admin/, { timeout: 20000 });
    await frame.waitForLoadState();
    return frame;
  }

  for (const width of [1280, 375])
    it(`rotates the webhook secret by keyboard and fits ${width} pixels`, async () => {
      const page = await context.newPage();
      try {
        await page.setViewportSize({ width, height: 900 });
        const frame = await launchAsAdmin(page);
        await frame.getByRole('heading', { name: `Laurel for ${lms.platform.name}` }).waitFor();
        expect(await frameA11yViolations(frame)).toEqual([]);
        const scroll = await frame.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        const wide = await frame.evaluate(() =>
          [...document.querySelectorAll('main *')]
            .filter(
              (e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-scroll'),
            )
            .slice(-3)
            .map((e) => `${e.tagName}.${e.className}: ${(e.textContent ?? '').slice(0, 60)}`),
        );
        expect({ scroll, wide }).toEqual({ scroll: expect.any(Number), wide: [] });
        expect(scroll).toBeLessThanOrEqual(0);
        const name = `lms-admin-${flavour}-${width === 375 ? '375' : 'desktop'}`;
        await screenshots(page, name, page.locator('iframe[name="tool"]'));

        const button = frame.getByRole('button', { name: 'Make a new webhook secret' });
        await button.focus();
        await page.keyboard.press('Enter');
        await frame.getByRole('heading', { name: /New webhook secret/ }).waitFor();
        const secret = await frame.getByLabel('Webhook secret').inputValue();
        expect(secret).toMatch(/^[0-9a-f]{64}$/);
        expect(secret).not.toBe(lms.webhookSecret);
        expect(await frameA11yViolations(frame)).toEqual([]);
        await screenshots(page, `${name}-secret`, page.locator('iframe[name="tool"]'));
        expect((await sendEvents(t, secret, event(lms.id))).status).toBe(200);
        lms.webhookSecret = secret;
      } finally {
        await page.close();
      }
    }, 90_000);
});
