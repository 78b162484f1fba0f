import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { PlatformDoc } from '../../db/models/platform.js';
import { identityPlatformIdOf, isActivePlatform } from '../../db/models/platform.js';
import { HttpError } from '../../errors.js';
import { normaliseEvent, type NormalisedEvent } from '../../events/normalise.js';
import { queueEventProcessing, storeEvents } from '../../events/store.js';
import { checkTokenTimes, DEFAULT_CLOCK_SKEW_S } from '../../security/tokenTimes.js';
import { upsertPerson } from '../../identity/launch.js';
import { knownMaxScore, recordActivities, recordGroups } from './activities.js';
import { CANVAS_LIVE_EVENTS_JWKS_URL, LiveEventSignatureError, type LiveEventKeySets } from './keys.js';
import { envelopeOf, mapLiveEvent } from './mapping.js';

/** The most bytes one delivery may have (Canvas sends one event per request; bodies are truncated at 8 KiB). */
export const MAX_LIVE_EVENT_BYTES = 1024 * 1024;
/** How long a receipt of a token without `exp` is kept for replay detection. */
export const RECEIPT_TTL_WITHOUT_EXP_MS = 7 * 24 * 3600 * 1000;

export type LiveEventAnswer = {
  stored: number;
  duplicates: number;
  activities: number;
  rejected: { index: number; error: string }[];
  ignored?: string;
};

const unauthorised = (message: string) => new HttpError(401, 'unauthorised', message);

/** One answer for an unknown platform and for a signature that does not hold: nothing to learn by probing. */
export const LIVE_EVENT_NOT_VERIFIED =
  'The Live Event could not be verified: it is not a token signed by this platform’s Live Events key set.';

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The compact JWT of a signed delivery. Canvas's HTTPS delivery with "Sign Payload" posts the token
 * as the body; receivers written against real Canvas find it wrapped in JSON string quotes, so both a
 * bare token and a JSON string holding one are taken. Null for anything else (an unsigned envelope).
 */
export function compactTokenOf(raw: Buffer): string | null {
  let text = raw.toString('utf8').trim();
  if (text.startsWith('"')) {
    try {
      const inner = JSON.parse(text) as unknown;
      if (typeof inner !== 'string') return null;
      text = inner.trim();
    } catch {
      return null;
    }
  }
  return COMPACT_JWS.test(text) ? text : null;
}

async function canvasPlatform(ctx: Context, platformId: string): Promise<PlatformDoc | null> {
  if (!Types.ObjectId.isValid(platformId) || String(new Types.ObjectId(platformId)) !== platformId)
    return null;
  const platform = await ctx.models.platforms.findById(platformId).lean<PlatformDoc>();
  if (!platform || platform.lms !== 'canvas' || !isActivePlatform(platform)) return null;
  return platform;
}

/**
 * POST /api/v1/webhooks/canvas/:platformId: one Canvas Live Event, delivered over HTTPS as a signed
 * JWT (RS256) whose claims hold `{ metadata, body }`.
 * 1. the platform: a registered, active Canvas platform (else 401, the same answer as a bad signature);
 * 2. the signature, with the platform's `liveEventsJwksUrl` (default: Instructure's key set), the set
 *    fetched again for an unknown `kid` (401; 503 when the key set cannot be fetched, so Canvas retries);
 * 3. `iat`/`nbf`/`exp` when present, within 60 s of clock skew (401);
 * 4. the root account, when the platform names one (401 for another school's events);
 * 5. the token seen before (its `jti`, or its hash): a replay, 401;
 * 6. only then the event is mapped and stored once (its id is stable, so the same event delivered in
 *    another token is a counted duplicate), its processing queued, and the activities it names recorded.
 * An event Laurel does not use is answered 200 with `ignored` (Canvas would retry anything else).
 */
