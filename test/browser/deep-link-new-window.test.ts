import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { newContextWithId, screenshots } from './helpers.js';

/**
 * Deep linking ("Select content" in Moodle's activity form) when the browser keeps Laurel's cookies
 * out of the LMS's frame: Laurel continues in a new window, and the signed answer made there still
 * reaches the LMS's form around the frame, as Moodle's contentitem_return.php expects.
 */
describe('deep linking that continued in a new window', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    t = await startLaurelForLti();
    [moodle, browser] = await Promise.all([startRegisteredPlatform(t, 'moodle'), launchBrowser()]);
    context = await newContextWithId(browser);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await moodle?.platform.close();
    await t?.stop();
  });

  const addButton = (page: Page) =>
    page
      .locator('section.course', { has: page.getByRole('heading', { name: 'Chemistry 101' }) })
      .getByRole('button', { name: 'Add Laurel to the course', exact: true });

  it("hands the answer back to the LMS's frame, which delivers it to the LMS's form", async () => {
    const page = await context.newPage();
    await page.goto(`${moodle.platform.url}/`);
    await addButton(page).click();
    const frame = page.frame({ name: 'tool' })!;
    await frame.getByRole('heading', { name: 'Allow Laurel to open here' }).waitFor();
    const popupOpened = context.waitForEvent('page');
    await frame.getByRole('button', { name: 'Open in a new window' }).click();
    const popup = await popupOpened;
    await popup.waitForURL(/\/course\/deep-link\?ltik=/);
    const closed = popup.waitForEvent('close', { timeout: 15_000 });
    await popup.getByRole('button', { name: 'Add Badges to this course' }).click();

    // The LMS's page around the frame got the item, as Moodle's form gets it.
    await page
      .locator('#content-item-result')
      .filter({ hasText: 'Selected: Badges' })
      .waitFor({ timeout: 15_000 });
    await closed;
    await screenshots(page, 'deep-link-new-window-returned');
    const created = moodle.platform.deepLinkResponses.at(-1)!;
    expect(created.created.map((c) => c.title)).toEqual(['Badges']);
    expect(await page.frame({ name: 'tool' })!.locator('#moodle-error').isHidden()).toBe(true);
  }, 90_000);
});
