import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';

const require = createRequire(import.meta.url);

/** Where a system Chromium usually lives, after CHROMIUM_PATH. */
const SYSTEM_CHROMIUMS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

export type ChromiumChoice = { path: string; source: 'CHROMIUM_PATH' | 'system' | 'npm' };

let chosen: Promise<ChromiumChoice> | undefined;

/**
 * The Chromium the page tests drive: CHROMIUM_PATH, else a system one at the usual paths, else the
 * one that comes with npm (@sparticuz/chromium, unpacked from the package: no download at run time).
 * LAUREL_TEST_CHROMIUM=npm takes the npm one even where a system one exists (.ci/run runs the page
 * tests both ways). Which one ran is printed once per test process.
 */
export function chooseChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumChoice> {
  return (chosen ??= (async (): Promise<ChromiumChoice> => {
    let choice: ChromiumChoice | undefined;
    if (env.LAUREL_TEST_CHROMIUM !== 'npm') {
      if (env.CHROMIUM_PATH) {
        if (!existsSync(env.CHROMIUM_PATH))
          throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH} does not exist`);
        choice = { path: env.CHROMIUM_PATH, source: 'CHROMIUM_PATH' };
      } else {
        const found = SYSTEM_CHROMIUMS.find((candidate) => existsSync(candidate));
        if (found) choice = { path: found, source: 'system' };
      }
    }
    if (!choice) {
      const { default: packaged } = await import('@sparticuz/chromium');
      choice = { path: await packaged.executablePath(), source: 'npm' };
    }
    process.stderr.write(`Page tests use Chromium from ${choice.source}: ${choice.path}\n`);
    return choice;
  })());
}

/** What a browser does with third-party cookies by default now: block them (as Debian's headless build does). */
const BLOCK_THIRD_PARTY_COOKIES = {
  enableThirdPartyCookieRestriction: true,
  disableThirdPartyCookieMetadata: true,
  disableThirdPartyCookieHeuristics: true,
};

async function blockThirdPartyCookies(context: BrowserContext, page: Page): Promise<void> {
  const session = await context.newCDPSession(page);
  await session.send('Network.enable');
  await session.send('Network.setCookieControls', BLOCK_THIRD_PARTY_COOKIES);
}

/**
 * The npm build lets framed third-party cookies through; Laurel must be tested in a browser that
 * blocks them, so every page of every context (pop-ups and new windows included) gets the DevTools
 * cookie controls that block them before the test uses it.
 */
function withBlockedThirdPartyCookies(browser: Browser): Browser {
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.on('page', (page) => void blockThirdPartyCookies(context, page).catch(() => {}));
    const newPage = context.newPage.bind(context);
    context.newPage = async () => {
      const page = await newPage();
      await blockThirdPartyCookies(context, page);
      return page;
    };
    return context;
  };
  browser.newPage = async (options) => {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    page.on('close', () => void context.close().catch(() => {}));
    return page;
  };
  return browser;
}

/**
 * The npm Chromium is unpacked into /tmp by whichever test process asks first; another process that
 * starts it while the file is still open for writing gets ETXTBSY. A moment later the file is whole.
 */
async function launchRetryingBusyBinary(start: () => Promise<Browser>): Promise<Browser> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 10 || !String((err as Error).message).includes('ETXTBSY')) throw err;
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}

/**
 * Headless Chromium as a learner's browser, blocking third-party cookies, which is exactly the
 * situation Laurel must survive inside an LMS iframe. The network flags keep it from calling Google
 * services, which this machine cannot reach.
 */
export async function launchBrowser(): Promise<Browser> {
  const choice = await chooseChromium();
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    // Laurel's frame moves between the LMS's site and Laurel's during a launch; with site isolation
    // each move swaps the frame's renderer process, and Playwright (1.65) now and then misses the
    // navigations that follow (its frame stays at the LMS's /auth while Chromium shows Laurel's
    // page: about 1 launch in 100 here). One process per page keeps the tracking exact; what pages
    // can observe (cookies, storage partitions, storage access) does not depend on the process model.
    '--disable-site-isolation-trials',
    '--disable-features=IsolateOrigins,site-per-process',
  ];
  const browser = await launchRetryingBusyBinary(() =>
    chromium.launch({ executablePath: choice.path, headless: true, args }),
  );
  return choice.source === 'npm' ? withBlockedThirdPartyCookies(browser) : browser;
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
