import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Context } from '../context.js';
import { verifyLtik } from '../lti/ltik.js';
import { platformForRequest } from '../lti/requestReads.js';
import { frameOriginsOf, originOf, type OriginSource } from '../platforms/frameOrigins.js';

/**
 * Who may frame a page (CSP frame-ancestors). Laurel's course pages and launches live inside the
 * LMS's iframe, so those allow the origins of the registered LMSs, the one of the launch where it
 * is known; every other page (public pages, registration, errors) allows no framing at all, so it
 * cannot be used for clickjacking.
 */
export const NO_FRAMING = "'none'";

/** Replaces the frame-ancestors directive of the answer's CSP (helmet set it to 'none'). */
export function setFrameAncestors(res: Response, origins: string[]): void {
  const csp = res.getHeader('Content-Security-Policy');
  if (typeof csp !== 'string') return;
  const value = origins.length ? origins.join(' ') : NO_FRAMING;
  res.setHeader('Content-Security-Policy', csp.replace(/frame-ancestors [^;]*/, `frame-ancestors ${value}`));
}

const PROJECTION = { issuer: 1, authLoginUrl: 1, frameOrigins: 1 } as const;

/** The platform of the launch token a request carries (query or LTIK-AUTH-V1 header), if valid. */
async function platformOfLtik(ctx: Context, req: Request): Promise<OriginSource | null> {
  const header = req.get('authorization') ?? '';
  const ltik =
    typeof req.query.ltik === 'string'
      ? req.query.ltik
      : header.startsWith('LTIK-AUTH-V1 Token=')
        ? header.slice(19).split(',')[0]
        : undefined;
  if (!ltik) return null;
  let payload: { platformUrl?: unknown; clientId?: unknown };
  try {
    payload = verifyLtik(ltik, ctx.config.ltiKey);
  } catch {
    return null;
  }
  if (typeof payload.platformUrl !== 'string' || typeof payload.clientId !== 'string') return null;
  // The whole record, read once for this request: the launch session needs it next.
  return platformForRequest(ctx, req, payload.platformUrl, payload.clientId);
}

async function allPlatforms(ctx: Context): Promise<OriginSource[]> {
  return ctx.models.platforms.find({}, PROJECTION).limit(1000).lean<OriginSource[]>();
}

/**
 * Sets frame-ancestors for the pages an LMS frames: a course page allows its launch's LMS (any
 * registered LMS when the page has no valid launch, so that "open Laurel again" shows in the frame);
 * the login and launch answers allow the registered LMSs; LTI Dynamic Registration allows the LMS
 * that opened it. Anything else keeps 'none'.
 */
export function framingPolicy(ctx: Context): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const path = req.path;
    let origins: Promise<string[]> | undefined;
    if (path === '/course' || path.startsWith('/course/'))
      origins = platformOfLtik(ctx, req).then(async (p) => frameOriginsOf(p ? [p] : await allPlatforms(ctx)));
    else if (path === '/lti/register') {
      const lms = originOf(req.query.openid_configuration);
      origins = Promise.resolve(lms ? [lms] : []);
    } else if (/^\/lti\/(login|launch)(\/|$)/.test(path)) origins = allPlatforms(ctx).then(frameOriginsOf);
    if (opensFromTheFrame(path)) keepOpener(res);
    if (!origins) return next();
    origins.then((list) => {
      setFrameAncestors(res, list);
      next();
    }, next);
  };
}

/**
 * The pages of a launch that continues in a new window (cookies blocked in the LMS's frame) keep
 * their opener: a deep-linking answer made there is handed back to Laurel's page still in the
 * frame, which posts it into the LMS's dialog (a `same-origin` opener policy would cut that link
 * as soon as the window reached Laurel).
 */
const opensFromTheFrame = (path: string) =>
  /^\/lti\/(login|launch)(\/|$)/.test(path) || path === '/course/deep-link' || path === '/course';
const keepOpener = (res: Response) => res.setHeader('Cross-Origin-Opener-Policy', 'unsafe-none');

/** The same, inside ltijs's own app (mounted at /lti), whose helmet sets `same-origin` again. */
export function keepOpenerOfLaunches(req: Request, res: Response, next: NextFunction): void {
  if (opensFromTheFrame(req.baseUrl + req.path)) keepOpener(res);
  next();
}

/** HSTS only on answers that came over HTTPS (directly or, with TRUST_PROXY, through the proxy). */
export function hstsOverHttps(req: Request, res: Response, next: NextFunction): void {
  if (req.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  next();
}
