/**
 * Browserless LTI launches over real HTTP: starts at the platform, posts the login initiation to the tool,
 * follows the tool to the platform's authorisation endpoint, posts the id_token back to the tool and follows
 * the tool's redirects; cookies travel as a browser would carry them (see cookie-jar.ts).
 */
import jwt from 'jsonwebtoken';
import { Browser, type BrowsingMode, type PageResult, type TraceStep } from './browser.js';
import { CookieJar, type Cookie } from './cookie-jar.js';
import { fieldValue, findAutoSubmitForm } from './html-forms.js';
import type { TestPlatform } from './platform.js';
import type { LaunchOptions } from './types.js';

export interface BrowsingOptions {
  /** 'iframe' (default): embedded in the platform's page, as LMSs show tools; 'window': a new top-level window. */
  mode?: BrowsingMode;
  /** Like Safari, private windows and headless Chromium in frames. */
  blockThirdPartyCookies?: boolean;
  /** Reuse a jar (an earlier launch's session); default a fresh one. */
  jar?: CookieJar;
}

export interface DriverLaunchOptions extends LaunchOptions, BrowsingOptions {
  /** How the platform starts the login initiation: auto-submitted form POST (default) or a GET redirect. */
  method?: 'POST' | 'GET';
}

export interface LaunchResult extends PageResult {
  /** Cookies the jar holds for the final URL. */
  cookies: Cookie[];
  jar: CookieJar;
  /** The id_token and state the platform's form posted to the tool (undefined if the flow stopped earlier). */
  idToken?: string;
  state?: string;
  /** Where the id_token was posted (the redirect_uri). */
  launchUrl?: string;
  /** The id_token's payload, decoded without verification. */
  claims?: Record<string, unknown>;
  trace: TraceStep[];
  platform: TestPlatform;
  mode: BrowsingMode;
}

function result(
  platform: TestPlatform,
  browser: Browser,
  page: PageResult,
  posted: { idToken?: string; state?: string; launchUrl?: string },
): LaunchResult {
  const decoded = posted.idToken ? jwt.decode(posted.idToken) : null;
  return {
    ...page,
    cookies: browser.jar.list(page.url),
    jar: browser.jar,
    ...posted,
    ...(decoded && typeof decoded === 'object' ? { claims: decoded as Record<string, unknown> } : {}),
    trace: browser.trace,
    platform,
    mode: browser.mode,
  };
}

function browserFor(platform: TestPlatform, opts: BrowsingOptions): Browser {
  return new Browser({
    topUrl: platform.url,
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(opts.blockThirdPartyCookies !== undefined
      ? { blockThirdPartyCookies: opts.blockThirdPartyCookies }
      : {}),
    ...(opts.jar ? { jar: opts.jar } : {}),
  });
}

/** Runs a whole launch and returns the tool's final answer (the instructor or learner page, or its refusal). */
export async function launch(platform: TestPlatform, opts: DriverLaunchOptions): Promise<LaunchResult> {
  const { mode: _mode, blockThirdPartyCookies: _block, jar: _jar, method, ...launchOptions } = opts;
  const browser = browserFor(platform, opts);
  const startUrl = platform.launchStartUrl({ ...launchOptions, method: method ?? 'POST' });
  let page = await browser.navigate({ url: startUrl, method: 'GET', initiator: platform.url });
  const posted: { idToken?: string; state?: string; launchUrl?: string } = {};
  for (let step = 0; step < 5; step++) {
    const form = findAutoSubmitForm(page.body);
    if (!form) break;
    const idToken = fieldValue(form, 'id_token');
    if (idToken) {
      posted.idToken = idToken;
      const state = fieldValue(form, 'state');
      if (state !== undefined) posted.state = state;
      posted.launchUrl = new URL(form.action || page.url, page.url).toString();
    }
    page = await browser.submit(form, page.url);
    if (idToken) break;
  }
  return result(platform, browser, page, posted);
}

export interface PostLaunchOptions extends BrowsingOptions {
  idToken?: string;
  /** Omit to post without state. */
  state?: string;
  /** Cookies to carry: a jar, or a list (e.g. an earlier result's `cookies`). */
  cookies?: CookieJar | Cookie[];
  /** Default: the first redirect URI of the tool (`clientId`, default the pre-configured one). */
  url?: string;
  clientId?: string;
  /** Extra form fields. */
  fields?: Record<string, string>;
}

/** Posts a (crafted) id_token and state to the tool's launch URL as the platform's form would, then follows it. */
export async function postLaunch(platform: TestPlatform, opts: PostLaunchOptions): Promise<LaunchResult> {
  let jar = opts.jar;
  if (opts.cookies instanceof CookieJar) jar = opts.cookies;
  else if (opts.cookies) {
    jar = new CookieJar();
    for (const c of opts.cookies) jar.add(c);
  }
  const browser = browserFor(platform, { ...opts, ...(jar ? { jar } : {}) });
  const url = opts.url ?? platform.client(opts.clientId).redirectUris[0];
  const form: [string, string][] = [];
  if (opts.idToken !== undefined) form.push(['id_token', opts.idToken]);
  if (opts.state !== undefined) form.push(['state', opts.state]);
  for (const [k, v] of Object.entries(opts.fields ?? {})) form.push([k, v]);
  const page = await browser.navigate({ url, method: 'POST', form, initiator: platform.authLoginUrl });
  return result(platform, browser, page, {
    ...(opts.idToken !== undefined ? { idToken: opts.idToken } : {}),
    ...(opts.state !== undefined ? { state: opts.state } : {}),
    launchUrl: url,
  });
}

/** Posts the same id_token and state again, with the same cookies: a replayed launch. */
export function replay(
  previous: LaunchResult,
  overrides: Partial<PostLaunchOptions> = {},
): Promise<LaunchResult> {
  if (!previous.idToken) throw new Error('that launch never reached the point of posting an id_token');
  return postLaunch(previous.platform, {
    idToken: previous.idToken,
    ...(previous.state !== undefined ? { state: previous.state } : {}),
    cookies: previous.jar,
    ...(previous.launchUrl ? { url: previous.launchUrl } : {}),
    mode: previous.mode,
    ...overrides,
  });
}

/**
 * Submits the auto-submitting form of a result's page (e.g. the tool's deep-linking response posting to the
 * platform's return URL), with the same cookies. Undefined when the page has none.
 */
export async function followAutoSubmit(previous: LaunchResult): Promise<LaunchResult | undefined> {
  const form = findAutoSubmitForm(previous.body);
  if (!form) return undefined;
  const browser = browserFor(previous.platform, { jar: previous.jar, mode: previous.mode });
  const page = await browser.submit(form, previous.url);
  return result(previous.platform, browser, page, {});
}
