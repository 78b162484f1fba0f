/**
 * LTI Dynamic Registration 1.0, platform side: the OpenID configuration, one-time registration tokens, and the
 * registration endpoint that validates the tool's client registration and creates a client and a deployment.
 */
import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { absolute, PATHS, type PlatformContext } from './context.js';
import { acceptedAudiences } from './token.js';
import { SERVICE_SCOPES, type PrivacyLevel, type ToolClient } from './types.js';

const TOOL_CONFIG = 'https://purl.imsglobal.org/spec/lti-tool-configuration';
const PLATFORM_CONFIG = 'https://purl.imsglobal.org/spec/lti-platform-configuration';
const CANVAS_PRIVACY = 'https://canvas.instructure.com/lti/privacy_level';
const CLAIMS_SUPPORTED = [
  'sub',
  'iss',
  'name',
  'given_name',
  'family_name',
  'nickname',
  'picture',
  'email',
  'locale',
];

export function openidConfiguration(ctx: PlatformContext): Record<string, unknown> {
  const canvas = ctx.profile.flavour === 'canvas';
  return {
    issuer: ctx.issuer,
    authorization_endpoint: absolute(ctx, PATHS.auth),
    token_endpoint: absolute(ctx, PATHS.token),
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256'],
    jwks_uri: absolute(ctx, PATHS.jwks),
    registration_endpoint: absolute(ctx, PATHS.register),
    scopes_supported: ['openid', ...SERVICE_SCOPES],
    response_types_supported: ['id_token'],
    subject_types_supported: canvas ? ['public'] : ['public', 'pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    claims_supported: CLAIMS_SUPPORTED,
    // Canvas names an authorization server (the audience of client assertions); its token endpoint accepts it.
    ...(canvas ? { authorization_server: acceptedAudiences(ctx)[1] } : {}),
    [PLATFORM_CONFIG]: {
      product_family_code: ctx.profile.productFamilyCode,
      version: ctx.profile.version,
      messages_supported: ctx.profile.messagesSupported,
      variables: ctx.profile.variables,
      ...(canvas ? { 'https://canvas.instructure.com/lti/account_name': ctx.name } : {}),
    },
  };
}

/** A one-time registration token: a JWT this platform signs, naming the client id the registration will get. */
export function issueRegistrationToken(ctx: PlatformContext): string {
  const jti = randomUUID();
  const clientId = ctx.store.newClientId();
  ctx.store.registrationTokens.set(jti, { clientId, used: false });
  const now = Math.floor(Date.now() / 1000);
  return ctx.keys.sign({ sub: clientId, scope: 'reg', jti, iat: now, exp: now + 3600 });
}

class RegistrationError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

function bearer(req: Request): string | undefined {
  const [scheme, value] = (req.get('authorization') ?? '').split(' ');
  return scheme?.toLowerCase() === 'bearer' && value ? value : undefined;
}

function tokenEntry(ctx: PlatformContext, token: string | undefined) {
  if (!token)
    throw new RegistrationError(401, 'invalid_token', 'the registration token is required as a Bearer token');
  let jti: unknown;
  try {
    jti = ctx.keys.verifyOwn(token).jti;
  } catch {
    throw new RegistrationError(401, 'invalid_token', 'the registration token is not valid');
  }
  const entry = typeof jti === 'string' ? ctx.store.registrationTokens.get(jti) : undefined;
  if (!entry) throw new RegistrationError(401, 'invalid_token', 'the registration token is unknown');
  if (entry.used)
    throw new RegistrationError(401, 'token_already_used', 'the registration token was already used');
  return entry;
}

const isEmpty = (v: unknown) => v === undefined || v === null || v === '';

function invalid(description: string): never {
  throw new RegistrationError(400, 'invalid_client_metadata', description);
}

function isUrl(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}

/** Checks a client registration the way the flavour does; throws a 400 naming the first offending field. */
export function validateRegistration(ctx: PlatformContext, body: Record<string, unknown>) {
  for (const name of ctx.profile.requiredRegistrationFields) {
    if (isEmpty(body[name])) invalid(`missing required attribute ${name}`);
  }
  const config = body[TOOL_CONFIG] as Record<string, unknown> | undefined;
  if (isEmpty(config) || typeof config !== 'object') invalid(`missing required attribute ${TOOL_CONFIG}`);
  for (const name of ctx.profile.requiredToolConfigFields) {
    if (isEmpty(config[name])) invalid(`missing required attribute ${TOOL_CONFIG}.${name}`);
  }
  if (body.application_type !== undefined && body.application_type !== 'web')
    invalid('application_type must be web');
  const grants = body.grant_types;
  if (
    grants !== undefined &&
    !(Array.isArray(grants) && grants.includes('implicit') && grants.includes('client_credentials'))
  ) {
    invalid('grant_types must include implicit and client_credentials');
  }
  if (!Array.isArray(body.response_types) || !body.response_types.includes('id_token')) {
    invalid('response_types must include id_token');
  }
  if (body.token_endpoint_auth_method !== 'private_key_jwt')
    invalid('token_endpoint_auth_method must be private_key_jwt');
  const redirects = body.redirect_uris;
  if (!Array.isArray(redirects) || redirects.length === 0 || !redirects.every(isUrl)) {
    invalid('redirect_uris must be a non-empty array of URLs');
  }
  for (const name of ['initiate_login_uri', 'jwks_uri'] as const)
    if (!isUrl(body[name])) invalid(`${name} must be a URL`);
  if (!isUrl(config.target_link_uri)) invalid(`${TOOL_CONFIG}.target_link_uri must be a URL`);
  const domains = [
    config.domain,
    ...(Array.isArray(config.secondary_domains) ? config.secondary_domains : []),
  ];
  const target = new URL(config.target_link_uri);
  if (!domains.includes(target.host) && !domains.includes(target.hostname)) {
    invalid(`${TOOL_CONFIG}.target_link_uri is not on the tool's domain`);
  }
  if (config.claims !== undefined && !Array.isArray(config.claims))
    invalid(`${TOOL_CONFIG}.claims must be an array`);
  const messages = config.messages ?? [];
  if (!Array.isArray(messages)) invalid(`${TOOL_CONFIG}.messages must be an array`);
  const supported = ctx.profile.messagesSupported.map((m) => m.type);
  for (const m of messages as Record<string, unknown>[]) {
    if (!supported.includes(m?.type as string))
      invalid(`${TOOL_CONFIG}.messages has an unsupported type "${String(m?.type)}"`);
  }
  return { config, messages: messages as Record<string, unknown>[] };
}

function privacyOf(ctx: PlatformContext, config: Record<string, unknown>): PrivacyLevel {
  if (ctx.profile.flavour === 'canvas') {
    const level = config[CANVAS_PRIVACY];
    return level === 'public' || level === 'name_only' || level === 'email_only' ? level : 'anonymous';
  }
  // Moodle turns the claims asked for into its "share name" / "share e-mail" settings.
  const claims = Array.isArray(config.claims) ? config.claims : [];
  const name = ['name', 'given_name', 'family_name'].some((c) => claims.includes(c));
  const email = claims.includes('email');
  return name && email ? 'public' : name ? 'name_only' : email ? 'email_only' : 'anonymous';
}

function register(ctx: PlatformContext, req: Request): Record<string, unknown> {
  const entry = tokenEntry(ctx, bearer(req));
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object' || Array.isArray(body)) invalid('the body must be a JSON object');
  const { config, messages } = validateRegistration(ctx, body);
  const asked = typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : [];
  const scopes = asked.filter((s) => SERVICE_SCOPES.includes(s));
  const deepLinking = messages.find((m) => m.type === 'LtiDeepLinkingRequest');
  const deploymentId = ctx.store.newDeploymentId();
  const client: ToolClient = {
    clientId: entry.clientId,
    name: String(body.client_name ?? 'Tool'),
    deploymentIds: [deploymentId],
    initiateLoginUri: body.initiate_login_uri as string,
    redirectUris: [...new Set(body.redirect_uris as string[])],
    targetLinkUri: config.target_link_uri as string,
    ...(isUrl(deepLinking?.target_link_uri) ? { deepLinkingUri: deepLinking.target_link_uri } : {}),
    jwksUri: body.jwks_uri as string,
    scopes,
    privacy: privacyOf(ctx, config),
    custom: Object.fromEntries(
      Object.entries((config.custom_parameters ?? {}) as Record<string, unknown>).map(([k, v]) => [
        k,
        String(v),
      ]),
    ),
    dynamic: true,
  };
  entry.used = true;
  ctx.store.clients.set(client.clientId, client);
  const response = {
    ...body,
    client_id: client.clientId,
    scope: scopes.join(' '),
    [TOOL_CONFIG]:
      ctx.registrationAnswersDeploymentId === false
        ? { ...config }
        : { ...config, deployment_id: deploymentId },
  };
  ctx.store.registrations.push({ clientId: client.clientId, deploymentId, request: body, response });
  return response;
}

export function registrationRouter(ctx: PlatformContext): Router {
  const router = Router();
  router.get(PATHS.openidConfiguration, (req: Request, res: Response) => {
    if (ctx.configurationRequiresToken) {
      try {
        const token =
          bearer(req) ??
          (typeof req.query.registration_token === 'string' ? req.query.registration_token : undefined);
        tokenEntry(ctx, token);
      } catch (err) {
        const e = err as RegistrationError;
        ctx.store.refuse(PATHS.openidConfiguration, e.error, e.message);
        res.status(e.status).json({ error: e.error, error_description: e.message });
        return;
      }
    }
    res.json(openidConfiguration(ctx));
  });
  router.post(PATHS.register, (req: Request, res: Response) => {
    try {
      res.status(200).json(register(ctx, req));
    } catch (err) {
      if (!(err instanceof RegistrationError)) throw err;
      ctx.store.refuse(PATHS.register, err.error, err.message);
      res.status(err.status).json({ error: err.error, error_description: err.message });
    }
  });
  return router;
}
