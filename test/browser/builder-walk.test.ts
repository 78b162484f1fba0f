import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Types } from 'mongoose';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { encodeRgbaPng } from '../../src/images/rasterBadge.js';
import { launchBrowser } from '../support/browser.js';
import { eventPanelRouter } from '../support/demo-panel.js';
import type { TestLaurel } from '../support/laurel.js';
import { settled } from '../support/api.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { frameA11yViolations, grantStorageAccess, newContextWithId, screenshots } from './helpers.js';

/** A word no line can hold at 375 px unless it wraps anywhere. */
const LONG_WORD = 'Pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(3);

/**
 * The requirement builder and the learner page in a real browser, inside the frame of each demo LMS:
 * a badge built from an activity the LMS named, its picture previewed before saving, conditions added
 * and removed from the keyboard, and the learner page following the LMS's grades without a reload,
 * with a long word that still fits a 375-pixel phone.
 */
describe.each(['canvas', 'moodle'] as const)(
  'the builder and the live learner page in the %s frame',
  (flavour) => {
    let t: TestLaurel;
    let lms: RegisteredPlatform;
    let browser: Browser;
    let context: BrowserContext;
    let panel: http.Server;
    let panelUrl: string;

    beforeAll(async () => {
      t = await startLaurelForLti();
      [lms, browser] = await Promise.all([startRegisteredPlatform(t, flavour), launchBrowser()]);
      const demo = lms.platform.demo!;
      const app = express();
      app.use(
        eventPanelRouter({
          laurelUrl: t.url,
          platformId: () => lms.id,
          webhookSecret: () => lms.webhookSecret,
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
      // The Moodle-like LMS has no platform storage: Laurel stays in its frame where storage access is granted.
      if (flavour === 'moodle') await grantStorageAccess(browser, context, lms.platform.url, t.url);
    });
    afterAll(async () => {
      await context?.close();
      await browser?.close();
      await new Promise((r) => panel?.close(r));
      await lms?.platform.close();
      await t?.stop();
    });

    const frameOf = (page: Page): Frame => page.frame({ name: 'tool' })!;
    async function launchAs(page: Page, person: string, label: string): Promise<Frame> {
      await page.goto(`${lms.platform.url}/`);
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
      await screenshots(page, `${name}-${flavour}`, page.locator('iframe[name="tool"]'));
    }
    /** Sends a grade from the LMS's event panel, in its own tab (the learner's page stays open). */
    async function sendGrade(activity: string, score: string, outOf: string) {
      const tab = await context.newPage();
      await tab.goto(panelUrl);
      const form = tab.locator('form', {
        has: tab.locator('legend', { hasText: 'Set a grade on an activity' }),
      });
      await form.getByLabel('Activity').selectOption(activity);
      await form.getByLabel('Score').fill(score);
      await form.getByLabel('Out of').fill(outOf);
      await form.getByRole('button').click();
      await tab.waitForLoadState();
      expect(await tab.locator('#result-title').innerText()).toBe('Sent to Laurel: answer 200');
      await tab.close();
      await settled(t);
    }

    it('builds a badge from a named activity and the learner page follows the grades by itself', async () => {
      const page = await context.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      let frame = await launchAs(page, 'Iris Instructor', 'Launch as instructor');

      // The LMS described its activities (the Moodle plugin's course structure, Canvas's assignment events).
      const models = t.laurel.ctx.models;
      const demo = lms.platform.demo!;
      await models.lmsActivities.create(
        [
          { activityId: 'quiz-3', name: 'Quiz 3', kind: flavour === 'moodle' ? 'quiz' : 'online_quiz' },
          {
            activityId: 'final-exam',
            name: 'Final exam',
            kind: flavour === 'moodle' ? 'assign' : 'assignment',
          },
        ].map((a) => ({
          ...a,
          platformId: new Types.ObjectId(lms.id),
          courseId: demo.courses.chemistry.id,
          source: flavour,
        })),
      );

      await frame.getByRole('link', { name: 'Create a badge' }).click();
      await frame.waitForURL(/badges\/new/);
      await frame.getByLabel('Name', { exact: true }).fill('Titration virtuoso');
      await frame.getByLabel('Description').fill(`Mastery of ${LONG_WORD} and other long words.`);

      // The picture shows before it is saved.
      await frame.getByLabel(/^Picture/).setInputFiles({
        name: 'badge.png',
        mimeType: 'image/png',
        buffer: encodeRgbaPng(128, 128, new Uint8Array(128 * 128 * 4).fill(200)),
      });
      await frame.waitForFunction(() => {
        const img = document.getElementById('image-preview') as HTMLImageElement | null;
        return Boolean(img && !img.hidden && img.complete && img.naturalWidth === 128);
      });
      expect(await frame.locator('#image-preview').getAttribute('alt')).toBe('Preview of the new picture');

      // The activity by name: the list offers it with its kind and id, and the field says which it is.
      const kind = 'Quiz'; // Moodle's "quiz" and Canvas's "online_quiz" alike
      expect(await frame.locator('#known-activities option[value="quiz-3"]').textContent()).toBe(
        `Quiz 3 · ${kind} · id quiz-3`,
      );
      await frame.locator('#g0r0-kind').selectOption('activity-grade');
      await frame.locator('#g0r0-activity').fill('quiz-3');
      expect(await frame.locator('#g0r0-activity-hint').innerText()).toBe(`Quiz 3 (${kind}), id quiz-3`);
      await frame.locator('#g0r0-threshold').fill('80');

      // Conditions come and go from the keyboard; focus follows.
      await frame.getByRole('button', { name: 'Add an alternative to group 1' }).focus();
      await page.keyboard.press('Enter');
      await frame.locator('#g0r1-kind').waitFor();
      expect(await frame.evaluate(() => document.activeElement?.id)).toBe('g0r1-kind');
      await frame.locator('#g0r1-activity').fill('not-a-real-activity');
      expect(await frame.locator('#g0r1-activity-hint').innerText()).toContain(
        'Laurel has never heard of this activity',
      );
      await frame.getByRole('button', { name: 'Remove condition 2 of group 1' }).focus();
      await page.keyboard.press('Enter');
      await frame.locator('#g0r1-kind').waitFor({ state: 'detached' });
      expect(await frame.locator('.groups .condition').count()).toBe(1);
      await frame.waitForFunction(
        () => document.getElementById('rule-summary')?.textContent === 'Earned when: Quiz 3 ≥ 80%',
      );
      await check(page, frame, 'builder-1-form');

      await frame.getByRole('button', { name: 'Create the badge' }).click();
      await frame.waitForURL(/saved=1/);
      // Saved at once (the activity is known), with the uploaded picture shown.
      await frame.waitForFunction(() => {
        const img = document.getElementById('image-preview') as HTMLImageElement | null;
        return Boolean(
          img && /\/images\/[0-9a-f]+$/.test(img.src) && img.complete && img.naturalWidth === 128,
        );
      });
      await frame.getByRole('link', { name: 'Activate…' }).click();
      await frame.waitForURL(/action=activate/);
      await frame.getByRole('button', { name: 'Activate “Titration virtuoso”' }).click();
      await frame.waitForURL(/\/course\/instructor\?/);

      // The learner's page: the rule in her words; it updates by itself as grades arrive.
      frame = await launchAs(page, 'Ada Lovelace', 'Launch as learner');
      const main = frame.locator('main');
      expect(await main.innerText()).toContain('Earn this badge by: scoring 80% or more on Quiz 3');
      await frame.evaluate(() => {
        (window as unknown as { stillHere: boolean }).stillHere = true;
      });
      await sendGrade('quiz-3', '15', '20');
      await frame.getByText('your best: 75%, needs 80%').waitFor({ timeout: 15000 });
      await sendGrade('quiz-3', '17', '20');
      await frame.getByText(/Earned on \d{4}-\d{2}-\d{2}/).waitFor({ timeout: 15000 });
      expect(await frame.locator('progress').first().getAttribute('value')).toBe('100');
      expect(await frame.locator('#learner-updated').innerText()).toBe('Your progress was updated.');
      // No reload happened: the page's own state survived.
      expect(await frame.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);

      // A phone: the long word wraps, nothing scrolls sideways.
      await page.setViewportSize({ width: 375, height: 740 });
      const widths = await frame.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
      }));
      expect(widths.scroll).toBeLessThanOrEqual(widths.client);
      expect(await main.innerText()).toContain(LONG_WORD.slice(0, 20));
      await check(page, frame, 'builder-2-learner-earned');
      await page.close();
    }, 180_000);
  },
);
