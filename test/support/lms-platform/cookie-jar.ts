/**
 * A browser-like cookie jar for the launch driver. It honours Domain, Path, Expires/Max-Age, Secure and
 * SameSite the way Chromium does in the cases an LTI launch meets:
 * - `Secure` cookies need a secure URL; http://localhost, 127.0.0.0/8 and [::1] count as secure;
 * - `SameSite=None` without `Secure` is rejected;
 * - in a cross-site iframe only `SameSite=None` cookies are stored and sent (none at all when third-party
 *   cookies are blocked);
 * - at top level, cross-site requests carry `SameSite=None` cookies, `Lax` ones on GET navigations, and
 *   cookies without SameSite also on a POST within two minutes of being set ("Lax+POST").
 * Sites are scheme + host, ports ignored (so localhost:3000 and localhost:4000 are the same site), and for
 * domain names the last two labels (no public-suffix list).
 */

export type SameSite = 'None' | 'Lax' | 'Strict';

export interface Cookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
  /** Epoch ms; undefined = session cookie. */
  expires?: number;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: SameSite;
  createdAt: number;
}

/** How the request that sends or receives cookies is made. */
export interface CookieContext {
  crossSite: boolean;
  topLevel: boolean;
  method: string;
  blockThirdParty?: boolean;
}

const LAX_POST_WINDOW_MS = 2 * 60 * 1000;

function isIp(host: string): boolean {
  return host.includes(':') || [...host].every((c) => c === '.' || (c >= '0' && c <= '9'));
}

export function isSecureUrl(url: URL): boolean {
  const host = url.hostname;
  if (url.protocol === 'https:') return true;
  return host === 'localhost' || host.endsWith('.localhost') || host.startsWith('127.') || host === '[::1]';
}

export function siteOf(url: URL | string): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  const host = u.hostname;
  const site = isIp(host) || !host.includes('.') ? host : host.split('.').slice(-2).join('.');
  return `${u.protocol}//${site}`;
}

function domainMatches(host: string, domain: string): boolean {
  return host === domain || (!isIp(host) && host.endsWith(`.${domain}`));
}

