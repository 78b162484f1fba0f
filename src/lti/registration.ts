import { Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { Context } from '../context.js';
import type { LmsKind } from '../db/models/platform.js';
import type { RegistrationLinkDoc } from '../db/models/registrationLink.js';
import { HttpError } from '../errors.js';
import { platformInputSchema } from '../platforms/schema.js';
import {
  claimRegistrationLink,
  countPendingPlatforms,
  inspectRegistrationCode,
  linkUsed,
  MAX_PENDING_PLATFORMS,
  registerPlatform,
  REGISTRATION_CODE_PARAM,
  releaseRegistrationLink,
  type RegistrationLinkProblem,
} from '../platforms/service.js';
import {
  checkOutboundUrl,
  OutboundError,
  outboundRequest,
  parseAllowList,
  type OutboundPolicy,
} from '../security/outboundFetch.js';
import { unsafeTextReason } from '../validation/text.js';
import { LAUREL_DESCRIPTION } from './canvas.js';
import { CUSTOM_PARAMETERS, SCOPES } from './claims.js';
import type { LtiPlatformStore } from './platforms.js';

/**
 * LTI Dynamic Registration 1.0, tool side, at GET /lti/register. A Laurel administrator first makes
 * a one-time registration link (`PUBLIC_URL/lti/register?code=…`, admin API or CLI); the LMS
 * administrator pastes it into Moodle or Canvas, which opens it with `openid_configuration` and
 * `registration_token` added. Laurel then reads the platform's configuration, registers itself there,
 * and stores the platform in both its own store (with a webhook secret) and ltijs's. The finish page
 * shows the secret once: the LMS plugin that forwards events needs it, and no later answer shows it.
 *
 * Without a valid link (none, unknown, expired, used) REGISTRATION_WITHOUT_LINK decides: `refuse`
 * answers 403 before Laurel requests anything; `pending` registers a platform that cannot launch,
 * send events or be awarded to until an administrator approves it, and shows no secret.
 *
 * The platform's name, which becomes its issuer profile's name on credentials, is the link's; else
 * a neutral "Canvas at school.instructure.com" (the host Laurel fetched the configuration from). A
 * name the LMS gives itself is stored only as `suggestedName` for the administrator to confirm.
 *
 * Laurel's requests to the LMS go through the outbound guard (public addresses only in production,
 * LMS_ALLOWED_HOSTS aside; time and size limits). Whatever fails there, the caller learns only that
 * the registration could not be completed; the reason goes to the log.
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
export const REGISTRATION_FAILED = 'Laurel could not complete the registration with your LMS.';

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
  lms: LmsKind = lmsKindOf(configuration),
): Record<string, unknown> {
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

/** The outbound policy of requests to an LMS under this configuration. */
export function lmsOutboundPolicy(config: Pick<Config, 'env' | 'lmsAllowedHosts'>): OutboundPolicy {
  return {
    publicOnly: config.env === 'production',
    allowList: parseAllowList(config.lmsAllowedHosts),
    timeoutMs: TIMEOUT_MS,
    maxBytes: MAX_BODY,
  };
}

/** A failed exchange with the LMS: logged in full, answered with one generic message. */
class RegistrationFailure extends Error {
  constructor(
    readonly why: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(why);
    this.name = 'RegistrationFailure';
  }
}

/** An LMS URL for the log: no query string (it may carry tokens). */
const forLog = (value: string) => {
  try {
    const url = new URL(value);
    return `${url.origin}${url.pathname}`;
  } catch {
    return value.slice(0, 200);
  }
};

type Exchange = {
  policy: OutboundPolicy;
  httpsOnly: boolean;
  token: string | undefined;
};

async function requestJson(
  exchange: Exchange,
  what: string,
  url: string,
  init: Parameters<typeof outboundRequest>[2],
): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  let answer;
  try {
    answer = await outboundRequest(exchange.policy, url, init);
  } catch (err) {
    const reason = err instanceof OutboundError ? err.reason : 'network';
    throw new RegistrationFailure(`the LMS's ${what} could not be fetched (${reason})`, {
      url: forLog(url),
      error: (err as Error).message,
    });
  }
  let json: Record<string, unknown> | undefined;
  try {
    json = record(JSON.parse(answer.body.toString('utf8')));
  } catch {
    json = undefined;
  }
  return { status: answer.status, json };
}

