import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { HttpError } from '../../errors.js';
import type { Launch } from '../../lti/session.js';

/**
 * CSRF protection without a cookie (the LMS iframe may not keep one): the token is an HMAC of the
 * launch's own signed ltik, so only a page of this launch can hold it, and another site cannot
 * forge a form post for the person even if it learned the page's URL shape.
 */
export function csrfTokenFor(secret: string, launch: Pick<Launch, 'ltik'>): string {
  return createHmac('sha256', secret).update('laurel-csrf:').update(launch.ltik).digest('base64url');
}

/** After the launch session: puts the token where every form template finds it. */
export function csrfLocals(secret: string): RequestHandler {
  return (_req, res, next) => {
    const launch = res.locals.launch as Launch | undefined;
    if (launch) res.locals.csrfToken = csrfTokenFor(secret, launch);
    next();
  };
}

/** Refuses a form post whose token does not belong to its launch (403, a page for people). */
export function requireCsrf(secret: string): RequestHandler {
  return (req, res: Response, next) => {
    const launch = res.locals.launch as Launch | undefined;
    const given = (req.body as Record<string, unknown> | undefined)?.csrf;
    const expected = launch ? Buffer.from(csrfTokenFor(secret, launch)) : null;
    const ok =
      expected !== null &&
      typeof given === 'string' &&
      given.length === expected.length &&
      timingSafeEqual(Buffer.from(given), expected);
    if (!ok)
      return next(
        new HttpError(
          403,
          'csrf',
          'This form has expired or did not come from Laurel. Go back, reload the page and try again.',
        ),
      );
    next();
  };
}
