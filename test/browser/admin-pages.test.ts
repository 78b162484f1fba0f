/** The admin pages in a real browser: keyboard sign-in, a link created, no serious accessibility problem, phone width. */
import type { Browser } from 'playwright-core';
import { launchBrowser, seriousA11yViolations } from '../support/browser.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { screenshots } from './helpers.js';

let t: TestLaurel;
let browser: Browser;
beforeAll(async () => {
  t = await startTestLaurel();
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

it('signs in with the key by keyboard, creates a registration link, and fits a phone', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  try {
    await page.goto(`${t.url}/admin`);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel('Administrator key').fill(t.laurel.config.adminApiKey);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Register an LMS' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel('Name of the school or LMS').fill('Example State University');
    await page.getByLabel('LMS', { exact: true }).selectOption('canvas');
    await page.getByRole('button', { name: 'Create registration link' }).click();
    await page.getByRole('heading', { name: 'Registration link created' }).waitFor();
    const url = await page.getByLabel('Registration link for Example State University').inputValue();
    expect(url).toContain('/lti/register?code=');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.goto(`${t.url}/admin`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(375);
    await screenshots(page, 'admin-dashboard');
  } finally {
    await context.close();
  }
}, 60_000);
