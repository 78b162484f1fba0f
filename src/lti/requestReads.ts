import type { Request } from 'express';
import type { Context } from '../context.js';
import type { PlatformDoc } from '../db/models/platform.js';
import type { LtiDatabase, SessionKeys, SessionTokens } from './database.js';

const platforms = new WeakMap<Request, Map<string, Promise<PlatformDoc | null>>>();
const issuers = new WeakMap<Request, Map<string, Promise<PlatformDoc[]>>>();

/** The reads one request has made of one kind, by key (created on first use). */
function readsOf<T>(byRequest: WeakMap<Request, Map<string, T>>, req: Request): Map<string, T> {
  let reads = byRequest.get(req);
  if (!reads) {
    reads = new Map();
    byRequest.set(req, reads);
  }
  return reads;
}

/** More registrations of one issuer than any LMS has (one per client id: dynamic, manual, test). */
const MAX_REGISTRATIONS_OF_AN_ISSUER = 50;

/**
 * The platform registered as (issuer, client id), read once per request: a course page's framing
 * policy and its launch session both need it. Kept with the request alone, so nothing is reused
 * across requests (no cache that processes would have to agree on). Where the request has read
 * every registration of the issuer already (the framing of a login or launch), it is taken from
 * that read.
 */
export function platformForRequest(
  ctx: Context,
  req: Request,
  issuer: string,
  clientId: string,
): Promise<PlatformDoc | null> {
  const reads = readsOf(platforms, req);
  const key = JSON.stringify([issuer, clientId]);
  let read = reads.get(key);
  if (!read) {
    const ofIssuer = issuers.get(req)?.get(issuer);
    read = ofIssuer
      ? ofIssuer.then((list) => list.find((p) => p.clientId === clientId) ?? null)
      : ctx.models.platforms.findOne({ issuer, clientId }).lean<PlatformDoc>().exec();
    reads.set(key, read);
  }
  return read;
}

/**
 * Every registration of one issuer (whatever its client id), read once per request. With ltijs's
 * store (a login or launch, which ltijs handles next), ltijs's records of the issuer come in the
 * same round trip and are kept for ltijs's own reads of this request (LtiDatabase.keepPlatformRecords).
 */
export function platformsOfIssuerForRequest(
  ctx: Context,
  req: Request,
  issuer: string,
  lti?: LtiDatabase,
): Promise<PlatformDoc[]> {
  const reads = readsOf(issuers, req);
  let read = reads.get(issuer);
  if (!read) {
    read = lti
      ? ctx.models.platforms.collection
          .aggregate<PlatformDoc>([
            { $match: { issuer } },
            { $limit: MAX_REGISTRATIONS_OF_AN_ISSUER },
            lti.platformRecordsLookup(issuer),
          ])
          .toArray()
          .then((docs) => {
            lti.keepPlatformRecords(issuer, docs);
            return docs;
          })
      : ctx.models.platforms
          .find({ issuer })
          .limit(MAX_REGISTRATIONS_OF_AN_ISSUER)
          .lean<PlatformDoc[]>()
          .exec();
    reads.set(issuer, read);
  }
  return read;
}

/** What a course page's launch reads: its platform and ltijs's two records of its session. */
export type SessionReads = SessionTokens & { platform: PlatformDoc | null };

const sessions = new WeakMap<Request, Map<string, Promise<SessionReads>>>();

/**
 * The platform and session of an ltik (verified by the caller), in one round trip, once per
 * request: a course page's framing policy and its launch session both need them. The platform is
 * then also this request's answer to platformForRequest.
 */
export function sessionReadsForRequest(
  ctx: Context,
  req: Request | undefined,
  lti: LtiDatabase,
  session: SessionKeys,
): Promise<SessionReads> {
  if (!req) return readSession(ctx, lti, session);
  const reads = readsOf(sessions, req);
  const { platformUrl, clientId, deploymentId, contextId, user } = session;
  const key = JSON.stringify([platformUrl, clientId, deploymentId, contextId, user]);
  let read = reads.get(key);
  if (!read) {
    read = readSession(ctx, lti, session);
    reads.set(key, read);
    const ofPlatform = readsOf(platforms, req);
    const platformKey = JSON.stringify([platformUrl, clientId]);
    if (!ofPlatform.has(platformKey)) {
      const platform = read.then((r) => r.platform);
      // Whoever asks for it gets a failed read's error; unasked, it must not end the process.
      platform.catch(() => undefined);
      ofPlatform.set(platformKey, platform);
    }
  }
  return read;
}

async function readSession(ctx: Context, lti: LtiDatabase, session: SessionKeys): Promise<SessionReads> {
  const [doc] = await ctx.models.platforms.collection
    .aggregate<PlatformDoc>([
      { $match: { issuer: session.platformUrl, clientId: session.clientId } },
      { $limit: 1 },
      ...lti.sessionTokensLookups(session),
    ])
    .toArray();
  // No platform: the tokens still say whether the session is there at all (which refusal applies).
  if (!doc) return { platform: null, ...(await lti.sessionTokens(session)) };
  return { ...lti.takeSessionTokens(doc), platform: doc };
}
