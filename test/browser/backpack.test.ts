/**
 * Issue 23 in a real browser at 375 px: every backpack page fits a phone (no horizontal scroll) and
 * has no serious accessibility problem; screenshots under test/artifacts/.
 */
import type { Browser } from 'playwright-core';
import { launchBrowser, seriousA11yViolations } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import type { TestPlatform } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import {
  activeTemplate,
  awardIssued,
  backpackLinkOf,
  csrfOf,
  gradeQuiz3,
  Visitor,
} from '../backpack/helpers.js';
import { screenshots } from './helpers.js';

let t: TestLaurel;
let moodle: RegisteredPlatform;
let p: TestPlatform;
let browser: Browser;
const ids: string[] = [];
let collectionPath: string;
let sharedUrl: string;

beforeAll(async () => {
  t = await startLaurelForLti();
  moodle = await startRegisteredPlatform(t, 'moodle');
  p = moodle.platform;
  const sub = p.demo!.users.ada.sub;
  await backpackLinkOf(p, sub);
  ids.push(await awardIssued(t, await activeTemplate(t, moodle, 'Laboratory safety and good practice'), sub));
  ids.push(await awardIssued(t, await activeTemplate(t, moodle, 'Quiz champion'), sub));
  await activeTemplate(t, moodle, 'Chemistry graduate', true);
  await gradeQuiz3(t, moodle, sub);
  // A shared collection of both badges, made over HTTP.
  const ada = new Visitor(t);
  await ada.get(await backpackLinkOf(p, sub));
  const token = csrfOf((await ada.get('/backpack/collections')).body);
  const created = await ada.post('/backpack/collections', {
    name: 'Applying for the lab assistant job',
    description: 'What I learned in chemistry this year.',
    csrf: token,
  });
  collectionPath = created.headers.get('location')!;
  for (const id of ids) await ada.post(`${collectionPath}/items`, { item: `c:${id}`, csrf: token });
  await ada.post(`${collectionPath}/share`, { csrf: token });
  const shared = await t.laurel.ctx.models.badgeCollections.findOne({}).lean();
  sharedUrl = `${t.url}/backpack/shared/${shared!.shareId}`;
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await p?.close();
  await t?.stop();
});

it('every backpack page fits 375 px and passes axe', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  try {
    // The course page's link, opened in its own tab, signs the learner in.
    await page.goto(`${t.url}${await backpackLinkOf(p, p.demo!.users.ada.sub)}`);
    await page.getByRole('heading', { name: 'My record' }).waitFor();
    const pages: [string, string][] = [
      ['backpack-record', '/backpack'],
      ['backpack-badges', '/backpack/badges'],
      ['backpack-badge', `/backpack/badges/${ids[0]}`],
      ['backpack-import', '/backpack/imports/new'],
      ['backpack-collections', '/backpack/collections'],
      ['backpack-collection', collectionPath],
      ['backpack-shared-collection', sharedUrl.slice(t.url.length)],
      ['backpack-embed', `/backpack/embed/${ids[0]}`],
    ];
    for (const [name, path] of pages) {
      await page.setViewportSize({ width: 375, height: 740 });
      const answer = await page.goto(`${t.url}${path}`);
      expect([name, answer?.status()]).toEqual([name, 200]);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect([name, width]).toEqual([name, 375]);
      expect([name, await seriousA11yViolations(page)]).toEqual([name, []]);
      await screenshots(page, name);
    }
    // The visibility switch works by keyboard.
    await page.goto(`${t.url}/backpack/badges/${ids[1]}`);
    await page.getByLabel(/^Hidden:/).focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Save' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Saved.').waitFor();
    expect(await page.getByLabel(/^Hidden:/).isChecked()).toBe(true);
  } finally {
    await context.close();
  }
}, 120_000);

it('the sign-in page fits 375 px and passes axe', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  try {
    await page.goto(`${t.url}/backpack/sign-in`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBe(375);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshots(page, 'backpack-sign-in');
  } finally {
    await context.close();
  }
}, 60_000);
