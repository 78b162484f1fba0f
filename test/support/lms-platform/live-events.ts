/**
 * Canvas Live Events, as a Canvas-like platform sends them: Data Services subscriptions (the LTI API a tool
 * calls with its service token, `/api/lti/accounts/:account_id/data_services`), and HTTPS delivery of each
 * event as a compact RS256 JWT whose claims hold `{ metadata, body }`, signed with a key set of its own
 * (Instructure signs Live Events with other keys than the LTI platform's) published at `/api/live_events/jwks`.
 * Ids in metadata and most bodies are global (shard 1: 10^13 + the local id), as Canvas sends them.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import jwt from 'jsonwebtoken';
import type { PlatformContext } from './context.js';
import { canvasGlobalId, sha1 } from './flavour.js';
import { PlatformKeys } from './keys.js';
import { requireScope } from './token.js';
import { DATA_SERVICES_SCOPE } from './types.js';

export { DATA_SERVICES_SCOPE, DATA_SERVICES_SCOPES } from './types.js';

export const LIVE_EVENTS_PATHS = {
  jwks: '/api/live_events/jwks',
  dataServices: '/api/lti/accounts/:accountId/data_services',
} as const;

export interface DataServiceSubscription {
  Id: string;
  OwnerId: string;
  ContextId: string;
  ContextType: string;
  EventTypes: string[];
  Format: string;
  TransportType: string;
  TransportMetadata: { Url: string };
  State: 'Active' | 'Deleted';
  /** Whether deliveries are signed JWTs (the "Sign Payload" option of the admin UI; always on through the API). */
  SignPayload: boolean;
}

export interface LiveEventsState {
  keys: PlatformKeys;
  /** The root account: its global id, uuid and lti guid (= the launch's tool_platform guid). */
  rootAccount: { id: string; uuid: string; ltiGuid: string; ltiContextId: string };
  subscriptions: DataServiceSubscription[];
  /** Every delivery made: the event, where it went and the answer. */
  deliveries: { eventName: string; url: string; status: number; body: unknown }[];
}

export function newLiveEventsState(url: string): LiveEventsState {
  const uuid = sha1(`root-account-${url}-${randomUUID()}`).slice(0, 40);
  return {
    keys: new PlatformKeys(),
    rootAccount: {
      id: canvasGlobalId('1'),
      uuid,
      ltiGuid: `${uuid}:canvas-lms`,
      ltiContextId: sha1(`account-1-${uuid}`),
    },
    subscriptions: [],
    deliveries: [],
  };
}

export type LiveEventSignOptions = {
  /** Seconds since the epoch; default now. */
  iat?: number;
  /** Seconds since the epoch; `null` = no exp claim; default iat + 600. */
  exp?: number | null;
  /** Default a fresh UUID; `null` = no jti claim. */
  jti?: string | null;
  /** Sign with another key while naming the current kid: a forged signature. */
  forgeWith?: KeyObject;
  /** Name this kid in the header instead. */
  kid?: string;
};

export interface LiveEventInput {
  eventName: string;
  body: Record<string, unknown>;
  /** Merged into the metadata last (a key set to undefined removes it). */
  metadata?: Record<string, unknown>;
  /** A course the event happened in (request-driven events): its local id, sent as the global context_id. */
  courseId?: string;
  /** The acting user's local id (metadata.user_id, global). */
  actorId?: string;
}

/** The `{ metadata, body }` envelope Canvas sends, with Canvas-shaped metadata. */
export function liveEventEnvelope(ctx: PlatformContext, input: LiveEventInput): Record<string, unknown> {
  const root = ctx.liveEvents.rootAccount;
  const host = new URL(ctx.url).host;
  const metadata: Record<string, unknown> = {
    event_name: input.eventName,
    event_time: new Date().toISOString(),
    producer: 'canvas',
    root_account_id: root.id,
    root_account_uuid: root.uuid,
    root_account_lti_guid: root.ltiGuid,
    hostname: host,
    request_id: randomUUID(),
    ...(input.actorId ? { user_id: canvasGlobalId(input.actorId), user_account_id: root.id } : {}),
    ...(input.courseId
      ? {
          context_type: 'Course',
          context_id: canvasGlobalId(input.courseId),
          context_account_id: canvasGlobalId('1'),
          context_role: 'TeacherEnrollment',
        }
      : { job_id: String(Date.now()), job_tag: 'Canvas::LiveEvents#test' }),
  };
  for (const [key, value] of Object.entries(input.metadata ?? {})) {
    if (value === undefined) delete metadata[key];
    else metadata[key] = value;
  }
  return { metadata, body: input.body };
}

/** The compact JWT of a signed delivery. */
export function signLiveEvent(
  ctx: PlatformContext,
  envelope: Record<string, unknown>,
  options: LiveEventSignOptions = {},
): string {
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { iss: 'https://live-events.canvas.instructure.com', iat };
  const exp = options.exp === undefined ? iat + 600 : options.exp;
  if (exp !== null) claims.exp = exp;
  const jti = options.jti === undefined ? randomUUID() : options.jti;
  if (jti !== null) claims.jti = jti;
  Object.assign(claims, envelope);
  const keys = ctx.liveEvents.keys;
  // A string payload is signed as it is: no timestamp added, nothing validated.
  return jwt.sign(JSON.stringify(claims), options.forgeWith ?? keys.current.privateKey, {
    algorithm: 'RS256',
    keyid: options.kid ?? keys.kid,
  });
}