export async function receiveLiveEvent(
  ctx: Context,
  keySets: LiveEventKeySets,
  platformId: string,
  raw: Buffer,
): Promise<LiveEventAnswer> {
  if (raw.length > MAX_LIVE_EVENT_BYTES) throw new HttpError(413, 'too_large', 'The body is over 1 MiB.');
  const platform = await canvasPlatform(ctx, platformId);
  if (!platform) throw unauthorised(LIVE_EVENT_NOT_VERIFIED);
  const token = compactTokenOf(raw);
  if (!token)
    throw unauthorised(
      'The body is not a signed Live Event: turn on "Sign Payload" for this HTTPS subscription in Canvas Data Services.',
    );

  let payloadBytes: Uint8Array;
  try {
    payloadBytes = await keySets.verify(token, platform.liveEventsJwksUrl || CANVAS_LIVE_EVENTS_JWKS_URL);
  } catch (err) {
    if (!(err instanceof LiveEventSignatureError)) throw err;
    if (err.reason === 'key_set_unavailable') {
      ctx.logger.warn({ platformId, err: err.message }, 'canvas live event: key set unavailable');
      throw new HttpError(
        503,
        'key_set_unavailable',
        'The Live Events key set could not be fetched; retry later.',
      );
    }
    ctx.logger.info({ platformId, reason: err.reason }, 'canvas live event refused: signature');
    throw unauthorised(LIVE_EVENT_NOT_VERIFIED);
  }

  let claims: Record<string, unknown>;
  try {
    const parsed = JSON.parse(Buffer.from(payloadBytes).toString('utf8')) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    claims = parsed as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'invalid_token', 'The token’s claims are not a JSON object.');
  }
  const now = ctx.now();
  const timeProblem = checkTokenTimes(claims, now, DEFAULT_CLOCK_SKEW_S);
  if (timeProblem) throw unauthorised(timeProblem.message);

  const envelope = envelopeOf(claims);
  if (!envelope)
    throw new HttpError(400, 'invalid_event', 'The token’s claims hold no Live Event ({ metadata, body }).');
  const eventName = String(envelope.metadata.event_name).slice(0, 100);
  if (
    platform.liveEventsRootAccountGuid &&
    envelope.metadata.root_account_lti_guid !== platform.liveEventsRootAccountGuid
  )
    throw unauthorised('The Live Event comes from another Canvas root account than this platform’s.');

  const jti = typeof claims.jti === 'string' && claims.jti !== '' ? claims.jti.slice(0, 200) : null;
  const receiptId = `${String(platform._id)}:${jti ?? `sha256:${createHash('sha256').update(token).digest('hex')}`}`;
  if (await ctx.models.liveEventReceipts.exists({ _id: receiptId }))
    throw unauthorised('This Live Event token was delivered before (a replay); it is not taken twice.');

  // One Canvas registered twice (sameLmsAs): its events, people and activities are the first one's.
  const identityId = identityPlatformIdOf(platform);
  const mapped = mapLiveEvent(envelope, String(identityId), now);
  if (mapped.needsMaxScore && mapped.events[0]) {
    const known = await knownMaxScore(
      ctx,
      identityId,
      mapped.needsMaxScore.courseId,
      mapped.needsMaxScore.activityId,
    );
    const data = mapped.events[0].data;
    if (known.maxScore !== null && data.maxScore === undefined) data.maxScore = known.maxScore;
    if (known.name !== null && data.activityName === undefined) data.activityName = known.name;
  }

  const rejected: { index: number; error: string }[] = [];
  const valid: NormalisedEvent[] = [];
  mapped.events.forEach((event, index) => {
    const result = normaliseEvent(event, now);
    if (result.ok) valid.push(result.event);
    else rejected.push({ index, error: result.error });
  });
  await joinRosterPeople(ctx, identityId, valid);
  const stored = valid.length
    ? await storeEvents(ctx, { _id: identityId }, valid, 'canvas')
    : { stored: 0, duplicates: 0 };
  // A redelivery wakes it too: the delivery that stored its events may have died before waking anyone.
  if (stored.stored > 0 || stored.duplicates > 0) await queueEventProcessing(ctx);
  if (mapped.groups?.length) await recordGroups(ctx, identityId, mapped.groups);
  if (mapped.activities.length) await recordActivities(ctx, identityId, mapped.activities);

  // Recorded last: a delivery that failed before this point may be retried with the same token.
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 + DEFAULT_CLOCK_SKEW_S * 1000 : null;
  await ctx.models.liveEventReceipts
    .create({
      _id: receiptId,
      platformId: platform._id,
      eventName,
      receivedAt: now,
      expiresAt: new Date(exp ?? now.getTime() + RECEIPT_TTL_WITHOUT_EXP_MS),
    })
    .catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err;
    });

  if (rejected.length)
    ctx.logger.warn({ platformId, eventName, rejected }, 'canvas live event: mapped event rejected');
  return {
    stored: stored.stored,
    duplicates: stored.duplicates,
    activities: mapped.activities.length,
    rejected,
    ...(mapped.ignored ? { ignored: mapped.ignored } : {}),
  };
}

/**
 * Canvas's roster (NRPS) names people by their LTI `sub` and LTI 1.1 id only, never by a Canvas user id.
 * A submission event carries that LTI 1.1 id (`lti_user_id`): through it, the Canvas user ids (local and
 * global) join the person the roster made, before the event is processed, so that the grade counts for
 * them and not for a second person made from the Canvas id. Without such a person, this makes the one
 * the event names, as processing would.
 */
async function joinRosterPeople(
  ctx: Context,
  platformId: Types.ObjectId,
  events: readonly NormalisedEvent[],
) {
  for (const event of events) {
    const refs = event.data.canvas as Record<string, unknown> | undefined;
    const ltiUserId = typeof refs?.ltiUserId === 'string' ? refs.ltiUserId : null;
    if (!ltiUserId) continue;
    await upsertPerson(ctx.models, platformId, {
      lmsUserId: event.user.id,
      otherIds: [typeof refs?.userId === 'string' ? refs.userId : null, ltiUserId],
    });
  }
}
