/** Browser-test helpers for pages shown inside an LMS's frame. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
export { frameA11yViolations } from '../support/browser.js';

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 740 };

/** Screenshots of what a person sees (the whole page, or one element such as the tool's frame) at desktop and 375 px. */
export async function screenshots(page: Page, name: string, target?: Locator): Promise<string[]> {
  const dir = path.resolve('test/artifacts');
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const before = page.viewportSize() ?? DESKTOP;
  for (const [suffix, size] of [
    ['desktop', DESKTOP],
    ['375', PHONE],
  ] as const) {
    await page.setViewportSize(size);
    const file = path.join(dir, `${name}-${suffix}.png`);
    if (target) await target.screenshot({ path: file });
    else await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  await page.setViewportSize(before);
  return files;
}

/**
 * Grants the Storage Access permission of `embedded` inside pages of `topLevel` for one browser
 * context, as a person who allowed it before would have (headless Chromium shows no prompt).
 */
export async function grantStorageAccess(
  browser: Browser,
  context: BrowserContext,
  topLevel: string,
  embedded: string,
): Promise<void> {
  const id = contextIds.get(context);
  if (!id) throw new Error('grantStorageAccess needs a context made by newContextWithId');
  // DevTools drops its permission overrides when its session ends: this one lasts as long as the context.
  const cdp = await browser.newBrowserCDPSession();
  context.once('close', () => void cdp.detach().catch(() => {}));
  await cdp.send('Browser.setPermission', {
    permission: { name: 'storage-access' },
    setting: 'granted',
    origin: topLevel,
    embeddedOrigin: embedded,
    browserContextId: id,
  } as never);
}

const contextIds = new WeakMap<BrowserContext, string>();

/** A new browser context whose DevTools id is known (for grantStorageAccess). */
export async function newContextWithId(browser: Browser): Promise<BrowserContext> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const list = async () =>
      ((await cdp.send('Target.getBrowserContexts')) as { browserContextIds: string[] }).browserContextIds;
    const before = new Set(await list());
    const context = await browser.newContext({ viewport: DESKTOP });
    const id = (await list()).find((c) => !before.has(c));
    if (id) contextIds.set(context, id);
    return context;
  } finally {
    await cdp.detach();
  }
}

/** Makes the pages of a context look like a browser without the Storage Access API (Safari before 13, for one). */
export async function withoutStorageAccessApi(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    delete (Document.prototype as Partial<Document>).requestStorageAccess;
    delete (Document.prototype as Partial<Document>).hasStorageAccess;
  });
}
