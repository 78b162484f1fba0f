import jwt from 'jsonwebtoken';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { LaunchCallback, LtiIdToken } from 'ltijs';
import type { Context } from '../context.js';
import type { PlatformDoc } from '../db/models/platform.js';
import { identityPlatformIdOf, isActivePlatform } from '../db/models/platform.js';
import { upsertLaunchIdentity } from '../identity/launch.js';
import { frameOriginsOf, originOf } from '../platforms/frameOrigins.js';
import { admitDeployment } from '../platforms/service.js';
import { CLAIMS, courseSightingOf, personSightingOf, rolesOf, type Claims } from './claims.js';
import { idTokenTimeRefusal } from './id-token.js';
import { requestRosterSync } from './jobs.js';
import { takeCookiePath } from './launch-cookies.js';
import { recordLaunchPath } from './launch-paths.js';
import type { LaunchPath, LoginStateStore } from './login-states.js';
import { LaunchRefusal, refusal, sendRefusal, type PageRenderer } from './refusals.js';
import { launchKind } from './roles.js';
import { platformKeysets } from './platformKeys.js';
import { platformForRequest } from './requestReads.js';

/** Where a launch lands, by kind; every page after the launch carries the ltik in its links and forms. */
export const COURSE_PATHS = {
  home: '/course',
  instructor: '/course/instructor',
  learner: '/course/learner',
  admin: '/course/admin',
  deepLink: '/course/deep-link',
} as const;

export const withLtik = (path: string, ltik: string) => `${path}?ltik=${encodeURIComponent(ltik)}`;

export type LaunchDeps = { ctx: Context; render: PageRenderer; states: LoginStateStore };

/** The verified claims of this request's id_token, kept by the pre-check for the launch handler. */
const CLAIMS_LOCAL = 'laurelClaims';

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Runs inside ltijs's app before its validation (its `serverAddon`), on bodies ltijs parsed:
 * - a login initiation without its required parameters gets a page naming them (ltijs answers JSON);
 * - an id_token without a nonce is refused: ltijs would accept it, and a nonce is what makes a
 *   replayed launch detectable;
 * - an id_token whose time claims are off by more than a minute is refused (idTokenTimeRefusal).
 */
export function preLaunchChecks(deps: LaunchDeps, routes: { login: string; launch: string }): RequestHandler {
  return (req, res, next) => {
    const fail = (refused: LaunchRefusal) =>
      sendRefusal(deps.render, req, res, refused, deps.ctx.logger).catch(next);
    if (req.path === routes.login) {
      const params = {
        ...(req.query as Record<string, unknown>),
        ...((req.body ?? {}) as Record<string, unknown>),
      };
      const missing = ['iss', 'login_hint', 'target_link_uri'].filter((name) => !text(params[name]));
      if (missing.length === 0) return next();
      deps
        .render('lti/refused', {
          cspNonce: res.locals.cspNonce,
          title: 'This sign-in request is incomplete',
          message: `The LMS's login request lacks ${missing.join(', ')}. Open Laurel from your course; if this keeps happening, ask your LMS administrator to check Laurel's login URL.`,
          code: 'invalid_login',
          status: 400,
          missing,
        })
        .then((html) => res.status(400).type('html').send(html), next);
      return;
    }
    if (req.path !== routes.launch || req.method !== 'POST') return next();
    const idToken = text((req.body as Record<string, unknown> | undefined)?.id_token);
    // With an ltik, ltijs reads the session and never looks at an id_token beside it: its claims are
    // unverified and must not reach the launch handler.
    if (!idToken || (req as Request & { token?: unknown }).token) return next();
    const decoded = jwt.decode(idToken, { complete: true });
    const claims = decoded?.payload;
    if (!claims || typeof claims !== 'object') return next(); // ltijs refuses what is not a JWT
    if (!text(claims.nonce)) return void fail(refusal.missingNonce());
    // Issue 17, item 6: iat/exp/nbf within a minute of skew, before ltijs (which accepts a future iat)
    // or the cookieless path sees the launch. Unverified claims suffice to refuse, never to accept.
    const timeRefusal = idTokenTimeRefusal(claims, deps.ctx.now());
    if (timeRefusal) return void fail(timeRefusal);
    res.locals[CLAIMS_LOCAL] = claims;
    // ltijs fetches the LMS's key set next: Laurel's cache answers it (platformKeys.ts), so it is
    // fetched here when missing, stale or without the token's key id. Best effort: on any failure
    // ltijs fetches it itself, as it always did, and verifies the token either way.
    primeKeyset(deps.ctx, req, claims, decoded.header.kid).then(
      () => next(),
      (err: unknown) => {
        deps.ctx.logger.debug({ err }, "the LMS's key set was not cached before the launch");
        next();
      },
    );
  };
}

