import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';

const require = createRequire(import.meta.url);

/** Debian's Chromium (installed by .ci/run); CHROMIUM_PATH points elsewhere on other machines. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium as a learner's browser. Run this way it blocks third-party cookies, which is
 * exactly the situation Laurel must survive inside an LMS iframe. The network flags keep it from
 * calling Google services, which this machine cannot reach.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: number };

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

/** The same for a whole page's main frame. */
export const seriousA11yViolations = (page: Page) => frameA11yViolations(page.mainFrame());

/** Saves a screenshot under test/artifacts/ (not committed) for people to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = path.resolve('test/artifacts');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
