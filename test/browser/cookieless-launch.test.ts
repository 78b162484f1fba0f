import type { Browser, BrowserContext, Frame, Page, Route } from 'playwright-core';
import { launchPathCounts } from '../../src/lti/launch-paths.js';
import { launchBrowser } from '../support/browser.js';
import type { TestLaurel } from '../support/laurel.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import {
  frameA11yViolations,
  grantStorageAccess,
  newContextWithId,
  screenshots,
  withoutStorageAccessApi,
} from './helpers.js';

/**
 * Headless Chromium blocks the cookies of a framed site of another origin (third-party-cookies.test.ts
 * proves it). The LMS pages run on 127.0.0.1 and Laurel on localhost, as an LMS and Laurel are two
 * sites in real life, so every launch below meets a browser that keeps Laurel's cookies out.
 */
describe("launches in a browser that keeps Laurel's cookies out of the LMS's frame", () => {
  let t: TestLaurel;
  let canvas: RegisteredPlatform;
  let moodle: RegisteredPlatform;
  let browser: Browser;
  const opened: BrowserContext[] = [];

  beforeAll(async () => {
    t = await startLaurelForLti();
    [canvas, moodle, browser] = await Promise.all([
      startRegisteredPlatform(t, 'canvas'),
      startRegisteredPlatform(t, 'moodle'),
      launchBrowser(),
    ]);
  });
  afterEach(async () => {
    canvas?.platform.tamperStorage(undefined);
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([canvas?.platform.close(), moodle?.platform.close()]);
    await t?.stop();
  });

  const pathCounts = async (r: RegisteredPlatform) => (await launchPathCounts(t.laurel.ctx, r.id)).paths;

  /** The LMS's demo page in a fresh browser context, and every URL the context asks for. */
  async function openLms(
    r: RegisteredPlatform,
    prepare?: (context: BrowserContext) => Promise<void>,
  ): Promise<{ context: BrowserContext; page: Page; urls: string[] }> {
    const context = await newContextWithId(browser);
    opened.push(context);
    await prepare?.(context);
    const urls: string[] = [];
    context.on('request', (req) => urls.push(req.url()));
    const page = await context.newPage();
    if (process.env.DEBUG_BROWSER) {
      page.on('console', (m) => console.log('console', m.type(), m.text()));
      page.on('framenavigated', (f) => console.log('nav', f.name(), f.url()));
      context.on('response', (r) => console.log('resp', r.status(), r.url()));
    }
    await page.goto(`${r.platform.url}/`);
    return { context, page, urls };
  }

  const launchButton = (page: Page, course: string, person: string, label = 'Launch as learner') =>
    page
      .locator('section.course', { has: page.getByRole('heading', { name: course }) })
      .locator('form', { hasText: person })
      .getByRole('button', { name: label, exact: true });
  const toolFrame = (page: Page): Frame => page.frame({ name: 'tool' })!;
  const mainText = (where: Page | Frame) => where.locator('main').innerText();

  /** The id_token posts to Laurel's launch URL, recorded, and changed by `rewrite` when given. */
  async function watchLaunchPosts(
    context: BrowserContext,
    rewrite?: (fields: Record<string, string>) => Record<string, string>,
  ): Promise<Record<string, string>[]> {
    const posts: Record<string, string>[] = [];
    await context.route('**/lti/launch', async (route: Route) => {
      const request = route.request();
      if (request.method() !== 'POST') return route.continue();
      const fields = Object.fromEntries(new URLSearchParams(request.postData() ?? ''));
      posts.push(fields);
      if (!rewrite) return route.continue();
      return route.continue({ postData: new URLSearchParams(rewrite(fields)).toString() });
    });
    return posts;
  }

  /** Posts a form from `page` into the window or frame named `target`, as a replaying attacker's page would. */
  async function postForm(page: Page, action: string, fields: Record<string, string>, target: string) {
    await page.evaluate(
      ({ action, fields, target }) => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = action;
        form.target = target;
        for (const [name, value] of Object.entries(fields)) {
          const input = document.createElement('input');
          input.type = 'hidden';
          input.name = name;
          input.value = value;
          form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
      },
      { action, fields, target },
    );
  }

  async function expectAccessible(frame: Frame, what: string) {
    expect({ what, violations: await frameA11yViolations(frame) }).toEqual({ what, violations: [] });
  }

  /** Nothing about a state or nonce ever travels in a URL (the LMS logs those). */
  function expectNoStateInUrls(urls: string[]) {
    for (const url of urls) {
      const query = new URL(url).searchParams;
      expect({ url, state: query.has('state'), nonce: query.has('nonce') }).toEqual({
        url,
        state: false,
        nonce: false,
      });
    }
  }

  it('Canvas-like LMS with platform storage: ends on Laurel inside the frame, and a click inside still works', async () => {
    const before = await pathCounts(canvas);
    const { context, page, urls } = await openLms(canvas);
    const posts = await watchLaunchPosts(context);
    // Stop the first trip to the LMS's sign-in, and hold the launch's last step, to look at Laurel's
    // pages on the way (a cancelled navigation leaves the page in place).
    const authUrl = `${canvas.platform.url}/auth`;
    await context.route(authUrl, (route) => route.abort('aborted'));
    let releaseComplete!: () => void;
    const completeHeld = new Promise<void>((resolve) => (releaseComplete = resolve));
    await context.route('**/lti/launch/complete', async (route) => {
      await completeHeld;
      await route.continue();
    });

    await launchButton(page, 'Chemistry 101', 'Iris Instructor', 'Launch as instructor').click();
    const frame = toolFrame(page);
    const authTried = page.waitForRequest(authUrl);
    await frame.waitForURL(/\/lti\/login$/);
    await frame.getByRole('heading', { name: 'Signing you in to Laurel' }).waitFor();
    await authTried;
    // The login page stored the state in the LMS's storage frame, keyed by Laurel's origin.
    const storage = page.frame({ name: 'post_message_forwarding' })!;
    const storedKeys = async () =>
      (await storage.evaluate(() => Object.keys(localStorage))).filter((k) => k.includes('laurel_state_'));
    for (let i = 0; i < 50 && (await storedKeys()).length === 0; i++) await page.waitForTimeout(50);
    expect(await storedKeys()).toEqual([expect.stringContaining(`|${new URL(t.url).origin}|laurel_state_`)]);
    await screenshots(page, 'cookieless-login-platform-storage', page.locator('iframe[name="tool"]'));
    await expectAccessible(frame, 'login page (platform storage)');
    await context.unroute(authUrl);
    await frame.evaluate(() => (document.getElementById('laurel-auth-request') as HTMLFormElement).submit());

    await frame.waitForURL(/\/lti\/launch$/);
    await frame.getByRole('heading', { name: 'Signing you in to Laurel' }).waitFor();
    await screenshots(page, 'cookieless-launch-checking', page.locator('iframe[name="tool"]'));
    await expectAccessible(frame, 'launch page (checking the state)');
    releaseComplete();

    await frame.waitForURL(/\/course\/instructor\?ltik=/);
    expect(await mainText(frame)).toContain('Chemistry 101');
    await frame.locator('a[href^="/course/learner"]').first().click();
    await frame.waitForURL(/\/course\/learner\?ltik=/);
    expect(await mainText(frame)).toContain('Chemistry 101');
    await screenshots(page, 'cookieless-platform-storage-course-page', page.locator('iframe[name="tool"]'));

    expect(posts).toHaveLength(1);
    expect(posts[0]!.lti_storage_target).toBe('post_message_forwarding');
    const after = await pathCounts(canvas);
    expect(after['platform-storage'].count).toBe(before['platform-storage'].count + 1);
    expect(after.cookie.count).toBe(before.cookie.count);
    // Laurel's launch page took its state back out of the LMS's storage.
    for (let i = 0; i < 50 && (await storedKeys()).length > 0; i++) await page.waitForTimeout(50);
    expect(await storedKeys()).toEqual([]);
    expectNoStateInUrls(urls);
  });

  it('Moodle-like LMS without it: continues in a new window, with a message left in the frame', async () => {
    const before = await pathCounts(moodle);
    const { context, page, urls } = await openLms(moodle);
    await launchButton(page, 'World History', 'Ada Lovelace').click();
    const frame = toolFrame(page);
    // Chromium has the Storage Access API, so Laurel offers it first.
    await frame.getByRole('heading', { name: 'Allow Laurel to open here' }).waitFor();
    await screenshots(page, 'cookieless-offer-storage-access', page.locator('iframe[name="tool"]'));
    await expectAccessible(frame, 'login page (storage access offered)');

    const popupOpened = context.waitForEvent('page');
    await frame.getByRole('button', { name: 'Open in a new window' }).click();
    const popup = await popupOpened;
    await popup.waitForURL(/\/course\/learner\?ltik=/);
    expect(await mainText(popup)).toContain('World History');
    await popup.locator('a[href^="/course/learner"]').first().click();
    await popup.waitForURL(/\/course\/learner\?ltik=/);
    expect(await mainText(popup)).toContain('World History');
    await screenshots(popup, 'cookieless-new-window-course-page');

    await frame.getByRole('heading', { name: 'Laurel opened in a new window' }).waitFor();
    expect(await frame.getByRole('button', { name: 'Open Laurel again' }).isVisible()).toBe(true);
    await screenshots(page, 'cookieless-opened-in-new-window', page.locator('iframe[name="tool"]'));
    await expectAccessible(frame, 'login page (opened in a new window)');

    const after = await pathCounts(moodle);
    expect(after['new-window'].count).toBe(before['new-window'].count + 1);
    expectNoStateInUrls(urls);
  });

  it('opens the new window by itself in a browser without the Storage Access API', async () => {
    const { context, page } = await openLms(moodle, withoutStorageAccessApi);
    const popupOpened = context.waitForEvent('page');
    await launchButton(page, 'Chemistry 101', 'Grace Hopper').click();
    const popup = await popupOpened;
    await popup.waitForURL(/\/course\/learner\?ltik=/);
    expect(await mainText(popup)).toContain('Chemistry 101');
    await toolFrame(page).getByRole('heading', { name: 'Laurel opened in a new window' }).waitFor();
  });

  it('offers a button when a pop-up blocker stopped the new window', async () => {
    const { context, page } = await openLms(moodle, async (c) => {
      await withoutStorageAccessApi(c);
      // A pop-up blocker: the first window.open of a page (not started by a click) gives nothing.
      await c.addInitScript(() => {
        const open = window.open.bind(window);
        let blocked = false;
        window.open = (...args: Parameters<typeof window.open>) => {
          if (blocked) return open(...args);
          blocked = true;
          return null;
        };
      });
    });
    await launchButton(page, 'World History', 'Ada Lovelace').click();
    const frame = toolFrame(page);
    await frame.getByRole('heading', { name: 'Open Laurel in a new window' }).waitFor();
    await screenshots(page, 'cookieless-popup-blocked', page.locator('iframe[name="tool"]'));
    await expectAccessible(frame, 'login page (pop-up blocked)');
    const popupOpened = context.waitForEvent('page');
    await frame.getByRole('button', { name: 'Open Laurel in a new window' }).click();
    const popup = await popupOpened;
    await popup.waitForURL(/\/course\/learner\?ltik=/);
    await frame.getByRole('heading', { name: 'Laurel opened in a new window' }).waitFor();
  });

  it('stays in the frame where the browser grants storage access', async () => {
    const before = await pathCounts(moodle);
    const { context, page, urls } = await openLms(moodle, (c) =>
      grantStorageAccess(browser, c, moodle.platform.url, t.url),
    );
    await launchButton(page, 'Chemistry 101', 'Ada Lovelace').click();
    const frame = toolFrame(page);
    await frame.waitForURL(/\/course\/learner\?ltik=/);
    expect(await mainText(frame)).toContain('Chemistry 101');
    await frame.locator('a[href^="/course/learner"]').first().click();
    await frame.waitForURL(/\/course\/learner\?ltik=/);
    expect(context.pages()).toHaveLength(1);
    const after = await pathCounts(moodle);
    expect(after['storage-access'].count).toBe(before['storage-access'].count + 1);
    expectNoStateInUrls(urls);
  });

  it('refuses a replayed launch and a forged state on the platform-storage path', async () => {
    const { context, page } = await openLms(canvas);
    const posts = await watchLaunchPosts(context);
    await launchButton(page, 'Chemistry 101', 'Ada Lovelace').click();
    const frame = toolFrame(page);
    await frame.waitForURL(/\/course\/learner\?ltik=/);

    // The same id_token and state posted again into the frame.
    await postForm(page, `${t.url}/lti/launch`, posts[0]!, 'tool');
    await frame.getByRole('heading', { name: 'This launch was already used' }).waitFor();
    expect(await mainText(frame)).toContain('(reused_state)');

    // A state Laurel never issued: no cookie and no stored state vouch for it.
    await context.unroute('**/lti/launch');
    await watchLaunchPosts(context, (fields) => ({ ...fields, state: 'forged-state-value' }));
    await launchButton(page, 'Chemistry 101', 'Ada Lovelace').click();
    await frame.getByRole('heading', { name: 'The sign-in could not be completed' }).waitFor();
    expect(await mainText(frame)).toContain('(missing_state)');
    await context.unroute('**/lti/launch');

    // A real state whose copy in the LMS's storage is not the same (forged there, or another browser's).
    canvas.platform.tamperStorage('forge');
    await page.reload();
    await launchButton(page, 'Chemistry 101', 'Ada Lovelace').click();
    const reframe = toolFrame(page);
    await reframe.getByRole('heading', { name: 'The sign-in could not be completed' }).waitFor();
    expect(await mainText(reframe)).toContain('(state_not_confirmed)');
    await screenshots(page, 'cookieless-launch-refused', page.locator('iframe[name="tool"]'));
    await expectAccessible(reframe, 'launch page (refused)');
  });

  it('refuses a replayed launch and a forged state on the new-window path', async () => {
    const { context, page } = await openLms(moodle, withoutStorageAccessApi);
    const posts = await watchLaunchPosts(context);
    let popupOpened = context.waitForEvent('page');
    await launchButton(page, 'World History', 'Grace Hopper').click();
    const popup = await popupOpened;
    await popup.waitForURL(/\/course\/learner\?ltik=/);

    await postForm(popup, `${t.url}/lti/launch`, posts[0]!, '_self');
    await popup.getByRole('heading', { name: 'The sign-in could not be completed' }).waitFor();
    expect(await mainText(popup)).toContain('(missing_state)');

    // A fresh browser for the forged state: the visit above may have let a browser's cookie heuristics
    // grant Laurel's frame its cookies (the npm Chromium does), and this half is about the new window.
    const fresh = await openLms(moodle, withoutStorageAccessApi);
    await watchLaunchPosts(fresh.context, (fields) => ({ ...fields, state: 'forged-state-value' }));
    popupOpened = fresh.context.waitForEvent('page');
    await launchButton(fresh.page, 'World History', 'Grace Hopper').click();
    const second = await popupOpened;
    await second.getByRole('heading', { name: 'The sign-in could not be completed' }).waitFor();
    expect(await mainText(second)).toContain('(missing_state)');
  });

  it('keeps the cookie path where cookies are allowed (a top-level launch)', async () => {
    const before = await pathCounts(canvas);
    const { context, page, urls } = await openLms(canvas);
    const popupOpened = context.waitForEvent('page');
    await page
      .locator('section.course', { has: page.getByRole('heading', { name: 'World History' }) })
      .locator('form', { hasText: 'Ada Lovelace' })
      .getByRole('button', { name: /in a new window/ })
      .click();
    const popup = await popupOpened;
    await popup.waitForURL(/\/course\/learner\?ltik=/);
    expect(await mainText(popup)).toContain('World History');
    const after = await pathCounts(canvas);
    expect(after.cookie.count).toBe(before.cookie.count + 1);
    expect(after['platform-storage'].count).toBe(before['platform-storage'].count);
    expectNoStateInUrls(urls);
  });
});
