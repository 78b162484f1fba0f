import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Context } from '../../context.js';
import type { BackpackSessionDoc } from '../../db/models/backpackSession.js';
import { HttpError } from '../../errors.js';
import { findSession, SESSION_DAYS } from '../../backpack/sessions.js';
import { derive, sameToken } from '../../backpack/tokens.js';

/**
 * The backpack's session on the web: a cookie holding a random token (HttpOnly, SameSite=Lax,
 * Secure when PUBLIC_URL is https, scoped to /backpack), and a CSRF token per session for every
 * form, an HMAC of the session's stored id. Pages are never cached.
 */
export const COOKIE = 'laurel_backpack';
export const BACKPACK = '/backpack';

export type BackpackLocals = { session: BackpackSessionDoc; token: string; csrf: string };

export const backpackOf = (res: Response) => res.locals.backpack as BackpackLocals;

function cookieOf(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return undefined;
}

export function setSessionCookie(ctx: Context, res: Response, token: string): void {
  res.cookie(COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.config.publicUrl.startsWith('https:'),
    path: BACKPACK,
    maxAge: SESSION_DAYS * 86_400_000,
  });
}

export function clearSessionCookie(ctx: Context, res: Response): void {
  res.clearCookie(COOKIE, { path: BACKPACK, secure: ctx.config.publicUrl.startsWith('https:') });
}

const csrfOf = (ctx: Context, session: BackpackSessionDoc) =>
  derive(ctx.config, 'backpack-csrf', session._id);

/**
 * The session of the request's cookie in `res.locals.backpack`; without one a page (GET) goes to the
 * sign-in page and anything else is a 401.
 */
export function requireSession(ctx: Context): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    const token = cookieOf(req);
    const session = await findSession(ctx, token);
    if (!session) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        res.redirect(303, `${BACKPACK}/sign-in`);
        return;
      }
      res.set('Connection', 'close');
      next(
        new HttpError(
          401,
          'signed_out',
          'Sign in to your backpack first: your session ended or never began.',
        ),
      );
      return;
    }
    res.locals.backpack = { session, token: token!, csrf: csrfOf(ctx, session) } satisfies BackpackLocals;
    next();
  };
}

/** The token of the current session, or null (pages that show a different face when signed in). */
export async function optionalSession(ctx: Context, req: Request): Promise<BackpackSessionDoc | null> {
  return findSession(ctx, cookieOf(req));
}

export const cookieToken = cookieOf;

/** Small urlencoded forms (a choice and a token): 16 KiB, 20 fields. */
export const formBody: RequestHandler = express.urlencoded({
  extended: false,
  limit: 16 * 1024,
  parameterLimit: 20,
  inflate: false,
});

/** After requireSession and formBody: the form's `csrf` field must be this session's token. */
export const requireBackpackCsrf: RequestHandler = (req, res, next) => {
  const given = (req.body as Record<string, unknown> | undefined)?.csrf;
  if (!sameToken(given, backpackOf(res).csrf))
    return next(
      new HttpError(403, 'invalid_form', 'This form could not be accepted: reload the page and try again.'),
    );
  next();
};
