import { createHmac, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '../../errors.js';
import { secretsEqual } from '../../security/compare.js';

/**
 * The administrator's session on Laurel's own admin pages. Signing in takes the admin API key
 * (the one secret an operator of Laurel holds); the session is a cookie signed with a key derived
 * from that key, so rotating ADMIN_API_KEY ends every session. Nothing is kept server-side, which
 * keeps web processes stateless. Forms carry a CSRF token bound to the session.
 */
export const ADMIN_COOKIE = 'laurel_admin';
export const ADMIN_SESSION_MS = 8 * 3600 * 1000;
const CSRF_FIELD = 'csrf';

type Session = { id: string; expiresAt: number };

const keyFor = (adminApiKey: string) =>
  createHmac('sha256', adminApiKey).update('laurel admin page session v1').digest();
const mac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest('base64url');

export function issueSession(adminApiKey: string, now: number): { cookie: string; session: Session } {
  const session = { id: randomBytes(16).toString('base64url'), expiresAt: now + ADMIN_SESSION_MS };
  const body = `${session.id}.${session.expiresAt}`;
  return { cookie: `${body}.${mac(keyFor(adminApiKey), body)}`, session };
}

/** The session a cookie value stands for, if it is ours, intact and not expired. */
export function readSession(adminApiKey: string, value: unknown, now: number): Session | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^([A-Za-z0-9_-]{22})\.(\d{13})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) return undefined;
  const [, id, expires, signature] = match as unknown as [string, string, string, string];
  if (!secretsEqual(mac(keyFor(adminApiKey), `${id}.${expires}`), signature)) return undefined;
  const expiresAt = Number(expires);
  return expiresAt > now ? { id, expiresAt } : undefined;
}

export const csrfTokenOf = (adminApiKey: string, session: Session) =>
  mac(keyFor(adminApiKey), `csrf.${session.id}`);

/** The cookie header value: HttpOnly, SameSite=Strict, only under /admin, Secure over HTTPS. */
export function sessionCookie(value: string, secure: boolean, maxAgeMs: number): string {
  return [
    `${ADMIN_COOKIE}=${value}`,
    'Path=/admin',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** The value of one cookie of the request (no cookie parser is mounted outside ltijs). */
export function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Middleware: `res.locals.adminSession` and `res.locals.csrfToken` for a signed-in administrator;
 * otherwise the sign-in page (GET) or 401 (anything else).
 */
export function requireAdmin(adminApiKey: string, now: () => number, signInPage: (res: Response) => void) {
  return (req: Request, res: Response, next: NextFunction) => {
    const session = readSession(adminApiKey, cookieValue(req, ADMIN_COOKIE), now());
    if (!session) {
      if (req.method === 'GET') return signInPage(res);
      return next(new HttpError(401, 'not_signed_in', 'Your administrator session ended. Sign in again.'));
    }
    res.locals.adminSession = session;
    res.locals.csrfToken = csrfTokenOf(adminApiKey, session);
    next();
  };
}

/** Middleware after the body parser: the form's CSRF token must be the session's. */
export function requireAdminCsrf(adminApiKey: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    const session = res.locals.adminSession as Session | undefined;
    const given = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
    if (!session || typeof given !== 'string' || !secretsEqual(given, csrfTokenOf(adminApiKey, session)))
      return next(
        new HttpError(
          403,
          'invalid_form',
          'This form is out of date or was not sent from Laurel. Reload the page.',
        ),
      );
    next();
  };
}
