import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import { admin, event, sendEvents, settled } from '../support/api.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { frameA11yViolations, grantStorageAccess, newContextWithId, screenshots } from './helpers.js';

/**
 * A teacher running a badge inside the LMS frame, in a real browser: grades arrive before the badge
 * is active; a dry run shows who would earn it; activation recounts the results and awards it; then
 * a revocation with a reason, an award by hand, and the revoked credential's public page.
 */
describe.each(['canvas', 'moodle'] as const)(
  'a badge’s credentials in the %s frame, in a browser',
  (flavour) => {
    let t: TestLaurel;
    let lms: RegisteredPlatform;
    let browser: Browser;
    let context: BrowserContext;

    beforeAll(async () => {
      t = await startLaurelForLti();
      [lms, browser] = await Promise.all([startRegisteredPlatform(t, flavour), launchBrowser()]);
      context = await newContextWithId(browser);
      // The Moodle-like LMS has no platform storage: Laurel stays in its frame with storage access.
      if (flavour === 'moodle') await grantStorageAccess(browser, context, lms.platform.url, t.url);
    });
    afterAll(async () => {
      await context?.close();
      await browser?.close();
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
    /** axe finds nothing, the page does not scroll sideways at 375 px, and screenshots at both sizes. */
    async function check(page: Page, frame: Frame, name: string) {
      expect({ name, violations: await frameA11yViolations(frame) }).toEqual({ name, violations: [] });
      await page.setViewportSize({ width: 375, height: 740 });
      const overflow = await frame.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      const pageOverflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect({ name, overflow, pageOverflow }).toEqual({ name, overflow: 0, pageOverflow: 0 });
      await page.setViewportSize({ width: 1280, height: 900 });
      await screenshots(page, `${name}-${flavour}`, page.locator('iframe[name="tool"]'));
    }

    it('dry-runs, activates after the grades arrived, revokes and awards by hand', async () => {
      const demo = lms.platform.demo!;
      const page = await context.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      // The learners open Laurel once (the course knows them), then the grades arrive.
      await launchAs(page, 'Ada Lovelace', 'Launch as learner');
      await launchAs(page, 'Grace Hopper', 'Launch as learner');
      const frame = await launchAs(page, 'Iris Instructor', 'Launch as instructor');

      const created = await admin(t, 'POST', '/templates', {
        platformId: lms.id,
        courseId: demo.courses.chemistry.id,
        name: 'Titration pro',
        description: 'Quiz 3 at 80% or more, and the course completed.',
        groups: [
          {
            requirements: [
              {
                event: 'activity.grade.updated',
                rules: [
                  { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
                  { path: 'data.percent', op: 'gte', value: 80 },
                ],
              },
            ],
          },
          { requirements: [{ event: 'course.completed', rules: [] }] },
        ],
      });
      expect(created.status).toBe(201);
      const grade = (user: { lmsUserId?: string; sub: string }, over: Record<string, unknown>) =>
        event(lms.id, {
          course: { id: demo.courses.chemistry.id },
          user: { id: user.lmsUserId ?? user.sub },
          ...over,
        });
      const sent = await sendEvents(t, lms.webhookSecret, {
        events: [
          grade(demo.users.ada, { data: { activityId: 'quiz-3', score: 18, maxScore: 20 } }),
          grade(demo.users.ada, { type: 'course.completed', data: {} }),
          grade(demo.users.grace, { data: { activityId: 'quiz-3', score: 17, maxScore: 20 } }),
        ],
      });
      expect(sent.body.stored).toBe(3);
      await settled(t);

      // The instructor opens the draft's credentials and runs a dry run: nothing is awarded.
      await frame.goto(frame.url());
      await frame.getByRole('link', { name: 'Credentials of Titration pro' }).click();
      await frame.waitForURL(/\/credentials\?/);
      await check(page, frame, 'credentials-1-draft');
      await frame.getByRole('link', { name: 'Dry run' }).click();
      await frame.waitForURL(/\/dry-run/);
      expect(await frame.locator('[data-list="would-earn"]').innerText()).toBe('Ada Lovelace');
      expect(await frame.locator('[data-list="close"]').innerText()).toBe('Grace Hopper · 50%');
      await check(page, frame, 'credentials-2-dry-run');
      expect(await t.laurel.ctx.models.credentials.countDocuments({})).toBe(0);

      // Activated from there: the recount awards Ada.
      await frame.getByRole('link', { name: 'Activate “Titration pro”…' }).click();
      await frame.waitForURL(/action=activate/);
      await frame.getByRole('button', { name: 'Activate “Titration pro”' }).click();
      await frame.waitForURL(/\/course\/instructor\?/);
      await t.laurel.ctx.jobs.idle?.();
      await frame.getByRole('link', { name: 'Credentials of Titration pro' }).click();
      await frame.waitForURL(/\/credentials\?/);
      const adaRow = frame.locator('tbody tr', {
        has: frame.getByRole('rowheader', { name: /Ada Lovelace/ }),
      });
      expect(await adaRow.locator('[data-state]').getAttribute('data-state')).toMatch(
        /awarded|issuing|issued/,
      );
      expect(await frame.locator('[data-recalculation]').innerText()).toContain('1 badge awarded');
      await check(page, frame, 'credentials-3-awarded-by-recount');

      // Revoked with a reason.
      await adaRow.getByRole('link', { name: /Revoke/ }).click();
      await frame.waitForURL(/\/revoke\?/);
      await frame.getByLabel(/Reason/).fill('Submitted a classmate’s quiz');
      await check(page, frame, 'credentials-4-revoke');
      await frame.getByRole('button', { name: /Revoke Ada Lovelace/ }).click();
      await frame.waitForURL(/done=revoked/);
      expect(await frame.locator('[role=status]').first().innerText()).toContain(
        'The credential was revoked.',
      );
      const revokedRow = frame.locator('tbody tr', {
        has: frame.getByRole('rowheader', { name: /Ada Lovelace/ }),
      });
      expect(await revokedRow.innerText()).toContain('Submitted a classmate’s quiz');
      const publicUrl = await revokedRow.getByRole('link', { name: /Public page/ }).getAttribute('href');

      // Awarded by hand to Grace, with a note.
      await frame.getByRole('checkbox', { name: /Grace Hopper/ }).check();
      await frame.getByLabel(/Note/).fill('Ran the lab demonstration for the class');
      await frame.getByRole('button', { name: 'Award to the chosen learners' }).click();
      await frame.waitForURL(/done=awarded/);
      expect(await frame.locator('[role=status]').first().innerText()).toContain('1 credential awarded.');
      const graceRow = frame.locator('tbody tr', {
        has: frame.getByRole('rowheader', { name: /Grace Hopper/ }),
      });
      expect(await graceRow.innerText()).toContain('Ran the lab demonstration for the class');
      await check(page, frame, 'credentials-5-after-revoke-and-award');

      // The revoked credential's public page: said first, with the reason, greyed, nothing to download.
      const pub = await context.newPage();
      await pub.setViewportSize({ width: 375, height: 740 });
      await pub.goto(publicUrl!);
      expect(await pub.locator('[data-field="status"]').innerText()).toContain('Revoked');
      expect(await pub.locator('[data-field="revoked-reason"]').innerText()).toBe(
        'Submitted a classmate’s quiz',
      );
      expect(
        await pub.locator('.credential-image img').evaluate((img) => getComputedStyle(img).filter),
      ).toContain('grayscale');
      expect(await pub.getByText('Download or share').count()).toBe(0);
      expect(
        await pub.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
      ).toBe(0);
      expect(await frameA11yViolations(pub.mainFrame())).toEqual([]);
      await screenshots(pub, `credentials-6-public-revoked-${flavour}`);
      await pub.close();

      // Withdrawn: no one earns it any more, but Grace, who holds it, still sees it as earned, and Ada
      // sees hers as revoked, with the reason.
      const ltik = new URL(frame.url()).searchParams.get('ltik')!;
      await frame.goto(
        new URL(
          `/course/instructor/badges/${created.body.id}/state?ltik=${encodeURIComponent(ltik)}&action=withdraw`,
          frame.url(),
        ).toString(),
      );
      await frame.getByRole('button', { name: 'Withdraw “Titration pro”' }).click();
      await frame.waitForURL(/\/course\/instructor\?/);
      expect(await frame.locator('main').innerText()).toMatch(/Titration pro[\s\S]*Withdrawn/);
      const grace = await launchAs(page, 'Grace Hopper', 'Launch as learner');
      const graceCard = grace.locator('.badge-card', { hasText: 'Titration pro' });
      expect(await graceCard.innerText()).toContain('Earned on');
      expect(await graceCard.innerText()).toContain('no longer awards this badge; yours stays valid');
      await check(page, grace, 'credentials-7-withdrawn-held');
      const ada = await launchAs(page, 'Ada Lovelace', 'Launch as learner');
      const adaCard = ada.locator('.badge-card', { hasText: 'Titration pro' });
      expect(await adaCard.innerText()).toContain('Revoked on');
      expect(await adaCard.innerText()).toContain('Submitted a classmate’s quiz');
      await check(page, ada, 'credentials-8-revoked-on-learner-page');
      await page.close();
    }, 180_000);
  },
);
