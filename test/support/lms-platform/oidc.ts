/**
 * The LMS side of the OIDC third-party launch: launches prepared for tests, the page that starts the login
 * initiation at the tool, and the authorisation endpoint that answers with a signed id_token.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { buildLaunchClaims, tamperClaims } from './claims.js';
import { absolute, PATHS, type PlatformContext } from './context.js';
import { autoSubmitPage, messagePage } from './html.js';
import type { LaunchOptions, PendingLaunch, ResourceLink } from './types.js';

const LAUNCH_TTL_MS = 60 * 60 * 1000;

let forgeryKey: KeyObject | undefined;
/** A key no one publishes, for 'bad-signature' tokens. */
function forgery(): KeyObject {
  forgeryKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return forgeryKey;
}

function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** Prepares a launch (who, where, what) and the hints that will identify it at the authorisation endpoint. */
export function createLaunch(ctx: PlatformContext, opts: LaunchOptions): PendingLaunch {
  const { store } = ctx;
  const now = Date.now();
  for (const [key, old] of store.launches) if (old.expiresAt < now) store.launches.delete(key);
  for (const [key, old] of store.deepLinkRequests)
    if (old.expiresAt < now) store.deepLinkRequests.delete(key);
  const client = store.client(opts.clientId ?? ctx.defaultClientId);
  const course = store.course(opts.courseId);
  const user = store.user(opts.sub);
  if (!store.enrolment(course.id, user.sub) && !user.admin && !opts.roles) {
    throw new Error(
      `${user.name} (${user.sub}) is not enrolled in course ${course.id}; enrol them or pass roles`,
    );
  }
  const deploymentId = opts.deploymentId ?? client.deploymentIds[0];
  const messageType = opts.messageType ?? 'LtiResourceLinkRequest';
  let link: ResourceLink | undefined;
  if (messageType === 'LtiResourceLinkRequest') {
    link = opts.resourceLinkId ? store.resourceLinks.get(opts.resourceLinkId) : undefined;
    if (opts.resourceLinkId && !link) {
      link = store.addResourceLink({
        id: opts.resourceLinkId,
        courseId: course.id,
        clientId: client.clientId,
        title: opts.resourceLinkTitle ?? `Resource ${opts.resourceLinkId}`,
      });
    }
    link ??= store.defaultResourceLink(course.id, client.clientId);
  }
  const targetLinkUri =
    opts.targetLinkUri ??
    (messageType === 'LtiDeepLinkingRequest'
      ? (client.deepLinkingUri ?? client.targetLinkUri)
      : (link?.url ?? client.targetLinkUri));
  const id = randomId(9);
  const messageHint =
    ctx.profile.flavour === 'canvas'
      ? ctx.keys.sign({
          verifier: randomId(),
          canvas_domain: new URL(ctx.url).host,
          context_type: 'Course',
          context_id: course.id,
          canvas_locale: opts.locale ?? 'en',
          exp: Math.floor(Date.now() / 1000) + LAUNCH_TTL_MS / 1000,
        })
      : JSON.stringify({ cmid: link ? Number(link.id) || link.id : 0, launchid: `ltilaunch${id}` });
  const launch: PendingLaunch = {
    id,
    courseId: course.id,
    sub: user.sub,
    clientId: client.clientId,
    deploymentId,
    messageType,
    targetLinkUri,
    ...(link ? { resourceLinkId: link.id } : {}),
    loginHint: ctx.profile.loginHintFor(user.sub),
    messageHint,
    expiresAt: Date.now() + LAUNCH_TTL_MS,
    options: { ...opts },
  };
  store.launches.set(id, launch);
  return launch;
}

/** The parameters of the login initiation request sent to the tool's OIDC initiation URL. */
export function loginParams(ctx: PlatformContext, launch: PendingLaunch): Record<string, string> {
  return {
    iss: ctx.issuer,
    login_hint: launch.loginHint,
    target_link_uri: launch.targetLinkUri,
    lti_message_hint: launch.messageHint,
    client_id: launch.clientId,
    lti_deployment_id: launch.deploymentId,
    ...ctx.profile.loginExtras,
    ...(ctx.storageTarget ? { lti_storage_target: ctx.storageTarget } : {}),
  };
}

export function loginUrlWithQuery(ctx: PlatformContext, launch: PendingLaunch): string {
  const url = new URL(ctx.store.client(launch.clientId).initiateLoginUri);
  for (const [k, v] of Object.entries(loginParams(ctx, launch))) url.searchParams.set(k, v);
  return url.toString();
}

export function launchStartPath(launch: PendingLaunch, method: 'POST' | 'GET' = 'POST'): string {
  return `${PATHS.launchStart}/${launch.id}${method === 'GET' ? '?method=get' : ''}`;
}

