import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Launch } from './session.js';
import { refusal } from './refusals.js';

/**
 * CSRF tokens for the course pages' forms, with no cookie (inside an LMS iframe the browser may keep
 * none): a token is an HMAC, keyed with LTI_KEY, of the launch's identity (its ltik's signed claims)
 * and the form's purpose. Only a page of this launch can hold it, it is useless for another launch
 * or another form, and a leaked ltik alone does not make it. `launchSession` registers each launch
 * it resolves, so a token needs nothing but the launch.
 */
export const CSRF_FIELD = 'csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const DEFAULT_PURPOSE = 'form';

type LaunchIdentity = { key: string; identity: string };
const identities = new WeakMap<object, LaunchIdentity>();

/** Called by launchSession for each launch it resolves (the ltik's verified payload). */
export function registerCsrfIdentity(
  launch: Launch,
  ltiKey: string,
  ltik: {
    platformUrl: string;
    clientId: string;
    deploymentId: string;
    contextId: string;
    user: string;
    s?: unknown;
    iat?: unknown;
  },
): void {
  const identity = JSON.stringify([
    ltik.platformUrl,
    ltik.clientId,
    ltik.deploymentId,
    ltik.contextId,
    ltik.user,
    ltik.s ?? null,
    ltik.iat ?? null,
  ]);
  identities.set(launch, { key: ltiKey, identity });
}

/**
 * The token for a form of this launch. `purpose` names the form (e.g. 'badge.create'), so a token
 * taken from one form does not pass another; every form of a page may share the default.
 */
export function csrfTokenFor(launch: Launch, purpose: string = DEFAULT_PURPOSE): string {
  const known = identities.get(launch);
  if (!known) throw new Error('csrfTokenFor needs a launch that launchSession resolved (res.locals.launch)');
  return createHmac('sha256', known.key)
    .update('laurel-csrf/v1\n')
    .update(known.identity)
    .update('\n')
    .update(purpose)
    .digest('base64url');
}

function matches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether `given` is the token of the launch that launchSession resolved for this answer
 * (`res.locals.launch`) and of `purpose`. For checks that cannot wait for a parsed body: a header
 * before any body is read, or the first part of a multipart form as it streams in.
 */
export function csrfTokenMatches(res: Response, given: unknown, purpose: string = DEFAULT_PURPOSE): boolean {
  const launch = res.locals.launch as Launch | undefined;
  return Boolean(launch && identities.has(launch) && matches(given, csrfTokenFor(launch, purpose)));
}

/**
 * Middleware after launchSession: refuses (403, `invalid_form`, a page for people through the course
 * router's refusal handler) a request whose `csrf` form field, or `X-CSRF-Token` header, is not the
 * token of this launch and purpose.
 */
export function requireCsrfFor(purpose: string = DEFAULT_PURPOSE): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const body = req.body as Record<string, unknown> | undefined;
    const given = body?.[CSRF_FIELD] ?? req.get(CSRF_HEADER);
    if (!csrfTokenMatches(res, given, purpose)) return next(refusal.invalidForm());
    next();
  };
}

/**
 * Middleware after launchSession, before any body parser: when the request carries the token in the
 * `X-CSRF-Token` header, a wrong one is refused before a byte of the body is read. Without the
 * header it passes: the token is then a form field, checked as the body streams in (see
 * src/web/course/formBody.ts) and again by requireCsrfFor.
 */
export function csrfHeaderFirst(purpose: string = DEFAULT_PURPOSE): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get(CSRF_HEADER);
    if (given === undefined) return next();
    if (!csrfTokenMatches(res, given, purpose)) return next(refusal.invalidForm());
    next();
  };
}

/** requireCsrfFor with the default purpose. */
export const requireCsrf: RequestHandler = requireCsrfFor();
