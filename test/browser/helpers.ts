/** Browser-test helpers for pages shown inside an LMS's frame. */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, BrowserContext, Frame, Locator, Page } from 'playwright-core';
import type { AxeViolation } from '../support/browser.js';

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

/**
 * axe-core's serious and critical violations in one frame. The script is evaluated through the
 * DevTools protocol rather than added as a tag: Laurel's CSP (rightly) refuses inline scripts it did
 * not sign, and the pages must stay under that CSP while they are checked.
 */
export async function frameA11yViolations(frame: Frame): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await frame.evaluate(`(function(){${axeSource}\n})()`);
  const result = await frame.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<any> } })
      .axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return (result.violations as any[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
}

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
