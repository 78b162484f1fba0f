import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { CLAIMS, type Claims } from './claims.js';
import type { LtiDatabase } from './database.js';
import {
  ltiPlatformRecord,
  platformIsActive,
  verifyCookielessIdToken,
  type LtiPlatformRecord,
} from './id-token.js';
import { completeLaunch, type LaunchDeps } from './launch.js';
import {
  clearLaunchCookieOptions as clearOptions,
  hasLtijsStateCookie,
  launchCookieOptions as cookieOptions,
  markNewWindowLogin,
} from './launch-cookies.js';
import { storeLtijsSession } from './ltijs-session.js';
import {
  LOGIN_STATE_TTL_S,
  bindingCookieName,
  storageKeyFor,
  type LaunchPath,
  type ProofFailure,
} from './login-states.js';
import { LaunchRefusal, refusal, sendRefusal } from './refusals.js';

/**
 * Launches that survive a browser which keeps Laurel's cookies out of the LMS's iframe (Safari,
 * private windows, Chrome without third-party cookies). Runs inside ltijs's app, before ltijs:
 *
 * Login initiation (/lti/login): inside a frame, a first page sets a test cookie and posts the login
 * back to Laurel. If the cookie came back, ltijs's own login runs (the cookie path). If not:
 * - the LMS offers platform storage (`lti_storage_target`): Laurel keeps the state and nonce in
 *   MongoDB, its page stores the state in the LMS's storage by postMessage and goes on to the LMS;
 * - otherwise its page asks for storage access (and stays in the frame if granted: a cookie of
 *   Laurel's then binds the state), or continues the same login in a new top-level window, where
 *   ltijs's cookie path works.
 * Either way the authentication request leaves as a form post, so no state or nonce sits in a URL
 * the LMS logs.
 *
 * Launch (/lti/launch) with a state Laurel issued: Laurel verifies the id_token itself (every check
 * ltijs makes, see id-token.ts), then answers a page that proves the state (reads it back from the
 * platform's storage, or sends the binding cookie) to /lti/launch/complete, which uses the state up
 * and makes the same ltik session as ltijs. ltijs's cookie check is skipped for exactly these states,
 * and no session exists before Laurel has checked the state.
 */

/** The login initiation's parameters that Laurel passes on (from the LMS, to a probe or a new window). */
export const LOGIN_PARAMS = [
  'iss',
  'login_hint',
  'target_link_uri',
  'lti_message_hint',
  'client_id',
  'lti_deployment_id',
  'lti_storage_target',
] as const;
const STAGE_PARAM = 'laurel_stage';
const PATH_PARAM = 'laurel_path';
export const PROBE_COOKIE = 'laurel_probe';

type Field = { name: string; value: string };
type LoginParams = Partial<
  Record<(typeof LOGIN_PARAMS)[number] | typeof STAGE_PARAM | typeof PATH_PARAM, string>
>;

export type CookielessDeps = LaunchDeps & { db: LtiDatabase };

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

function loginParamsOf(req: Request): LoginParams {
  const all = {
    ...(req.query as Record<string, unknown>),
    ...((req.body ?? {}) as Record<string, unknown>),
  };
  const out: LoginParams = {};
  for (const name of [...LOGIN_PARAMS, STAGE_PARAM, PATH_PARAM] as const) {
    const value = text(all[name]);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

const fieldsOf = (record: Record<string, string | undefined>): Field[] =>
  Object.entries(record)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([name, value]) => ({ name, value }));

/** The OIDC authentication request, as ltijs builds it. */
function authRequest(params: LoginParams, platform: LtiPlatformRecord, state: string, nonce: string) {
  return fieldsOf({
    response_type: 'id_token',
    response_mode: 'form_post',
    id_token_signed_response_alg: 'RS256',
    scope: 'openid',
    client_id: params.client_id ?? platform.clientId,
    redirect_uri: (params.target_link_uri ?? '').split('?')[0],
    login_hint: params.login_hint,
    nonce,
    prompt: 'none',
    state,
    lti_message_hint: params.lti_message_hint,
    lti_deployment_id: params.lti_deployment_id,
  });
}

/** The login again, for a new top-level window (where the LMS's storage frame does not exist). */
function windowFields(params: LoginParams): Field[] {
  const { lti_storage_target: _target, laurel_stage: _stage, laurel_path: _path, ...rest } = params;
  return fieldsOf({ ...rest, [PATH_PARAM]: 'new-window' });
}

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};