/** POSTs one delivery as Canvas does: the token as the body (`asJsonString`: wrapped in JSON string quotes). */
export async function deliverLiveEvent(
  ctx: PlatformContext,
  url: string,
  token: string,
  options: { asJsonString?: boolean; eventName?: string } = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': options.asJsonString ? 'application/json' : 'application/jwt' },
    body: options.asJsonString ? JSON.stringify(token) : token,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  ctx.liveEvents.deliveries.push({ eventName: options.eventName ?? '', url, status: res.status, body });
  return { status: res.status, body };
}

/** The Data Services subscription API (Lti::DataServicesController), for tools holding the data services scopes. */
export function liveEventsRouter(ctx: PlatformContext): Router {
  const router = Router();
  router.get(LIVE_EVENTS_PATHS.jwks, (_req, res) => {
    res.set('Cache-Control', 'no-store').json(ctx.liveEvents.keys.jwks());
  });
  const account = (req: Request, res: Response): boolean => {
    if (String(req.params.accountId) === ctx.liveEvents.rootAccount.ltiContextId) return true;
    res.status(404).json({ error: 'Invalid context for subscription - context not found.' });
    return false;
  };
  const ownerOf = (res: Response) => String((res.locals.access as { clientId: string }).clientId);
  router.get(LIVE_EVENTS_PATHS.dataServices, requireScope(ctx, DATA_SERVICES_SCOPE.list), (req, res) => {
    if (!account(req, res)) return;
    const owner = ownerOf(res);
    res
      .type('application/vnd.canvas.dataservices+json')
      .send(
        JSON.stringify(
          ctx.liveEvents.subscriptions.filter((s) => s.OwnerId === owner && s.State === 'Active'),
        ),
      );
  });
  router.post(LIVE_EVENTS_PATHS.dataServices, requireScope(ctx, DATA_SERVICES_SCOPE.create), (req, res) => {
    if (!account(req, res)) return;
    const sub = (req.body as { subscription?: Record<string, unknown> } | undefined)?.subscription;
    const problem = subscriptionProblem(sub);
    if (problem) {
      ctx.store.refuse(req.path, 'invalid_request', problem);
      res.status(400).json({ error: problem });
      return;
    }
    const created: DataServiceSubscription = {
      Id: randomUUID(),
      OwnerId: ownerOf(res),
      ContextId: String(sub!.ContextId),
      ContextType: String(sub!.ContextType),
      EventTypes: (sub!.EventTypes as string[]).slice(),
      Format: String(sub!.Format),
      TransportType: String(sub!.TransportType),
      TransportMetadata: { Url: String((sub!.TransportMetadata as { Url: string }).Url) },
      State: 'Active',
      SignPayload: true,
    };
    ctx.liveEvents.subscriptions.push(created);
    res.status(200).type('application/vnd.canvas.dataservices+json').send(JSON.stringify(created));
  });
  router.put(
    `${LIVE_EVENTS_PATHS.dataServices}/:id`,
    requireScope(ctx, DATA_SERVICES_SCOPE.update),
    (req, res) => {
      if (!account(req, res)) return;
      const found = ctx.liveEvents.subscriptions.find(
        (s) => s.Id === req.params.id && s.OwnerId === ownerOf(res),
      );
      if (!found) {
        res.status(404).json({ error: 'subscription not found' });
        return;
      }
      const sub = (req.body as { subscription?: Record<string, unknown> } | undefined)?.subscription ?? {};
      if (Array.isArray(sub.EventTypes)) found.EventTypes = sub.EventTypes.map(String);
      if (sub.State === 'Deleted' || sub.State === 'Active') found.State = sub.State;
      const url = (sub.TransportMetadata as { Url?: unknown } | undefined)?.Url;
      if (typeof url === 'string') found.TransportMetadata = { Url: url };
      res.status(200).type('application/vnd.canvas.dataservices+json').send(JSON.stringify(found));
    },
  );
  return router;
}

function subscriptionProblem(sub: Record<string, unknown> | undefined): string | undefined {
  if (!sub) return 'subscription is required';
  if (!['root_account', 'course', 'assignment', 'account'].includes(String(sub.ContextType)))
    return 'Invalid context type for subscription';
  if (typeof sub.ContextId !== 'string' || sub.ContextId === '') return 'ContextId is required';
  if (!Array.isArray(sub.EventTypes) || sub.EventTypes.length === 0) return 'EventTypes is required';
  if (!['live-event', 'caliper'].includes(String(sub.Format))) return 'Format must be live-event or caliper';
  if (!['https', 'sqs'].includes(String(sub.TransportType))) return 'TransportType must be https or sqs';
  const url = (sub.TransportMetadata as { Url?: unknown } | undefined)?.Url;
  if (typeof url !== 'string' || url === '') return 'TransportMetadata.Url is required';
  return undefined;
}
