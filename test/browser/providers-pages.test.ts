/**
 * The Credly and Accredible pages in a real browser at phone width: the LMS administrator's settings
 * (labels, keyboard, the service's answer shown, no horizontal scroll) and the instructor's list of
 * the services' templates.
 */
import type { Browser } from 'playwright-core';
import { launchBrowser, seriousA11yViolations } from '../support/browser.js';
import { FakeCredly } from '../support/fakes/credly.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch, ROLE } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { screenshots } from './helpers.js';

let t: TestLaurel;
let browser: Browser;
let moodle: RegisteredPlatform;
let credly: FakeCredly;
beforeAll(async () => {
  t = await startLaurelForLti();
  moodle = await startRegisteredPlatform(t, 'moodle');
  credly = new FakeCredly();
  await credly.start();
  credly.addTemplate({ name: 'Lab safety', description: 'Works safely in the chemistry lab.' });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await credly?.stop();
  await moodle?.platform.close();
  await t?.stop();
});

it('saves Credly settings by keyboard, shows Credly’s answer and the masked token, syncs, and fits a phone', async () => {
  const p = moodle.platform;
  const adminLaunch = await launch(p, {
    courseId: p.demo!.courses.chemistry.id,
    sub: p.demo!.users.grace.sub,
    roles: [`${ROLE.INSTITUTION}Administrator`, `${ROLE.SYSTEM}User`],
  });
  const ltik = new URL(adminLaunch.url).searchParams.get('ltik')!;
  const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  try {
    await page.goto(`${t.url}/course/admin/providers?ltik=${encodeURIComponent(ltik)}`);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel('Organisation id').fill(credly.organizationId);
    await page.getByLabel('Authorization token').fill(credly.token);
    await page.locator('#credly-environment').selectOption('sandbox');
    await page.locator('#credly-baseUrl').fill(credly.baseUrl);
    await page.locator('#credly-baseUrl').press('Enter');
    await page.getByText('Saved.').waitFor();
    expect(await page.content()).toContain('••••0001');
    expect(await page.content()).not.toContain(credly.token);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sync templates now' }).click();
    await page.getByText('Sync queued').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(375);
    await screenshots(page, 'providers-settings');

    // The instructor's page of the services' templates, once the sync ran.
    for (let i = 0; i < 100 && !(await t.laurel.ctx.models.templates.exists({ source: 'credly' })); i++)
      await new Promise((r) => setTimeout(r, 100));
    const staff = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    const staffLtik = new URL(staff.url).searchParams.get('ltik')!;
    await page.goto(`${t.url}/course/instructor/badges/from-service?ltik=${encodeURIComponent(staffLtik)}`);
    await page.getByRole('heading', { name: 'Lab safety' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshots(page, 'providers-service-badges');
  } finally {
    await context.close();
  }
}, 90_000);
