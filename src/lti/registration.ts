import { Router, type Request, type Response } from 'express';
import type { Context } from '../context.js';
import type { LmsKind } from '../db/models/platform.js';
import { HttpError } from '../errors.js';
import { platformInputSchema } from '../platforms/schema.js';
import { registerPlatform } from '../platforms/service.js';
import { LAUREL_DESCRIPTION } from './canvas.js';
import { CUSTOM_PARAMETERS, SCOPES } from './claims.js';
import type { LtiPlatformStore } from './platforms.js';

/**
 * LTI Dynamic Registration 1.0, tool side, at GET /lti/register. The LMS administrator pastes the URL
 * into Moodle or Canvas; the LMS opens it with `openid_configuration` and `registration_token`. Laurel
 * reads the platform's configuration, registers itself there, and stores the platform in both its own
 * store (with a webhook secret) and ltijs's. The finish page shows the secret once: the LMS plugin that
 * forwards events needs it, and no later answer shows it again.
 */
const TOOL_CONFIG = 'https://purl.imsglobal.org/spec/lti-tool-configuration';
const PLATFORM_CONFIG = 'https://purl.imsglobal.org/spec/lti-platform-configuration';
const CANVAS_PRIVACY = 'https://canvas.instructure.com/lti/privacy_level';
const CANVAS_ACCOUNT_NAME = 'https://canvas.instructure.com/lti/account_name';
const REQUIRED_CONFIGURATION = [
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'jwks_uri',
  'registration_endpoint',
] as const;
const TIMEOUT_MS = 10_000;
const MAX_BODY = 256 * 1024;

type Configuration = Record<string, unknown> & Record<(typeof REQUIRED_CONFIGURATION)[number], string>;

const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function isAllowedUrl(value: string, httpsOnly: boolean): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (!httpsOnly && url.protocol === 'http:');
  } catch {
    return false;
  }
}

const missingFields = (names: string[], message = 'is missing') =>
  new HttpError(
    400,
    'invalid_registration',
    `The registration request lacks ${names.join(', ')}.`,
    names.map((path) => ({ path, message })),
  );

/** The LMS kind from the platform's product family code. */
export function lmsKindOf(configuration: Record<string, unknown>): LmsKind {
  const family = text(record(configuration[PLATFORM_CONFIG]).product_family_code)?.toLowerCase();
  return family === 'canvas' ? 'canvas' : family === 'moodle' ? 'moodle' : 'other';
}

/** Laurel's client registration for one platform. */
export function toolRegistration(
  publicUrl: string,
  configuration: Record<string, unknown>,
): Record<string, unknown> {
  const lms = lmsKindOf(configuration);
  const launch = `${publicUrl}/lti/launch`;
  const canvas = lms === 'canvas';
  const wanted = [SCOPES.nrps, SCOPES.lineItem, SCOPES.lineItemReadonly, SCOPES.resultReadonly, SCOPES.score];
  const supported = Array.isArray(configuration.scopes_supported)
    ? configuration.scopes_supported
    : undefined;
  return {
    application_type: 'web',
    response_types: ['id_token'],
    grant_types: ['implicit', 'client_credentials'],
    initiate_login_uri: `${publicUrl}/lti/login`,
    redirect_uris: [launch],
    client_name: 'Laurel',
    jwks_uri: `${publicUrl}/lti/keys`,
    token_endpoint_auth_method: 'private_key_jwt',
    scope: (supported ? wanted.filter((s) => supported.includes(s)) : wanted).join(' '),
    [TOOL_CONFIG]: {
      domain: new URL(publicUrl).host,
      description: LAUREL_DESCRIPTION,
      target_link_uri: launch,
      custom_parameters: CUSTOM_PARAMETERS[lms],
      // Names and e-mails: Moodle shares what the claims ask for, Canvas what its privacy level allows.
      claims: ['iss', 'sub', 'name', 'given_name', 'family_name', 'email'],
      messages: [
        {
          type: 'LtiResourceLinkRequest',
          target_link_uri: launch,
          label: 'Badges',
          ...(canvas ? { placements: ['course_navigation'] } : {}),
        },
        {
          type: 'LtiDeepLinkingRequest',
          target_link_uri: launch,
          label: 'Badges',
          ...(canvas ? { placements: ['link_selection', 'assignment_selection'] } : {}),
        },
      ],
      ...(canvas ? { [CANVAS_PRIVACY]: 'public' } : {}),
    },
  };
}

async function readJson(res: globalThis.Response, what: string): Promise<Record<string, unknown>> {
  const body = await res.text();
  if (body.length > MAX_BODY) throw new HttpError(502, 'bad_gateway', `The LMS's ${what} is too large.`);
  try {
    return record(JSON.parse(body));
  } catch {
    throw new HttpError(502, 'bad_gateway', `The LMS's ${what} is not JSON (HTTP ${res.status}).`);
  }
}

