import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Context } from '../context.js';
import type { LtiDatabase } from '../lti/database.js';
import { verifyLtik, type LtikPayload } from '../lti/ltik.js';
import jwt from 'jsonwebtoken';
import {
  platformForRequest,
  platformsOfIssuerForRequest,
  sessionReadsForRequest,
} from '../lti/requestReads.js';
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
async function platformOfLtik(ctx: Context, req: Request, lti?: LtiDatabase): Promise<OriginSource | null> {
  const header = req.get('authorization') ?? '';
  const ltik =
    typeof req.query.ltik === 'string'
      ? req.query.ltik
      : header.startsWith('LTIK-AUTH-V1 Token=')
        ? header.slice(19).split(',')[0]
        : undefined;
  if (!ltik) return null;
  let payload: LtikPayload;
  try {
    payload = verifyLtik(ltik, ctx.config.ltiKey);
  } catch {
    return null;
  }
  if (typeof payload.platformUrl !== 'string' || typeof payload.clientId !== 'string') return null;
  // The whole record, read once for this request: the launch session needs it next, and with
  // ltijs's store the session's records come in the same round trip.
  if (lti && [payload.deploymentId, payload.contextId, payload.user].every((v) => typeof v === 'string'))
    return sessionReadsForRequest(ctx, req, lti, payload).then((r) => r.platform);
  return platformForRequest(ctx, req, payload.platformUrl, payload.clientId);
}

async function allPlatforms(ctx: Context): Promise<OriginSource[]> {
  return ctx.models.platforms.find({}, PROJECTION).limit(1000).lean<OriginSource[]>();
}

/**
 * Sets frame-ancestors for the pages an LMS frames: a course page allows its launch's LMS (any
 * registered LMS when the page has no valid launch, so that "open Laurel again" shows in the frame);
 * LTI Dynamic Registration allows the LMS that opened it. The login and launch answers are framed
 * by launchFramingPolicy, inside ltijs's app, once their bodies are parsed. Anything else keeps 'none'.
 */
export function framingPolicy(ctx: Context, lti?: LtiDatabase): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const path = req.path;
    let origins: Promise<string[]> | undefined;
    if (path === '/course' || path.startsWith('/course/'))
      origins = platformOfLtik(ctx, req, lti).then(async (p) =>
        frameOriginsOf(p ? [p] : await allPlatforms(ctx)),
      );
    else if (path === '/lti/register') {
      const lms = originOf(req.query.openid_configuration);
      origins = Promise.resolve(lms ? [lms] : []);
    }
    if (opensFromTheFrame(path)) keepOpener(res);
    if (!origins) return next();
    origins.then((list) => {
      setFrameAncestors(res, list);
      next();
    }, next);
  };
}

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The issuer and client ids a login or launch names: the login's `iss` and `client_id`, or the
 * id_token's `iss` and `aud`. Unverified claims are enough here: they only choose, among the
 * registered LMSs, whose origins may frame the answer (a forged token gets a refusal page framed
 * by a registered LMS at most, as every login and launch answer was before).
 */
function namedPlatform(req: Request): { issuer: string; clientIds: string[] } | null {
  const params = {
    ...(req.query as Record<string, unknown>),
    ...((req.body ?? {}) as Record<string, unknown>),
  };
  const idToken = text(params.id_token);
  if (idToken) {
    const claims = jwt.decode(idToken, { json: true });
    const issuer = text(claims?.iss);
    if (!claims || !issuer) return null;
    const aud: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    return { issuer, clientIds: aud.filter((a): a is string => !!text(a)) };
  }
  const issuer = text(params.iss);
  if (!issuer) return null;
  const clientId = text(params.client_id);
  return { issuer, clientIds: clientId ? [clientId] : [] };
}

/**
 * The origins that may frame a login or launch answer: its own LMS's, read by the issuer (and client
 * id) it names, with the school addresses learned from its earlier launches. One indexed read,
 * shared with the launch that reads the same platform next (requestReads.ts). A request that names
 * no registered LMS may be framed by none.
 */
async function launchFrameOrigins(ctx: Context, req: Request, lti?: LtiDatabase): Promise<string[]> {
  const ofLtik = await platformOfLtik(ctx, req, lti);
  if (ofLtik) return frameOriginsOf([ofLtik]);
  const named = namedPlatform(req);
  if (!named) return [];
  const registered = await platformsOfIssuerForRequest(ctx, req, named.issuer, lti);
  const own = registered.filter((p) => named.clientIds.includes(p.clientId));
  // No client id, or one not registered (ltijs then picks, or refuses, among the issuer's own).
  return frameOriginsOf(own.length ? own : registered);
}

/**
 * frame-ancestors of /lti/login and /lti/launch (and their sub-paths), inside ltijs's app; its
 * read of the platforms brings ltijs's records too, when given ltijs's store (`lti`).
 */
export function launchFramingPolicy(ctx: Context, lti?: LtiDatabase): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!/^\/lti\/(login|launch)(\/|$)/.test(req.baseUrl + req.path)) return next();
    launchFrameOrigins(ctx, req, lti).then((origins) => {
      setFrameAncestors(res, origins);
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