/** Unverified claims pick the key set only: the verification itself is ltijs's (or Laurel's cookieless path's). */
const MAX_AUDIENCES_PRIMED = 3;

async function primeKeyset(ctx: Context, req: Request, claims: jwt.JwtPayload, kid: unknown): Promise<void> {
  if (typeof claims.iss !== 'string' || typeof kid !== 'string') return;
  const audiences = (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).filter(
    (a): a is string => typeof a === 'string',
  );
  for (const aud of audiences.slice(0, MAX_AUDIENCES_PRIMED)) {
    const platform = await platformForRequest(ctx, req, claims.iss, aud);
    if (!platform) continue;
    await platformKeysets(ctx).keys(platform.jwksUrl, kid);
    return;
  }
}

/** Who launched and through which id_token, as completeLaunch needs it. */
export type VerifiedLaunch = {
  claims: Claims;
  token: Pick<LtiIdToken, 'iss' | 'user' | 'clientId' | 'deploymentId'>;
  ltik: string;
  kind: 'resource' | 'deep-linking';
  path: LaunchPath;
};

/**
 * After a verified launch, whichever checked its state (ltijs's cookie, or Laurel for the cookieless
 * paths): checks what ltijs does not (the deployment), records who launched where, counts the path
 * the launch took, and answers the page for their role with the ltik. Throws a LaunchRefusal.
 */
export async function completeLaunch(
  deps: LaunchDeps,
  launch: VerifiedLaunch,
  req?: Request,
): Promise<string> {
  const { ctx } = deps;
  const { claims, token, ltik, kind, path } = launch;
  // With the request, the read its pre-check may have made already (the same moment's record).
  const platform = req
    ? await platformForRequest(ctx, req, token.iss, token.clientId)
    : await ctx.models.platforms.findOne({ issuer: token.iss, clientId: token.clientId }).lean<PlatformDoc>();
  if (!platform) throw refusal.unknownPlatform();
  // ltijs's inactive flag already stops a pending platform's logins; this is the second lock.
  if (!isActivePlatform(platform)) throw refusal.inactivePlatform();
  // A new installation of an authorised client (Canvas names its deployment only in its first
  // launch): recorded and admitted, or listed for approval, by the platform's deployment policy.
  if ((await admitDeployment(ctx, platform, token.deploymentId)) === 'pending')
    throw refusal.unknownDeployment();
  await learnFrameOrigins(ctx, platform, claims).catch((err: unknown) =>
    // Framing falls back to the issuer's and login's origins; the launch goes on.
    ctx.logger.warn({ err, platformId: String(platform._id) }, 'frame origins could not be recorded'),
  );

  const roles = rolesOf(claims);
  const who = launchKind(roles);
  if (kind === 'deep-linking' && who === 'learner') throw refusal.notAllowed();
  // Registrations of one LMS (dynamic and manual) share its courses and people.
  const { course } = await upsertLaunchIdentity(ctx.models, identityPlatformIdOf(platform), {
    course: courseSightingOf(claims, platform.lms),
    person: personSightingOf(claims, platform.lms),
  });
  const membershipsUrl = (claims[CLAIMS.nrps] as { context_memberships_url?: unknown } | undefined)
    ?.context_memberships_url;
  if (who !== 'learner' && course && typeof membershipsUrl === 'string') {
    await requestRosterSync(ctx, {
      platformId: String(platform._id),
      courseRef: String(course._id),
      membershipsUrl,
    }).catch((err: unknown) =>
      // The roster can wait for the daily sync; the launch must not fail for it.
      ctx.logger.warn({ err, courseRef: String(course._id) }, 'roster sync could not be queued'),
    );
  }
  await recordLaunchPath(ctx, platform._id, path).catch((err: unknown) =>
    // A lost count must not cost the learner their launch.
    ctx.logger.warn({ err, platformId: String(platform._id), path }, 'launch path could not be counted'),
  );
  ctx.logger.info(
    {
      platformId: String(platform._id),
      courseRef: course ? String(course._id) : null,
      kind: who,
      messageType: kind,
      path,
    },
    'LTI launch',
  );
  return withLtik(kind === 'deep-linking' ? COURSE_PATHS.deepLink : COURSE_PATHS[who], ltik);
}