async function fetchConfiguration(
  url: string,
  token: string | undefined,
  httpsOnly: boolean,
): Promise<Configuration> {
  let res: globalThis.Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    });
  } catch {
    throw new HttpError(502, 'bad_gateway', `Laurel could not reach the LMS's configuration at ${url}.`);
  }
  if (!res.ok)
    throw new HttpError(502, 'bad_gateway', `The LMS's configuration answered HTTP ${res.status}.`);
  const configuration = await readJson(res, 'configuration');
  const missing = REQUIRED_CONFIGURATION.filter((name) => !text(configuration[name]));
  if (missing.length) throw missingFields(missing.map((m) => `openid_configuration.${m}`));
  const notUrls = REQUIRED_CONFIGURATION.filter(
    (name) => name !== 'issuer' && !isAllowedUrl(configuration[name] as string, httpsOnly),
  );
  if (notUrls.length)
    throw missingFields(
      notUrls.map((m) => `openid_configuration.${m}`),
      httpsOnly ? 'must be an https URL' : 'must be an http(s) URL',
    );
  const methods = configuration.token_endpoint_auth_methods_supported;
  if (Array.isArray(methods) && !methods.includes('private_key_jwt'))
    throw missingFields(
      ['openid_configuration.token_endpoint_auth_methods_supported'],
      'must offer private_key_jwt',
    );
  const algs = configuration.id_token_signing_alg_values_supported;
  if (Array.isArray(algs) && !algs.includes('RS256'))
    throw missingFields(['openid_configuration.id_token_signing_alg_values_supported'], 'must offer RS256');
  return configuration as Configuration;
}

async function postRegistration(
  configuration: Configuration,
  body: Record<string, unknown>,
  token: string | undefined,
): Promise<Record<string, unknown>> {
  let res: globalThis.Response;
  try {
    res = await fetch(configuration.registration_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    });
  } catch {
    throw new HttpError(502, 'bad_gateway', 'Laurel could not reach the LMS to register itself.');
  }
  const answer = await readJson(res, 'registration answer');
  if (!res.ok) {
    const why = text(answer.error_description) ?? text(answer.error) ?? `HTTP ${res.status}`;
    throw new HttpError(
      502,
      'registration_refused',
      `The LMS refused Laurel's registration: ${why.slice(0, 300)}`,
    );
  }
  if (!text(answer.client_id))
    throw new HttpError(502, 'bad_gateway', 'The LMS registered Laurel without a client id.');
  return answer;
}

export function registrationRouter(ctx: Context, platforms: LtiPlatformStore): Router {
  const router = Router();
  const httpsOnly = ctx.config.env === 'production';
  const publicUrl = ctx.config.publicUrl;

  router.get('/lti/register', async (req: Request, res: Response) => {
    const configurationUrl = text(req.query.openid_configuration);
    const token = text(req.query.registration_token);
    // The LMS may open this page as a pop-up: its finish button talks to `window.opener`, which a
    // same-origin opener policy would cut off.
    res.set({ 'Cache-Control': 'no-store', 'Cross-Origin-Opener-Policy': 'unsafe-none' });
    if (!configurationUrl && !token) {
      res.render('lti/register-help', { title: 'Register your LMS', publicUrl });
      return;
    }
    if (!configurationUrl) throw missingFields(['openid_configuration']);
    if (!isAllowedUrl(configurationUrl, httpsOnly))
      throw missingFields(
        ['openid_configuration'],
        httpsOnly ? 'must be an https URL' : 'must be an http(s) URL',
      );

    const configuration = await fetchConfiguration(configurationUrl, token, httpsOnly);
    const lms = lmsKindOf(configuration);
    const answer = await postRegistration(configuration, toolRegistration(publicUrl, configuration), token);
    const deploymentId = text(record(answer[TOOL_CONFIG]).deployment_id);
    const platformConfig = record(configuration[PLATFORM_CONFIG]);
    const issuerHost = (() => {
      try {
        return new URL(configuration.issuer).host;
      } catch {
        return configuration.issuer;
      }
    })();
    const family = lms === 'canvas' ? 'Canvas' : lms === 'moodle' ? 'Moodle' : 'LMS';
    const input = platformInputSchema.safeParse({
      name: text(platformConfig[CANVAS_ACCOUNT_NAME]) ?? `${family} at ${issuerHost}`,
      lms,
      issuer: configuration.issuer,
      clientId: text(answer.client_id),
      authLoginUrl: configuration.authorization_endpoint,
      authTokenUrl: configuration.token_endpoint,
      jwksUrl: configuration.jwks_uri,
      deploymentIds: deploymentId ? [deploymentId] : [],
    });
    if (!input.success)
      throw new HttpError(
        502,
        'bad_gateway',
        'The LMS answered the registration with values Laurel cannot store.',
      );
    const { platform, webhookSecret } = await registerPlatform(ctx, input.data, {
      actor: { type: 'lms', id: configuration.issuer },
      via: 'dynamic-registration',
      hooks: platforms.hooks({ authorizationServer: text(configuration.authorization_server) ?? null }),
    });
    ctx.logger.info(
      { platformId: String(platform._id), issuer: platform.issuer, lms },
      'platform registered by dynamic registration',
    );
    res.render('lti/registered', {
      title: 'Laurel is registered',
      platform: {
        id: String(platform._id),
        name: platform.name,
        issuer: platform.issuer,
        clientId: platform.clientId,
        deploymentIds: platform.deploymentIds,
      },
      webhookSecret,
      eventsUrl: `${publicUrl}/api/v1/events`,
      webhookUrl: lms === 'other' ? null : `${publicUrl}/api/v1/webhooks/${lms}/${String(platform._id)}`,
      noDeployment: !deploymentId,
      moodle: lms === 'moodle',
    });
  });
  return router;
}
