import jwt from 'jsonwebtoken';
import type { Request, Response } from 'express';
import type { Models } from '../db/models/index.js';
import { HttpError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Launches Laurel refuses, each with a status and a message a person can act on. ltijs reports its
 * failures as codes (or jsonwebtoken's messages); they are translated here, never shown raw.
 */
export type RefusalCode =
  | 'no_launch'
  | 'missing_state'
  | 'state_mismatch'
  | 'bad_signature'
  | 'wrong_audience'
  | 'unknown_platform'
  | 'inactive_platform'
  | 'unknown_deployment'
  | 'missing_nonce'
  | 'reused_nonce'
  | 'reused_state'
  | 'state_not_confirmed'
  | 'cookies_disabled'
  | 'invalid_form'
  | 'expired'
  | 'clock_skew'
  | 'invalid_request'
  | 'invalid_launch'
  | 'keys_unreachable'
  | 'session_expired'
  | 'not_allowed';

/** An HttpError, so that one escaping to the app's error handler still answers its status and message. */
export class LaunchRefusal extends HttpError {
  constructor(
    code: RefusalCode,
    status: 401 | 403,
    readonly title: string,
    message: string,
  ) {
    super(status, code, message);
    this.name = 'LaunchRefusal';
  }
}

const AGAIN = 'Go back to your course and open Laurel again.';

export const refusal = {
  noLaunch: () =>
    new LaunchRefusal(
      'no_launch',
      401,
      'Open Laurel from your course',
      `This page only opens from a course. ${AGAIN}`,
    ),
  missingState: () =>
    new LaunchRefusal(
      'missing_state',
      401,
      'The sign-in could not be completed',
      'Laurel could not match this launch to a sign-in it started: its state is missing, was already used, ' +
        `or your browser blocked Laurel's cookie. ${AGAIN}`,
    ),
  stateMismatch: () =>
    new LaunchRefusal(
      'state_mismatch',
      401,
      'The sign-in could not be completed',
      `This launch came from another LMS than the sign-in Laurel started. ${AGAIN}`,
    ),
  badSignature: () =>
    new LaunchRefusal(
      'bad_signature',
      401,
      'The launch could not be verified',
      'The launch was not signed with a key of your LMS, so Laurel cannot trust it. If this keeps happening, ' +
        'ask your LMS administrator to check the public keyset URL registered with Laurel.',
    ),
  wrongAudience: () =>
    new LaunchRefusal(
      'wrong_audience',
      401,
      'The launch was meant for another tool',
      'The launch names a client id that is not registered with Laurel. Ask your LMS administrator to check ' +
        "Laurel's client id.",
    ),
  unknownPlatform: () =>
    new LaunchRefusal(
      'unknown_platform',
      401,
      'This LMS is not registered',
      'Laurel does not know the LMS this launch came from. Your LMS administrator needs to register it first.',
    ),
  inactivePlatform: () =>
    new LaunchRefusal(
      'inactive_platform',
      403,
      'This LMS is not activated',
      'Your LMS is registered with Laurel but not activated yet. Ask your LMS administrator.',
    ),
  unknownDeployment: () =>
    new LaunchRefusal(
      'unknown_deployment',
      403,
      'This installation of Laurel is not registered',
      'The launch came from an installation (deployment) of Laurel in your LMS that Laurel has not been told to accept. ' +
        'Laurel has noted it as waiting for approval: ask your Laurel administrator to approve it ' +
        '(in the platform’s pending deployments, or with the command `platform add-deployment`).',
    ),
  missingNonce: () =>
    new LaunchRefusal(
      'missing_nonce',
      401,
      'The launch could not be verified',
      `The launch carries no nonce, so Laurel cannot tell it from a replayed one. ${AGAIN}`,
    ),
  reusedNonce: () =>
    new LaunchRefusal(
      'reused_nonce',
      401,
      'This launch was already used',
      `Each launch can be used once, and this one was used before (a reload or a replay). ${AGAIN}`,
    ),
  reusedState: () =>
    new LaunchRefusal(
      'reused_state',
      401,
      'This launch was already used',
      `Each launch can be used once, and this one was used before (a reload or a replay). ${AGAIN}`,
    ),
  stateNotConfirmed: () =>
    new LaunchRefusal(
      'state_not_confirmed',
      401,
      'The sign-in could not be completed',
      'Laurel could not confirm with your LMS that this sign-in started in this browser, so it did not ' +
        `sign you in. ${AGAIN}`,
    ),
  cookiesDisabled: () =>
    new LaunchRefusal(
      'cookies_disabled',
      403,
      'Laurel needs cookies to sign you in',
      "Your browser does not keep Laurel's cookies, even in a window of its own. Allow cookies for this site " +
        `in your browser's settings (or leave its private mode), then ${AGAIN.charAt(0).toLowerCase()}${AGAIN.slice(1)}`,
    ),
  invalidForm: () =>
    new LaunchRefusal(
      'invalid_form',
      403,
      'This form could not be accepted',
      'The form has expired or did not come from this Laurel page. Go back, reload the page and try again.',
    ),
  expired: () =>
    new LaunchRefusal(
      'expired',
      401,
      'The launch has expired',
      `The launch is too old to be accepted. ${AGAIN} If this keeps happening, the clock of your LMS or of Laurel may be wrong.`,
    ),
  keysUnreachable: () =>
    new LaunchRefusal(
      'keys_unreachable',
      401,
      'The launch could not be verified',
      "Laurel could not fetch your LMS's public keys to check the launch's signature. Try again in a moment; if " +
        'this keeps happening, ask your LMS administrator to check the public keyset URL registered with Laurel.',
    ),
  invalidLaunch: () =>
    new LaunchRefusal(
      'invalid_launch',
      401,
      'The launch could not be accepted',
      `The launch message is incomplete or malformed. ${AGAIN}`,
    ),
  sessionExpired: () =>
    new LaunchRefusal(
      'session_expired',
      401,
      'Your Laurel session has ended',
      `For your security it lasts a few hours. ${AGAIN}`,
    ),
  clockSkew: (aheadBySeconds: number, allowedSeconds: number) =>
    new LaunchRefusal(
      'clock_skew',
      401,
      'The launch is dated in the future',
      `Your LMS dated this launch ${Math.round(aheadBySeconds)} seconds ahead of Laurel's clock; Laurel accepts ` +
        `at most ${allowedSeconds} seconds of difference. ${AGAIN} If this keeps happening, the clock of your ` +
        'LMS or of Laurel is wrong: tell your LMS administrator.',
    ),
  notAllowed: () =>
    new LaunchRefusal('not_allowed', 403, 'Not allowed', 'This page is for instructors of this course.'),
};

/** ltijs's failure (`res.locals.err.details.message`) → a refusal; the raw id_token helps tell some apart. */
export async function refusalForLtijsError(
  message: string,
  idToken: string | undefined,
  models: Models,
): Promise<LaunchRefusal> {
  switch (message) {
    case 'MISSING_VALIDATION_COOKIE':
      return refusal.missingState();
    case 'ISS_CLAIM_DOES_NOT_MATCH':
      return refusal.stateMismatch();
    case 'NONCE_ALREADY_RECEIVED':
      return refusal.reusedNonce();
    case 'TOKEN_TOO_OLD':
    case 'jwt expired':
      return refusal.expired();
    case 'PLATFORM_NOT_ACTIVATED':
      return refusal.inactivePlatform();
    case 'NO_LTIK_OR_IDTOKEN_FOUND':
      return refusal.noLaunch();
    case 'IDTOKEN_NOT_FOUND_DB':
    case 'CONTEXTTOKEN_NOT_FOUND_DB':
      return refusal.sessionExpired();
    case 'UNREGISTERED_PLATFORM':
      return (await issuerIsKnown(idToken, models)) ? refusal.wrongAudience() : refusal.unknownPlatform();
    case 'invalid signature':
    case 'KEY_NOT_FOUND':
    case 'KID_NOT_FOUND':
    case 'KEYSET_NOT_FOUND':
    case 'ALG_NOT_RS256':
    case 'invalid algorithm':
      return refusal.badSignature();
    default:
      // ltijs fetches the platform's JWKS with `got`, whose network and HTTP errors arrive as messages.
      if (/^(connect |getaddrinfo |Response code |Timeout |read ECONNRESET|socket hang up)/.test(message))
        return refusal.keysUnreachable();
      return refusal.invalidLaunch();
  }
}

/** A known issuer with an unknown client id means the token was addressed to another tool. */
async function issuerIsKnown(idToken: string | undefined, models: Models): Promise<boolean> {
  const claims = idToken ? jwt.decode(idToken) : null;
  const iss = claims && typeof claims === 'object' ? claims.iss : undefined;
  return typeof iss === 'string' && !!(await models.platforms.exists({ issuer: iss }));
}

export type PageRenderer = (view: string, locals: Record<string, unknown>) => Promise<string>;

/**
 * Answers a refusal as a page. ltijs calls some of its handlers without `next`, so the page is
 * rendered here with Laurel's own view engine rather than passed down the error chain.
 */
export async function sendRefusal(
  render: PageRenderer,
  req: Request,
  res: Response,
  refused: LaunchRefusal,
  logger: Logger,
): Promise<void> {
  logger.info({ refusal: refused.code, status: refused.status, path: req.path }, 'LTI launch refused');
  const html = await render('lti/refused', {
    cspNonce: res.locals.cspNonce,
    title: refused.title,
    message: refused.message,
    code: refused.code,
    status: refused.status,
  });
  res.status(refused.status).set('Cache-Control', 'no-store').type('html').send(html);
}
