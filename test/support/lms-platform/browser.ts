/**
 * A minimal browser for the launch driver: real HTTP with fetch, redirects followed by hand so every hop's
 * cookies are stored and sent per the jar's SameSite rules, form submission, and a trace of every request.
 * `mode: 'iframe'` browses inside a frame of the platform's page (the LMS embeds the tool); `'window'` is a
 * top-level window (a "new window" launch).
 */
import { CookieJar, siteOf, type CookieContext } from './cookie-jar.js';
import type { HtmlForm } from './html-forms.js';

export type BrowsingMode = 'iframe' | 'window';

export interface BrowserOptions {
  mode?: BrowsingMode;
  /** URL of the top-level page that embeds the frame (iframe mode): the LMS's page. */
  topUrl: string;
  blockThirdPartyCookies?: boolean;
  jar?: CookieJar;
  maxRedirects?: number;
}

export interface PageResult {
  status: number;
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface TraceStep {
  method: string;
  url: string;
  status: number;
  location?: string;
  crossSite: boolean;
  sentCookies?: string;
  setCookies: string[];
}

export interface NavigateRequest {
  url: string;
  method?: 'GET' | 'POST';
  form?: [string, string][];
  /** URL of the document that starts the navigation (the page with the form, or the LMS page). */
  initiator: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class Browser {
  readonly jar: CookieJar;
  readonly trace: TraceStep[] = [];
  readonly mode: BrowsingMode;
  private readonly topSite: string;

  constructor(private readonly opts: BrowserOptions) {
    this.jar = opts.jar ?? new CookieJar();
    this.mode = opts.mode ?? 'iframe';
    this.topSite = siteOf(opts.topUrl);
  }

  async navigate(request: NavigateRequest): Promise<PageResult> {
    let url = new URL(request.url);
    let method = request.method ?? 'GET';
    let form = request.form;
    const initiatorSite = siteOf(request.initiator);
    let chainCrossSite = false;
    const topLevel = this.mode === 'window';
    for (let hop = 0; hop <= (this.opts.maxRedirects ?? 20); hop++) {
      if (method === 'GET' && form) {
        for (const [k, v] of form) url.searchParams.append(k, v);
        form = undefined;
      }
      chainCrossSite ||= siteOf(url) !== initiatorSite;
      const cx: CookieContext = {
        crossSite: topLevel ? chainCrossSite : siteOf(url) !== this.topSite,
        topLevel,
        method,
        blockThirdParty: this.opts.blockThirdPartyCookies ?? false,
      };
      const cookie = this.jar.header(url, cx);
      const headers: Record<string, string> = {
        accept: 'text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8',
        'user-agent': 'laurel-lms-platform-driver/1.0',
        ...(cookie ? { cookie } : {}),
      };
      let body: string | undefined;
      if (method === 'POST') {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers.origin = new URL(request.initiator).origin;
        body = new URLSearchParams(form ?? []).toString();
      }
      const res = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        redirect: 'manual',
      });
      const setCookies = res.headers.getSetCookie();
      this.jar.store(url, setCookies, cx);
      const location = res.headers.get('location') ?? undefined;
      this.trace.push({
        method,
        url: url.toString(),
        status: res.status,
        crossSite: cx.crossSite,
        setCookies,
        ...(location ? { location } : {}),
        ...(cookie ? { sentCookies: cookie } : {}),
      });
      if (REDIRECTS.has(res.status) && location) {
        await res.arrayBuffer();
        url = new URL(location, url);
        if (res.status !== 307 && res.status !== 308) {
          method = 'GET';
          form = undefined;
        }
        continue;
      }
      const headerRecord: Record<string, string> = {};
      res.headers.forEach((value, key) => {
        headerRecord[key] = value;
      });
      return { status: res.status, url: url.toString(), body: await res.text(), headers: headerRecord };
    }
    throw new Error(`more than ${this.opts.maxRedirects ?? 20} redirects from ${request.url}`);
  }

  /** Submits a form found on the page at `pageUrl`. */
  submit(form: HtmlForm, pageUrl: string): Promise<PageResult> {
    return this.navigate({
      url: new URL(form.action || pageUrl, pageUrl).toString(),
      method: form.method,
      form: form.fields,
      initiator: pageUrl,
    });
  }
}
