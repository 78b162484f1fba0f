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
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Page } from 'playwright-core';
import { digestUnsubscribeUrl, unsubscribeUrl } from '../../src/mail/unsubscribe.js';
import { digestsNow, mailboxRouter, RecordingMailer } from '../support/demo-mailbox.js';
import { launch } from '../support/lms-platform/index.js';
import { linksOf } from '../lti/helpers.js';
import { waitFor } from '../openbadges/support.js';

let t: TestLaurel;
let moodle: RegisteredPlatform;
let p: TestPlatform;
let browser: Browser;
const ids: string[] = [];
let collectionPath: string;
let sharedUrl: string;
let importedPath: string;
let digestLink: string;
// Laurel keeps its mail here (as the demo does), so the e-mail forms and the digest are on.
const mailbox = new RecordingMailer();

beforeAll(async () => {
  t = await startLaurelForLti({}, { mailer: mailbox });
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
  // A badge earned elsewhere (here: Laurel's own credential JSON, pasted).
  const json = (await ada.get(`/backpack/badges/${ids[1]}/credential.json`)).body;
  importedPath = (await ada.post('/backpack/imports', { json, csrf: token })).headers.get('location')!;
  const instructor = await launch(p, {
    courseId: p.demo!.courses.chemistry.id,
    sub: p.demo!.users.instructor.sub,
  });
  digestLink = linksOf(instructor.body).find((l) => l.startsWith('/course/instructor/digest?'))!;
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
      ['backpack-imported', importedPath],
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

/** The page answers `status`, fits 375 px, passes axe; screenshots at both sizes. */
async function check(page: Page, name: string, status = 200) {
  const answer = await page.evaluate(() => performance.getEntriesByType('navigation')[0]);
  expect([name, (answer as { responseStatus?: number }).responseStatus]).toEqual([name, status]);
  await page.setViewportSize({ width: 375, height: 740 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect([name, width]).toEqual([name, 375]);
  expect([name, await seriousA11yViolations(page)]).toEqual([name, []]);
  await screenshots(page, name);
}

it('the e-mail sign-in pages fit 375 px and pass axe', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  try {
    await page.goto(`${t.url}/backpack/sign-in`);
    await page.getByLabel(/Your e-mail address/).fill('grace@example.edu');
    await page.getByRole('button', { name: 'E-mail me a sign-in link' }).click();
    await page.getByRole('heading', { name: 'Check your e-mail' }).waitFor();
    await check(page, 'backpack-check-mail');
    const mail = await waitFor('the sign-in mail', async () =>
      mailbox.mails.find((m) => m.to === 'grace@example.edu' && m.subject.includes('sign-in link')),
    );
    const link = /http:\/\/localhost:\d+\/backpack\/sign-in\/[A-Za-z0-9_-]{43}/.exec(mail.text)![0];
    await page.goto(link);
    await check(page, 'backpack-confirm-sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'My record' }).waitFor();
    // The same link, used: refused.
    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'This link no longer works' }).waitFor();
    await check(page, 'backpack-link-refused', 410);
  } finally {
    await context.close();
  }
}, 60_000);

it('the unsubscribe pages, the instructor’s digest page and the demo’s mailbox fit 375 px and pass axe', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  const server = http.createServer(
    express().use(mailboxRouter(mailbox, { sendDigestsNow: () => digestsNow(t.laurel.ctx, mailbox) })),
  );
  try {
    await page.goto(unsubscribeUrl(t.laurel.config, 'grace@example.edu'));
    await check(page, 'backpack-unsubscribe');
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByText('gets no more e-mails about badges').waitFor();
    await check(page, 'backpack-unsubscribed');

    // The instructor's digest page, as the course page's link opens it (its ltik in the address).
    await page.goto(`${t.url}${digestLink}`);
    await check(page, 'course-digest');
    await page.getByRole('button', { name: 'Send me the weekly digest' }).click();
    await page.getByText('Saved.').waitFor();
    await check(page, 'course-digest-on');
    const sub = await t.laurel.ctx.models.digestSubscriptions.findOne({}).lean();
    await page.goto(digestUnsubscribeUrl(t.laurel.config, String(sub!._id)));
    await check(page, 'digest-unsubscribe');

    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/laurel-mail`);
    await page.getByRole('heading', { name: 'Your sign-in link for the Laurel backpack' }).first().waitFor();
    await check(page, 'demo-mailbox');
  } finally {
    server.close();
    await context.close();
  }
}, 60_000);
