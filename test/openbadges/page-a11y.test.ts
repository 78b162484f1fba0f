import type { Browser } from 'playwright-core';
import { launchBrowser, screenshot, seriousA11yViolations } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import { admin, registerTestPlatform } from '../support/api.js';
import { earnIssued, gradeTemplate, startPublicLaurel } from './support.js';

/** The public verification page in a real browser: 375 px wide, axe-core, keyboard only. */
describe('the credential page in a browser', () => {
  let t: TestLaurel;
  let browser: Browser;
  let valid: string;
  let revoked: string;

  beforeAll(async () => {
    t = await startPublicLaurel();
    const platform = await registerTestPlatform(t);
    const templateId = await gradeTemplate(t, platform, {
      name: 'Spectroscopy with a rather long badge name that has to wrap on a phone',
    });
    valid = await earnIssued(t, platform, templateId, {
      id: '57',
      email: 'ada@example.edu',
      name: 'Ada Lovelace',
    });
    revoked = await earnIssued(t, platform, templateId, {
      id: '58',
      email: 'alan@example.edu',
      name: 'Alan Turing',
    });
    await admin(t, 'POST', `/credentials/${revoked}/revoke`, { reason: 'Issued by mistake' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it.each([
    ['valid', () => valid],
    ['revoked', () => revoked],
  ])('has no serious accessibility violation and no horizontal scroll at 375 px (%s)', async (name, id) => {
    // The page's CSP would refuse axe's injected script; the test context lifts it.
    const page = await browser.newPage({ viewport: { width: 375, height: 800 }, bypassCSP: true });
    await page.goto(`${t.url}/credentials/${id()}`);
    expect(await seriousA11yViolations(page)).toEqual([]);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, `credential-${name}-375`);
    await page.close();
  });

  it('is usable with the keyboard: skip link first, then every download link in turn', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
    await page.goto(`${t.url}/credentials/${valid}`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const reached: string[] = [];
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press('Tab');
      reached.push((await page.evaluate(() => document.activeElement?.textContent ?? '')).trim());
    }
    expect(reached).toEqual(
      expect.arrayContaining([
        'issuer profile',
        'Badge image with credential (PNG)',
        'Badge image with credential (SVG)',
        'Signed credential (JSON)',
      ]),
    );
    await page.close();
  });
});