export function cookielessRoutes(
  deps: CookielessDeps,
  routes: { login: string; launch: string },
): RequestHandler {
  const { ctx, db, states } = deps;

  const page = async (res: Response, view: string, locals: Record<string, unknown>, status = 200) => {
    const html = await deps.render(view, { cspNonce: res.locals.cspNonce, ...locals });
    res.status(status).set('Cache-Control', 'no-store').type('html').send(html);
  };
  const refuse = (req: Request, res: Response, refused: LaunchRefusal) =>
    sendRefusal(deps.render, req, res, refused, ctx.logger);
  const jsonRefusal = (res: Response, refused: LaunchRefusal) =>
    res
      .status(refused.status)
      .set('Cache-Control', 'no-store')
      .json({ error: refused.code, status: refused.status, title: refused.title, message: refused.message });

  /** The platform of a login, as ltijs would find it, or the refusal ltijs would give. */
  const platformOf = async (params: LoginParams): Promise<LtiPlatformRecord> => {
    const record = await ltiPlatformRecord(db, params.iss!, params.client_id);
    if (!record) throw refusal.unknownPlatform();
    if (!(await platformIsActive(db, record))) throw refusal.inactivePlatform();
    return record;
  };

  /**
   * ltijs answers its login with a redirect to the LMS carrying the state and nonce in the query:
   * Laurel marks a login continued in a new window (launch-cookies.ts) and sends the same request
   * as a form post instead.
   */
  const postInsteadOfRedirect = (res: Response, path: 'cookie' | 'new-window') => {
    const redirect = res.redirect.bind(res) as (...args: unknown[]) => void;
    (res as unknown as { redirect: (...args: unknown[]) => void }).redirect = (...args: unknown[]) => {
      let url: URL;
      try {
        url = new URL(String(args[args.length - 1]));
      } catch {
        return redirect(...args);
      }
      const state = url.searchParams.get('state');
      const clientId = url.searchParams.get('client_id');
      if (!state || !clientId || url.searchParams.get('response_type') !== 'id_token')
        return redirect(...args);
      const fields = [...url.searchParams.entries()].map(([name, value]) => ({ name, value }));
      url.search = '';
      if (path === 'new-window') markNewWindowLogin(res, state);
      page(res, 'lti/auth-request', { title: 'Signing you in', action: url.toString(), fields }).catch(
        (err: unknown) => {
          ctx.logger.warn({ err, path }, 'LTI login: falling back to a redirect to the LMS');
          if (!res.headersSent) redirect(...args);
        },
      );
    };
  };

  async function login(req: Request, res: Response, next: NextFunction) {
    const params = loginParamsOf(req);
    if (!params.iss || !params.login_hint || !params.target_link_uri) return next();
    // An unknown or inactive LMS is refused at once, as ltijs would, before any page of Laurel's runs.
    const platform = await platformOf(params);
    const newWindow = params.laurel_path === 'new-window';
    // A top-level page (a new window, or an LMS that opens Laurel in one) has first-party cookies.
    const topLevel = req.get('sec-fetch-dest') === 'document';
    const probed = params.laurel_stage === 'probe';
    if (!topLevel && !probed) {
      res.cookie(PROBE_COOKIE, '1', cookieOptions(60_000));
      const { laurel_stage: _s, ...rest } = params;
      return page(res, 'lti/login-probe', {
        title: 'Opening Laurel',
        fields: fieldsOf({ ...rest, [STAGE_PARAM]: 'probe' }),
      });
    }
    const cookiesWork = topLevel || req.cookies?.[PROBE_COOKIE] === '1';
    if (probed) res.clearCookie(PROBE_COOKIE, clearOptions);
    if (cookiesWork) {
      postInsteadOfRedirect(res, newWindow ? 'new-window' : 'cookie');
      return next();
    }
    if (newWindow) return refuse(req, res, refusal.cookiesDisabled());
    const target = params.lti_storage_target;
    if (target) {
      const platformOrigin = originOf(platform.authEndpoint);
      if (!platformOrigin) throw new Error(`the LMS ${params.iss} has no valid authorisation endpoint`);
      const issued = await states.issue({
        path: 'platform-storage',
        issuer: params.iss,
        clientId: platform.clientId,
        platformOrigin,
        storageTarget: target,
      });
      ctx.logger.info({ issuer: params.iss, path: 'platform-storage' }, 'LTI login without cookies');
      return page(res, 'lti/login', {
        title: 'Signing you in',
        mode: 'platform-storage',
        platformOrigin,
        storageTarget: target,
        stateKey: storageKeyFor(issued.state),
        state: issued.state,
        authAction: platform.authEndpoint,
        authFields: authRequest(params, platform, issued.state, issued.nonce),
        windowFields: windowFields(params),
      });
    }
    ctx.logger.info({ issuer: params.iss, path: 'blocked' }, 'LTI login without cookies');
    return page(res, 'lti/login', {
      title: 'Open Laurel',
      mode: 'blocked',
      windowFields: windowFields(params),
    });
  }

  /**
   * Storage access was granted to the login page: `bind` issues the state with a binding cookie,
   * `confirm` checks that the cookie came back (else the page opens a new window instead).
   */
  async function storageAccess(req: Request, res: Response) {
    if (req.method !== 'POST') return void res.status(405).set('Allow', 'POST').end();
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.step === 'bind') {
      const params: LoginParams = {};
      const given = (body.params ?? {}) as Record<string, unknown>;
      for (const name of LOGIN_PARAMS) if (text(given[name])) params[name] = given[name] as string;
      if (!params.iss || !params.login_hint || !params.target_link_uri)
        return jsonRefusal(res, refusal.invalidLaunch());
      const platform = await platformOf(params);
      const issued = await states.issue({
        path: 'storage-access',
        issuer: params.iss,
        clientId: platform.clientId,
      });
      res.cookie(bindingCookieName(issued.id), issued.binding!, cookieOptions(LOGIN_STATE_TTL_S * 1000));
      ctx.logger.info({ issuer: params.iss, path: 'storage-access' }, 'LTI login without cookies');
      return void res.set('Cache-Control', 'no-store').json({
        state: issued.state,
        action: platform.authEndpoint,
        fields: authRequest(params, platform, issued.state, issued.nonce),
      });
    }
    if (body.step === 'confirm') {
      const found = await states.find(body.state);
      const binding = found ? req.cookies?.[bindingCookieName(found._id)] : undefined;
      const confirmed = await states.confirmBinding(body.state, binding);
      if (!confirmed)
        return void res.status(409).set('Cache-Control', 'no-store').json({ error: 'cookies_blocked' });
      return void res.set('Cache-Control', 'no-store').json({ ok: true });
    }
    return jsonRefusal(res, refusal.invalidLaunch());
  }

  async function launchPost(req: Request, res: Response, next: NextFunction) {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const idToken = text(body.id_token);
    // With an ltik, ltijs reads the session; without a state Laurel issued, ltijs checks its cookie.
    if (!idToken || (req as Request & { token?: unknown }).token) return next();
    // ltijs's own state (its signed cookie came with it) is ltijs's to check: no look-up.
    if (hasLtijsStateCookie(req, body.state)) return next();
    const found = await states.find(body.state);
    if (!found || found.verifier !== 'laurel') return next();
    const posted = await states.markPosted(body.state);
    if (!posted)
      return refuse(
        req,
        res,
        found.stage === 'binding' ? refusal.stateNotConfirmed() : refusal.reusedState(),
      );
    const { doc, completion } = posted;
    let claims: Claims;
    try {
      claims = await verifyCookielessIdToken(ctx, db, idToken, doc);
    } catch (err) {
      await states.discard(doc._id);
      if (err instanceof LaunchRefusal) return refuse(req, res, err);
      throw err;
    }
    await states.attachClaims(doc._id, claims);
    const storageTarget = text(body.lti_storage_target) ?? doc.storageTarget ?? '';
    return page(res, 'lti/launch', {
      title: 'Signing you in',
      mode: doc.path,
      completion,
      completeUrl: `/lti${routes.launch}/complete`,
      ...(doc.path === 'platform-storage'
        ? { stateKey: storageKeyFor(body.state as string), platformOrigin: doc.platformOrigin, storageTarget }
        : {}),
    });
  }

  const proofRefusal = (reason: ProofFailure) =>
    reason === 'unknown_or_used' ? refusal.reusedState() : refusal.stateNotConfirmed();

  async function complete(req: Request, res: Response) {
    if (req.method !== 'POST') return void res.status(405).set('Allow', 'POST').end();
    const body = (req.body ?? {}) as Record<string, unknown>;
    const completion = text(body.completion) ?? '';
    const id = completion.slice(0, Math.max(0, completion.indexOf('.')));
    const bindingName = id ? bindingCookieName(id) : undefined;
    const binding = bindingName ? req.cookies?.[bindingName] : undefined;
    const result = await states.complete(completion, { state: body.state, origin: body.origin, binding });
    if (bindingName && binding !== undefined) res.clearCookie(bindingName, clearOptions);
    if (!result.ok) {
      const refused = proofRefusal(result.reason);
      ctx.logger.info(
        { refusal: refused.code, reason: result.reason, path: result.doc?.path ?? null },
        'LTI launch refused',
      );
      return void jsonRefusal(res, refused);
    }
    const { doc } = result;
    const claims = doc.claims;
    const platform = await ltiPlatformRecord(db, doc.issuer, doc.clientId);
    if (!claims || !platform)
      return void jsonRefusal(res, platform ? refusal.invalidLaunch() : refusal.unknownPlatform());
    const { ltik } = await storeLtijsSession(
      db,
      ctx.config.ltiKey,
      claims,
      { clientId: doc.clientId, kid: platform.kid },
      routes.launch,
    );
    const kind = claims[CLAIMS.messageType] === 'LtiDeepLinkingRequest' ? 'deep-linking' : 'resource';
    try {
      const location = await completeLaunch(deps, {
        claims,
        token: {
          iss: doc.issuer,
          user: claims.sub as string,
          clientId: doc.clientId,
          deploymentId: claims[CLAIMS.deploymentId] as string,
        },
        ltik,
        kind,
        path: doc.path as LaunchPath,
      });
      res.set('Cache-Control', 'no-store').json({ location });
    } catch (err) {
      if (!(err instanceof LaunchRefusal)) throw err;
      ctx.logger.info({ refusal: err.code, path: doc.path }, 'LTI launch refused');
      jsonRefusal(res, err);
    }
  }

  return (req, res, next) => {
    const run = async () => {
      if (req.path === routes.login) return login(req, res, next);
      if (req.path === `${routes.login}/storage-access`) return storageAccess(req, res);
      if (req.path === `${routes.launch}/complete`) return complete(req, res);
      if (req.path === routes.launch && req.method === 'POST') return launchPost(req, res, next);
      next();
    };
    run().catch((err: unknown) => {
      if (err instanceof LaunchRefusal) {
        if (req.path === routes.login || req.path === routes.launch) return refuse(req, res, err).catch(next);
        return void jsonRefusal(res, err);
      }
      next(err);
    });
  };
}
