import type { Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { launch } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform } from '../lti/helpers.js';
import { grantStorageAccess, newContextWithId } from './helpers.js';

it('measures', async () => {
  const t = await startLaurelForLti();
  const canvas = await startRegisteredPlatform(t, 'canvas');
  const moodle = await startRegisteredPlatform(t, 'moodle');
  const browser = await launchBrowser();
  const out: Record<string, number[]> = {};
  const rec = (k: string, ms: number) => (out[k] ??= []).push(ms);
  const d = canvas.platform.demo!;
  for (let i = 0; i < 15; i++) {
    let s = Date.now();
    const r = await launch(canvas.platform, { courseId: d.courses.chemistry.id, sub: d.users.ada.sub });
    expect(r.status).toBe(200);
    rec('driver cookie (iframe, probe)', Date.now() - s);
    s = Date.now();
    const w = await launch(canvas.platform, { courseId: d.courses.chemistry.id, sub: d.users.ada.sub, mode: 'window' });
    expect(w.status).toBe(200);
    rec('driver cookie (window, probe)', Date.now() - s);
  }
  const pick = (page: Page, person: string) =>
    page.locator('section.course', { has: page.getByRole('heading', { name: 'Chemistry 101' }) }).locator('form', { hasText: person });
  for (let i = 0; i < 5; i++) {
    for (const kind of ['platform-storage', 'new-window', 'storage-access', 'cookie-top']) {
      const r = kind === 'platform-storage' || kind === 'cookie-top' ? canvas : moodle;
      const ctx = await newContextWithId(browser);
      if (kind === 'storage-access') await grantStorageAccess(browser, ctx, r.platform.url, t.url);
      const page = await ctx.newPage();
      await page.goto(`${r.platform.url}/`);
      const s = Date.now();
      if (kind === 'cookie-top') {
        const p = ctx.waitForEvent('page');
        await pick(page, 'Ada Lovelace').getByRole('button', { name: /new window/ }).click();
        await (await p).waitForURL(/course\/learner/);
      } else if (kind === 'new-window') {
        await pick(page, 'Ada Lovelace').getByRole('button', { name: 'Launch as learner', exact: true }).click();
        const f = page.frame({ name: 'tool' })!;
        const p = ctx.waitForEvent('page');
        await f.getByRole('button', { name: 'Open in a new window' }).click();
        await (await p).waitForURL(/course\/learner/);
      } else {
        await pick(page, 'Ada Lovelace').getByRole('button', { name: 'Launch as learner', exact: true }).click();
        await page.frame({ name: 'tool' })!.waitForURL(/course\/learner/);
      }
      rec(`browser ${kind}`, Date.now() - s);
      await ctx.close();
    }
  }
  const stats = Object.fromEntries(
    Object.entries(out).map(([k, v]) => {
      const s = [...v].sort((a, b) => a - b);
      return [k, { n: v.length, median: s[Math.floor(s.length / 2)], max: s[s.length - 1] }];
    }),
  );
  console.log(JSON.stringify(stats));
  await browser.close();
  await canvas.platform.close();
  await moodle.platform.close();
  await t.stop();
}, 300_000);
