/**
 * Issue 24, part 3 in a real browser at 375 px: the learner record's pages (My record's links, the
 * choice of badges, the public record) fit a phone, pass axe, and work by keyboard; screenshots
 * under test/artifacts/.
 */
import type { Browser } from 'playwright-core';
import { launchBrowser, seriousA11yViolations } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import type { TestPlatform } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { activeTemplate, awardIssued, backpackLinkOf } from '../backpack/helpers.js';
import { screenshots } from './helpers.js';

let t: TestLaurel;
let moodle: RegisteredPlatform;
let p: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  t = await startLaurelForLti();
  moodle = await startRegisteredPlatform(t, 'moodle');
  p = moodle.platform;
  const sub = p.demo!.users.ada.sub;
  await backpackLinkOf(p, sub);
  await awardIssued(t, await activeTemplate(t, moodle, 'Laboratory safety and good practice'), sub);
  await awardIssued(t, await activeTemplate(t, moodle, 'Quiz champion'), sub);
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await p?.close();
  await t?.stop();
});

it('chooses, shares and shows the learner record at 375 px, by keyboard, passing axe', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  const fits = async (name: string) => {
    expect([name, await page.evaluate(() => document.documentElement.scrollWidth)]).toEqual([name, 375]);
    expect([name, await seriousA11yViolations(page)]).toEqual([name, []]);
    await screenshots(page, name);
  };
  try {
    await page.goto(`${t.url}${await backpackLinkOf(p, p.demo!.users.ada.sub)}`);
    await page.getByRole('heading', { name: 'My record' }).waitFor();
    const download = page.getByRole('link', { name: 'Download my learner record (CLR)' });
    expect(await download.getAttribute('href')).toBe(`/backpack/record/clr.json?platform=${moodle.id}`);
    await fits('learner-record-my-record');

    await page.getByRole('link', { name: 'Choose what my public record shows' }).click();
    await page.getByRole('heading', { name: 'Share my learner record' }).waitFor();
    await fits('learner-record-choose');
    // Tick one badge and save, by keyboard only.
    await page.getByLabel('Quiz champion').focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Save my choice' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Saved: the public record shows the badges you ticked.').waitFor();
    expect(await page.getByLabel('Quiz champion').isChecked()).toBe(true);
    expect(await page.getByLabel('Laboratory safety and good practice').isChecked()).toBe(false);
    await page.getByRole('button', { name: 'Create a share link' }).focus();
    await page.keyboard.press('Enter');
    const shareUrl = await page.getByLabel('Link to my public learner record').inputValue();

    const visitor = await browser.newContext({ viewport: { width: 375, height: 740 } });
    const publicPage = await visitor.newPage();
    try {
      expect((await publicPage.goto(shareUrl))?.status()).toBe(200);
      await publicPage.getByRole('heading', { name: 'Learner record' }).waitFor();
      expect(await publicPage.getByRole('link', { name: 'Quiz champion' }).count()).toBe(1);
      expect(await publicPage.getByText('Laboratory safety and good practice').count()).toBe(0);
      expect(await publicPage.evaluate(() => document.documentElement.scrollWidth)).toBe(375);
      expect(await seriousA11yViolations(publicPage)).toEqual([]);
      await screenshots(publicPage, 'learner-record-public');
    } finally {
      await visitor.close();
    }
  } finally {
    await context.close();
  }
}, 180_000);