async function fetchConfiguration(exchange: Exchange, url: string): Promise<Configuration> {
  const { token, httpsOnly } = exchange;
  const { status, json } = await requestJson(exchange, 'configuration', url, {
    headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const where = { url: forLog(url), status };
  if (status < 200 || status > 299)
    throw new RegistrationFailure(`the LMS's configuration answered HTTP ${status}`, where);
  if (!json) throw new RegistrationFailure("the LMS's configuration is not JSON", where);
  const configuration = json;
  const missing = REQUIRED_CONFIGURATION.filter((name) => !text(configuration[name]));
  if (missing.length)
    throw new RegistrationFailure("the LMS's configuration lacks fields", { ...where, missing });
  const notUrls = REQUIRED_CONFIGURATION.filter(
    (name) => name !== 'issuer' && !isAllowedUrl(configuration[name] as string, httpsOnly),
  );
  if (notUrls.length)
    throw new RegistrationFailure(
      `the LMS's configuration has fields that are not ${httpsOnly ? 'https' : 'http(s)'} URLs`,
      { ...where, fields: notUrls },
    );
  const methods = configuration.token_endpoint_auth_methods_supported;
  if (Array.isArray(methods) && !methods.includes('private_key_jwt'))
    throw new RegistrationFailure("the LMS's token endpoint does not offer private_key_jwt", where);
  const algs = configuration.id_token_signing_alg_values_supported;
  if (Array.isArray(algs) && !algs.includes('RS256'))
    throw new RegistrationFailure("the LMS's id tokens are not signed with RS256", where);
  // Laurel calls these later (keys at each launch, tokens for the services): the same limits hold.
  if (exchange.policy.publicOnly)
    for (const name of ['token_endpoint', 'jwks_uri', 'registration_endpoint'] as const)
      try {
        await checkOutboundUrl(exchange.policy, configuration[name] as string);
      } catch (err) {
        throw new RegistrationFailure(`the LMS's ${name} is not an address Laurel calls`, {
          ...where,
          field: name,
          error: (err as Error).message,
        });
      }
  return configuration as Configuration;
}

async function postRegistration(
  exchange: Exchange,
  configuration: Configuration,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const { token } = exchange;
  const url = configuration.registration_endpoint;
  const { status, json } = await requestJson(exchange, 'registration endpoint', url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const where = { url: forLog(url), status };
  if (status < 200 || status > 299) {
    const why = text(json?.error_description) ?? text(json?.error) ?? `HTTP ${status}`;
    throw new RegistrationFailure("the LMS refused Laurel's registration", {
      ...where,
      answer: why.slice(0, 300),
    });
  }
  if (!json) throw new RegistrationFailure("the LMS's registration answer is not JSON", where);
  if (!text(json.client_id))
    throw new RegistrationFailure('the LMS registered Laurel without a client id', where);
  return json;
}

/** Text the LMS offers as its name, if it is fit to show an administrator as a suggestion. */
function suggestionOf(value: unknown): string | null {
  const name = text(value)?.slice(0, 200);
  return name && !unsafeTextReason(name) ? name : null;
}

const hostOf = (value: string) => {
  try {
    return new URL(value).host;
  } catch {
    return value;
  }
};

const FAMILY: Record<LmsKind, string> = { canvas: 'Canvas', moodle: 'Moodle', other: 'LMS' };

const PROBLEMS: Record<RegistrationLinkProblem | 'busy', { title: string; text: string }> = {
  missing: {
    title: 'A registration link is needed',
    text: 'This registration address has no registration link. A Laurel administrator must first create one; the LMS administrator then pastes that link, not this address, into the LMS.',
  },
  unknown: {
    title: 'This registration link is not valid',
    text: 'Laurel does not know this registration link: it may be mistyped, cut short, or revoked. Ask a Laurel administrator for a new one.',
  },
  expired: {
    title: 'This registration link has expired',
    text: 'Registration links work for a limited time. Ask a Laurel administrator for a new one.',
  },
  used: {
    title: 'This registration link has been used',
    text: 'Each registration link registers one LMS, once. Ask a Laurel administrator for a new one.',
  },
  busy: {
    title: 'Too many registrations are waiting',
    text: 'Too many LMS registrations are waiting for a Laurel administrator’s approval. Ask a Laurel administrator for a registration link.',
  },
};

export function registrationRouter(ctx: Context, platforms: LtiPlatformStore): Router {
  const router = Router();
  const httpsOnly = ctx.config.env === 'production';
  const publicUrl = ctx.config.publicUrl;
  const pendingMode = ctx.config.registrationWithoutLink === 'pending';
  const policy = lmsOutboundPolicy(ctx.config);

  const refuse = (req: Request, res: Response, problem: keyof typeof PROBLEMS, configurationUrl?: string) => {
    (req.log ?? ctx.logger).warn(
      { problem, configuration: configurationUrl ? forLog(configurationUrl) : undefined },
      'dynamic registration refused: no valid registration link',
    );
    const { title, text: message } = PROBLEMS[problem];
    res.status(403);
    if (!req.accepts('html')) {
      res.json({ error: 'registration_link_required', message: `${title}. ${message}`, details: [] });
      return;
    }
    res.render('lti/register-refused', { title, message, problem, publicUrl });
  };

  router.get('/lti/register', async (req: Request, res: Response) => {
    const configurationUrl = text(req.query.openid_configuration);
    const token = text(req.query.registration_token);
    const code = text(req.query[REGISTRATION_CODE_PARAM]);
    // The LMS may open this page as a pop-up: its finish button talks to `window.opener`, which a
    // same-origin opener policy would cut off.
    res.set({ 'Cache-Control': 'no-store', 'Cross-Origin-Opener-Policy': 'unsafe-none' });
    if (!configurationUrl && !token) {
      // A person opening the address (or a link) in a browser: where it goes, and whether a link is good.
      const inspected = code ? await inspectRegistrationCode(ctx, code) : undefined;
      res.render('lti/register-help', {
        title: 'Register your LMS',
        publicUrl,
        pendingMode,
        link:
          inspected && 'link' in inspected
            ? {
                name: inspected.link.name,
                lms: inspected.link.lms ? FAMILY[inspected.link.lms] : null,
                expiresAt: inspected.link.expiresAt.toISOString(),
              }
            : null,
        linkProblem: inspected && 'problem' in inspected ? PROBLEMS[inspected.problem] : null,
      });
      return;
    }
    // Without a link and in refuse mode: nothing is checked, claimed or fetched.
    if (!code && !pendingMode) return refuse(req, res, 'missing', configurationUrl);
    if (!configurationUrl) throw missingFields(['openid_configuration']);
    if (!isAllowedUrl(configurationUrl, httpsOnly))
      throw missingFields(
        ['openid_configuration'],
        httpsOnly ? 'must be an https URL' : 'must be an http(s) URL',
      );

    const claim = await claimRegistrationLink(ctx, code);
    const link = 'link' in claim ? claim.link : null;
    if ('problem' in claim) {
      if (!pendingMode) return refuse(req, res, claim.problem, configurationUrl);
      if ((await countPendingPlatforms(ctx)) >= MAX_PENDING_PLATFORMS)
        return refuse(req, res, 'busy', configurationUrl);
    }
    try {
      await register(req, res, {
        configurationUrl,
        token,
        link,
        linkProblem: 'problem' in claim ? claim.problem : null,
      });
    } catch (err) {
      // The link was not spent: the LMS administrator may try again with it.
      if (link)
        await releaseRegistrationLink(ctx, link).catch((e: unknown) =>
          ctx.logger.error({ err: e }, 'a registration link could not be released'),
        );
      if (err instanceof RegistrationFailure) {
        (req.log ?? ctx.logger).warn(
          {
            reason: err.why,
            ...err.details,
            configuration: forLog(configurationUrl),
            linkId: link ? String(link._id) : null,
          },
          'dynamic registration failed',
        );
        throw new HttpError(502, 'registration_failed', REGISTRATION_FAILED);
      }
      throw err;
    }
  });

  async function register(
    req: Request,
    res: Response,
    args: {
      configurationUrl: string;
      token: string | undefined;
      link: RegistrationLinkDoc | null;
      linkProblem: RegistrationLinkProblem | null;
    },
  ) {
    const { configurationUrl, token, link } = args;
    const exchange: Exchange = { policy, httpsOnly, token };
    const configuration = await fetchConfiguration(exchange, configurationUrl);
    const lms = link?.lms ?? lmsKindOf(configuration);
    const answer = await postRegistration(
      exchange,
      configuration,
      toolRegistration(publicUrl, configuration, lms),
    );
    const deploymentId = text(record(answer[TOOL_CONFIG]).deployment_id);
    const platformConfig = record(configuration[PLATFORM_CONFIG]);
    // The host Laurel really talked to, not a name the configuration claims.
    const name = link?.name ?? `${FAMILY[lms]} at ${hostOf(configurationUrl)}`;
    const offered = suggestionOf(platformConfig[CANVAS_ACCOUNT_NAME]);
    const input = platformInputSchema.safeParse({
      name,
      lms,
      issuer: configuration.issuer,
      clientId: text(answer.client_id),
      authLoginUrl: configuration.authorization_endpoint,
      authTokenUrl: configuration.token_endpoint,
      jwksUrl: configuration.jwks_uri,
      deploymentIds: deploymentId ? [deploymentId] : [],
    });
    if (!input.success)
      throw new RegistrationFailure('the LMS answered with values Laurel cannot store', {
        issues: input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      });
    const actor = { type: 'lms' as const, id: configuration.issuer };
    const pending = !link;
    const { platform, webhookSecret } = await registerPlatform(ctx, input.data, {
      actor,
      via: 'dynamic-registration',
      hooks: platforms.hooks({ authorizationServer: text(configuration.authorization_server) ?? null }),
      status: pending ? 'pending' : 'active',
      suggestedName: offered && offered !== name ? offered : null,
      details: link
        ? { registrationLinkId: String(link._id) }
        : { registrationLinkProblem: args.linkProblem },
    });
    if (link) await linkUsed(ctx, link, platform, actor);
    const platformId = String(platform._id);
    (req.log ?? ctx.logger).info(
      { platformId, issuer: platform.issuer, lms, status: pending ? 'pending' : 'active' },
      'platform registered by dynamic registration',
    );
    const shown = {
      id: platformId,
      name: platform.name,
      issuer: platform.issuer,
      clientId: platform.clientId,
      deploymentIds: platform.deploymentIds,
      sameLmsAs: platform.sameLmsAs ? String(platform.sameLmsAs) : null,
    };
    if (pending) {
      // No secret: an administrator gets one when approving.
      res.render('lti/registration-pending', {
        title: 'Laurel’s registration waits for approval',
        platform: shown,
        moodle: lms === 'moodle',
      });
      return;
    }
    res.render('lti/registered', {
      title: 'Laurel is registered',
      platform: shown,
      webhookSecret,
      eventsUrl: `${publicUrl}/api/v1/events`,
      webhookUrl: lms === 'other' ? null : `${publicUrl}/api/v1/webhooks/${lms}/${platformId}`,
      noDeployment: !deploymentId,
      moodle: lms === 'moodle',
    });
  }
  return router;
}