function param(source: Record<string, unknown>, name: string): string | undefined {
  const value = source[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function oidcRouter(ctx: PlatformContext): Router {
  const router = Router();

  router.get(`${PATHS.launchStart}/:id`, (req: Request, res: Response) => {
    const launch = ctx.store.launches.get(String(req.params.id));
    if (!launch || launch.expiresAt < Date.now()) {
      res.status(404).type('html').send(messagePage('Launch not found', 'This launch link has expired.'));
      return;
    }
    if (req.query.method === 'get') {
      res.redirect(302, loginUrlWithQuery(ctx, launch));
      return;
    }
    const action = ctx.store.client(launch.clientId).initiateLoginUri;
    res
      .type('html')
      .send(autoSubmitPage({ title: 'Launching Laurel', action, fields: loginParams(ctx, launch) }));
  });

  router.all(PATHS.auth, (req: Request, res: Response) => {
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.status(405).set('Allow', 'GET, POST').end();
      return;
    }
    const p = (req.method === 'GET' ? req.query : (req.body ?? {})) as Record<string, unknown>;
    const refuse = (error: string, description: string) => {
      ctx.store.refuse(PATHS.auth, error, description);
      res
        .status(400)
        .type('html')
        .send(messagePage('Launch refused', `${error}: ${description}`));
    };
    const clientId = param(p, 'client_id');
    const client = clientId ? ctx.store.clients.get(clientId) : undefined;
    if (!client) return refuse('unauthorized_client', `client_id "${clientId ?? ''}" is not registered`);
    const redirectUri = param(p, 'redirect_uri');
    if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
      return refuse('invalid_request', `redirect_uri "${redirectUri ?? ''}" is not registered for this tool`);
    }
    if (!(param(p, 'scope') ?? '').split(' ').includes('openid')) {
      return refuse('invalid_scope', 'scope must include openid');
    }
    if (param(p, 'response_type') !== 'id_token') {
      return refuse('unsupported_response_type', 'response_type must be id_token');
    }
    if (param(p, 'response_mode') !== 'form_post')
      return refuse('invalid_request', 'response_mode must be form_post');
    if (param(p, 'prompt') !== 'none') return refuse('invalid_request', 'prompt must be none');
    const nonce = param(p, 'nonce');
    if (!nonce) return refuse('invalid_request', 'nonce is required');
    const hint = param(p, 'lti_message_hint');
    const launch = [...ctx.store.launches.values()].find((l) => l.messageHint === hint);
    if (!launch || launch.expiresAt < Date.now() || launch.clientId !== client.clientId) {
      return refuse('invalid_request', 'lti_message_hint does not name a launch of this client');
    }
    if (param(p, 'login_hint') !== launch.loginHint) {
      return refuse('login_required', 'login_hint does not match the user of this launch');
    }
    const state = param(p, 'state');
    const idToken = issueIdToken(ctx, launch, redirectUri, nonce, state);
    res.type('html').send(
      autoSubmitPage({
        title: 'Launching Laurel',
        action: redirectUri,
        // Canvas names its storage frame again in the launch, for the tool's launch page.
        fields: { id_token: idToken, state, lti_storage_target: ctx.storageTarget ?? undefined },
      }),
    );
  });

  return router;
}

function issueIdToken(
  ctx: PlatformContext,
  launch: PendingLaunch,
  redirectUri: string,
  nonce: string,
  state: string | undefined,
): string {
  const { store } = ctx;
  const now = Math.floor(Date.now() / 1000) + Math.trunc(launch.options.clockOffsetSeconds ?? 0);
  let deepLinkData: string | undefined;
  if (launch.messageType === 'LtiDeepLinkingRequest') {
    deepLinkData = randomId();
    store.deepLinkRequests.set(deepLinkData, {
      clientId: launch.clientId,
      deploymentId: launch.deploymentId,
      courseId: launch.courseId,
      sub: launch.sub,
      expiresAt: Date.now() + LAUNCH_TTL_MS,
    });
  }
  const claims = buildLaunchClaims(ctx, {
    launch,
    client: store.client(launch.clientId),
    course: store.course(launch.courseId),
    user: store.user(launch.sub),
    courseRoles: store.enrolment(launch.courseId, launch.sub)?.roles ?? [],
    ...(launch.resourceLinkId ? { resourceLink: store.resourceLinks.get(launch.resourceLinkId) } : {}),
    nonce,
    ...(deepLinkData ? { deepLinkData } : {}),
    now,
  });
  const tamper = launch.options.tamper;
  tamperClaims(claims, tamper, now);
  // Exactly the claims built (and spoilt): an override may remove iat or make a claim malformed.
  const idToken = ctx.keys.signExact(claims, tamper === 'bad-signature' ? forgery() : undefined);
  store.idTokensIssued.push({
    launchId: launch.id,
    clientId: launch.clientId,
    courseId: launch.courseId,
    sub: launch.sub,
    messageType: launch.messageType,
    redirectUri,
    idToken,
    ...(state !== undefined ? { state } : {}),
    nonce,
    claims,
    ...(tamper ? { tamper } : {}),
  });
  return idToken;
}

export function authUrl(ctx: PlatformContext): string {
  return absolute(ctx, PATHS.auth);
}