function defaultPath(url: URL): string {
  const p = url.pathname;
  if (!p.startsWith('/') || p.lastIndexOf('/') === 0) return '/';
  return p.slice(0, p.lastIndexOf('/'));
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** Parses one Set-Cookie header into a cookie, or undefined when a browser would ignore it. */
export function parseSetCookie(header: string, url: URL, now = Date.now()): Cookie | undefined {
  const [pair, ...attributes] = header.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const cookie: Cookie = {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    domain: url.hostname,
    hostOnly: true,
    path: defaultPath(url),
    secure: false,
    httpOnly: false,
    createdAt: now,
  };
  let maxAge: number | undefined;
  for (const attribute of attributes) {
    const i = attribute.indexOf('=');
    const key = (i < 0 ? attribute : attribute.slice(0, i)).trim().toLowerCase();
    const value = i < 0 ? '' : attribute.slice(i + 1).trim();
    if (key === 'expires') {
      const t = Date.parse(value);
      if (!Number.isNaN(t)) cookie.expires = t;
    } else if (key === 'max-age') {
      const n = Number(value);
      if (Number.isInteger(n)) maxAge = n;
    } else if (key === 'domain' && value !== '') {
      const domain = (value.startsWith('.') ? value.slice(1) : value).toLowerCase();
      if (!domainMatches(url.hostname, domain)) return undefined;
      cookie.domain = domain;
      cookie.hostOnly = domain === url.hostname;
    } else if (key === 'path' && value.startsWith('/')) {
      cookie.path = value;
    } else if (key === 'secure') {
      cookie.secure = true;
    } else if (key === 'httponly') {
      cookie.httpOnly = true;
    } else if (key === 'samesite') {
      const v = value.toLowerCase();
      cookie.sameSite = v === 'none' ? 'None' : v === 'strict' ? 'Strict' : v === 'lax' ? 'Lax' : undefined;
    }
  }
  if (maxAge !== undefined) cookie.expires = now + maxAge * 1000;
  if (cookie.name.startsWith('__Secure-') && !cookie.secure) return undefined;
  if (cookie.name.startsWith('__Host-') && (!cookie.secure || !cookie.hostOnly || cookie.path !== '/'))
    return undefined;
  return cookie;
}

export class CookieJar {
  private cookies: Cookie[] = [];
  /** Set-Cookie headers a browser would have dropped, with the reason (handy when a launch fails). */
  readonly rejected: { url: string; header: string; reason: string }[] = [];

  /** Stores the cookies of a response as a browser would in this context. */
  store(url: URL, setCookieHeaders: string[], cx: CookieContext, now = Date.now()): void {
    for (const header of setCookieHeaders) {
      const reason = this.storeOne(url, header, cx, now);
      if (reason) this.rejected.push({ url: url.toString(), header, reason });
    }
  }

  private storeOne(url: URL, header: string, cx: CookieContext, now: number): string | undefined {
    const cookie = parseSetCookie(header, url, now);
    if (!cookie) return 'malformed, or Domain/prefix rules not met';
    if (cookie.secure && !isSecureUrl(url)) return 'Secure cookie from an insecure URL';
    if (cookie.sameSite === 'None' && !cookie.secure) return 'SameSite=None without Secure';
    if (cx.crossSite && !cx.topLevel) {
      if (cx.blockThirdParty) return 'third-party cookies are blocked';
      if (cookie.sameSite !== 'None')
        return `SameSite=${cookie.sameSite ?? 'Lax (default)'} in a cross-site frame`;
    }
    const existing = this.cookies.findIndex(
      (c) => c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path,
    );
    if (existing >= 0) {
      cookie.createdAt = this.cookies[existing].createdAt;
      this.cookies.splice(existing, 1);
    }
    if (cookie.expires === undefined || cookie.expires > now) this.cookies.push(cookie);
    return undefined;
  }

  /** Adds a cookie directly (crafted test cases). */
  add(cookie: Partial<Cookie> & Pick<Cookie, 'name' | 'value' | 'domain'>): void {
    this.cookies = this.cookies.filter((c) => !(c.name === cookie.name && c.domain === cookie.domain));
    this.cookies.push({
      hostOnly: true,
      path: '/',
      secure: false,
      httpOnly: false,
      createdAt: Date.now(),
      ...cookie,
    });
  }

  /** Live cookies, all of them or those a request to `url` could carry (ignoring SameSite). */
  list(url?: URL | string, now = Date.now()): Cookie[] {
    this.cookies = this.cookies.filter((c) => c.expires === undefined || c.expires > now);
    if (url === undefined) return [...this.cookies];
    const u = typeof url === 'string' ? new URL(url) : url;
    return this.cookies.filter(
      (c) =>
        (c.hostOnly ? u.hostname === c.domain : domainMatches(u.hostname, c.domain)) &&
        pathMatches(u.pathname, c.path) &&
        (!c.secure || isSecureUrl(u)),
    );
  }

  get(name: string, url?: URL | string): Cookie | undefined {
    return this.list(url).find((c) => c.name === name);
  }

  /** The Cookie header a browser would send with this request, or undefined. */
  header(url: URL, cx: CookieContext, now = Date.now()): string | undefined {
    const sendable = this.list(url, now).filter((c) => {
      if (!cx.crossSite) return true;
      if (!cx.topLevel && cx.blockThirdParty) return false;
      if (c.sameSite === 'None') return true;
      if (!cx.topLevel || c.sameSite === 'Strict') return false;
      if (cx.method === 'GET') return true;
      return c.sameSite === undefined && now - c.createdAt < LAX_POST_WINDOW_MS;
    });
    if (sendable.length === 0) return undefined;
    sendable.sort((a, b) => b.path.length - a.path.length || a.createdAt - b.createdAt);
    return sendable.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  clear(): void {
    this.cookies = [];
  }
}
