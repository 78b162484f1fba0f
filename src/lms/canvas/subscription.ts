import type { PlatformDoc } from '../../db/models/platform.js';
import { outboundRequest, type OutboundPolicy } from '../../security/outboundFetch.js';
import { LIVE_EVENT_TYPES } from './mapping.js';

/**
 * Canvas's Live Events subscription API (Data Services, Lti::DataServicesController), called with the
 * tool's own LTI service token (client_credentials with the Data Services scopes on Laurel's developer
 * key): `/api/lti/accounts/:account_id/data_services`, where `:account_id` is the root account's
 * `lti_context_id`. Hosted Canvas only: a self-hosted Canvas answers "Subscription service not
 * configured" (500), and the setup guide's manual way applies.
 */

export const DATA_SERVICES_SCOPES = {
  create: 'https://canvas.instructure.com/lti/data_services/scope/create',
  show: 'https://canvas.instructure.com/lti/data_services/scope/show',
  update: 'https://canvas.instructure.com/lti/data_services/scope/update',
  list: 'https://canvas.instructure.com/lti/data_services/scope/list',
  destroy: 'https://canvas.instructure.com/lti/data_services/scope/destroy',
  listEventTypes: 'https://canvas.instructure.com/lti/data_services/scope/list_event_types',
} as const;

/** What Laurel asks a token for: list, create and update its subscriptions. */
export const SUBSCRIPTION_SCOPES = [
  DATA_SERVICES_SCOPES.list,
  DATA_SERVICES_SCOPES.create,
  DATA_SERVICES_SCOPES.update,
] as const;

const MEDIA = 'application/vnd.canvas.dataservices+json';

export type Subscription = {
  Id: string;
  ContextId?: string;
  ContextType?: string;
  EventTypes?: string[];
  Format?: string;
  TransportType?: string;
  TransportMetadata?: { Url?: string };
  State?: string;
};

export type SubscribeInput = {
  /** The Canvas base URL, e.g. https://school.instructure.com (the platform's issuer is not it on hosted Canvas). */
  canvasUrl: string;
  /** The root account's `lti_context_id` (the account in the API's path). */
  accountId: string;
  /** The subscription's context: the root account's id as Canvas asks for it (default: `accountId`). */
  contextId?: string;
  /** Where Canvas delivers: Laurel's `PUBLIC_URL/api/v1/webhooks/canvas/<platform id>`. */
  deliveryUrl: string;
  /** A Bearer token with the Data Services scopes (SUBSCRIPTION_SCOPES). */
  accessToken: string;
  eventTypes?: readonly string[];
};

export type SubscribeResult = { id: string; action: 'created' | 'updated' | 'unchanged' };

/** A subscription call Canvas refused (or that failed); `status` 0 when no answer came. */
export class SubscriptionError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SubscriptionError';
  }
}

/** The delivery URL of a platform's Live Events. */
export const liveEventsDeliveryUrl = (publicUrl: string, platform: { _id: unknown }) =>
  `${publicUrl.replace(/\/+$/, '')}/api/v1/webhooks/canvas/${String(platform._id)}`;

/**
 * Makes sure Canvas delivers the Live Events Laurel maps to `deliveryUrl`: an active HTTPS subscription
 * of this developer key to that URL is kept (its event types widened if some are missing), else one is
 * created (root account context, Canvas format, HTTPS; signed, as every API-made HTTPS subscription is).
 */
export async function ensureLiveEventsSubscription(
  policy: OutboundPolicy,
  input: SubscribeInput,
): Promise<SubscribeResult> {
  const wanted = [...(input.eventTypes ?? LIVE_EVENT_TYPES)];
  const base = `${input.canvasUrl.replace(/\/+$/, '')}/api/lti/accounts/${encodeURIComponent(input.accountId)}/data_services`;
  const headers = {
    authorization: `Bearer ${input.accessToken}`,
    accept: `${MEDIA}, application/json`,
    'content-type': 'application/json',
  };
  const call = async (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown): Promise<unknown> => {
    let answer;
    try {
      answer = await outboundRequest(policy, url, {
        // node:http sends any method; the guard's type names only the two it needed so far.
        method: method as 'POST',
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new SubscriptionError(0, `Canvas could not be reached: ${(err as Error).message}`);
    }
    const text = answer.body.toString('utf8');
    if (answer.status < 200 || answer.status > 299)
      throw new SubscriptionError(answer.status, `Canvas answered ${answer.status}: ${text.slice(0, 300)}`);
    try {
      return text ? (JSON.parse(text) as unknown) : null;
    } catch {
      throw new SubscriptionError(answer.status, 'Canvas answered something that is not JSON.');
    }
  };

  const listed = await call('GET', base);
  const items: Subscription[] = Array.isArray(listed) ? (listed as Subscription[]) : [];
  const mine = items.find(
    (s) =>
      s.TransportType === 'https' &&
      s.TransportMetadata?.Url === input.deliveryUrl &&
      (s.State === undefined || s.State === 'Active'),
  );
  if (mine) {
    const have = new Set(mine.EventTypes ?? []);
    if (wanted.every((t) => have.has(t))) return { id: mine.Id, action: 'unchanged' };
    await call('PUT', `${base}/${encodeURIComponent(mine.Id)}`, {
      subscription: { EventTypes: [...new Set([...have, ...wanted])] },
    });
    return { id: mine.Id, action: 'updated' };
  }
  const created = (await call('POST', base, {
    subscription: {
      ContextId: input.contextId ?? input.accountId,
      ContextType: 'root_account',
      EventTypes: wanted,
      Format: 'live-event',
      TransportType: 'https',
      TransportMetadata: { Url: input.deliveryUrl },
    },
  })) as Subscription | null;
  if (!created || typeof created.Id !== 'string')
    throw new SubscriptionError(200, 'Canvas created a subscription but answered no id.');
  return { id: created.Id, action: 'created' };
}

/** What ltijs's Platform offers for service tokens (its `platformAccessToken`). */
type LtijsPlatform = { platformAccessToken(scopes: string): Promise<{ access_token: string }> };
type LtijsProvider = { getPlatform(url: string, clientId?: string): Promise<LtijsPlatform | false> };

/**
 * The tool's LTI service token for the Data Services scopes, through ltijs (client_credentials with
 * Laurel's own key, as for AGS and NRPS). Canvas grants it only when the developer key has the scopes.
 */
export async function dataServicesToken(
  provider: unknown,
  platform: Pick<PlatformDoc, 'issuer' | 'clientId'>,
): Promise<string> {
  const found = await (provider as LtijsProvider).getPlatform(platform.issuer, platform.clientId);
  if (!found)
    throw new SubscriptionError(0, `ltijs knows no platform ${platform.issuer} / ${platform.clientId}`);
  const token = await found.platformAccessToken(SUBSCRIPTION_SCOPES.join(' '));
  return token.access_token;
}