/** At most this many learned origins per platform (a school's Canvas address, its vanity domain, …). */
const MAX_FRAME_ORIGINS = 20;

/**
 * Remembers where the LMS shows Laurel from, as its signed launch says (the return URLs), so that
 * course pages may be framed there (src/web/framing.ts). One write only when an origin is new.
 */
async function learnFrameOrigins(ctx: Context, platform: PlatformDoc, claims: Claims): Promise<void> {
  const presentation = claims['https://purl.imsglobal.org/spec/lti/claim/launch_presentation'] as
    { return_url?: unknown } | undefined;
  const deepLinking = claims['https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings'] as
    { deep_link_return_url?: unknown } | undefined;
  const known = new Set(frameOriginsOf([platform]));
  const fresh = [
    ...new Set(
      [originOf(presentation?.return_url), originOf(deepLinking?.deep_link_return_url)].filter(
        (o): o is string => !!o && !known.has(o),
      ),
    ),
  ];
  if (fresh.length === 0 || (platform.frameOrigins?.length ?? 0) >= MAX_FRAME_ORIGINS) return;
  await ctx.models.platforms.updateOne(
    { _id: platform._id },
    { $addToSet: { frameOrigins: { $each: fresh } } },
  );
}

/**
 * ltijs validated the id_token (signature, audience, expiry, nonce, and the state against its
 * cookie); Laurel completes the launch and sends the browser on with a 303, so that a reload never
 * re-posts the launch.
 */
export function launchHandler(deps: LaunchDeps, kind: 'resource' | 'deep-linking'): LaunchCallback {
  const { ctx } = deps;
  return (token: LtiIdToken, req: Request, res: Response, next: NextFunction) => {
    const handle = async () => {
      const ltik = res.locals.ltik as string | undefined;
      const claims = res.locals[CLAIMS_LOCAL] as Claims | undefined;
      if (!claims || !ltik) {
        // An ltik-carrying request to the launch URL (not a launch): continue on the course pages.
        const given = text(req.query.ltik) ?? text((req.body as Record<string, unknown> | undefined)?.ltik);
        if (given) return void res.redirect(303, withLtik(COURSE_PATHS.home, given));
        return sendRefusal(deps.render, req, res, refusal.noLaunch(), ctx.logger);
      }
      // Belt and braces: the claims kept by the pre-check are those of the token ltijs just verified.
      if (
        claims.iss !== token.iss ||
        claims.sub !== token.user ||
        claims[CLAIMS.deploymentId] !== token.deploymentId
      )
        return sendRefusal(deps.render, req, res, refusal.invalidLaunch(), ctx.logger);
      // Which cookie path its login took (a window Laurel opened, or not), marked by a cookie.
      const path = takeCookiePath(req, res, (req.body as Record<string, unknown> | undefined)?.state);
      try {
        res.redirect(303, await completeLaunch(deps, { claims, token, ltik, kind, path }, req));
      } catch (err) {
        if (!(err instanceof LaunchRefusal)) throw err;
        await sendRefusal(deps.render, req, res, err, ctx.logger);
      }
    };
    handle().catch(next);
  };
}
