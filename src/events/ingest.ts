import type { Context } from '../context.js';
import { identityPlatformIdOf, type PlatformDoc } from '../db/models/platform.js';
import { HttpError } from '../errors.js';
import { findPlatformByReference, webhookSecretsOf } from '../platforms/service.js';
import { normaliseEvent, type NormalisedEvent } from './normalise.js';
import {
  parseSignatureHeader,
  signatureIsFresh,
  verifySignature,
  type ParsedSignature,
} from './signature.js';
import { queueEventProcessing, storeEvents, type StoreResult } from './store.js';

export const MAX_EVENTS_PER_REQUEST = 500;
export const MAX_BODY_BYTES = 1024 * 1024;

export type IngestAnswer = StoreResult & { rejected: { index: number; error: string }[] };

const unauthorised = (message: string) => new HttpError(401, 'unauthorised', message);

/**
 * The one answer for every signature that does not hold, whatever the reason: an unknown platform, a
 * body naming none, a body that does not parse, or a mismatch. Nothing to learn by probing.
 */
export const SIGNATURE_NOT_VERIFIED =
  'The signature could not be verified: it matches no registered platform and this body.';

/**
 * The X-Laurel-Signature header, well formed and dated within 5 minutes of now; else a 401. Cheap and
 * independent of the body, so the route runs it before reading the body too.
 */
export function checkSignatureHeader(header: string | undefined, nowMs: number): ParsedSignature {
  const parsed = parseSignatureHeader(header);
  if (!parsed)
    throw unauthorised(
      'The X-Laurel-Signature header is missing or malformed (expected t=<unix seconds>,v1=<hex>).',
    );
  if (!signatureIsFresh(parsed, nowMs))
    throw unauthorised('The signature timestamp is more than 5 minutes from now; check the sender’s clock.');
  return parsed;
}

/**
 * POST /api/v1/events. Nothing of the body is looked at beyond what finding its signer needs until
 * the signature holds, so an unsigned request learns nothing of the validation (issue 17, item 9):
 * 1. the header: present, well formed, fresh (401);
 * 2. the body's size (413 over 1 MiB, also enforced while reading it);
 * 3. the signing platform, named by the first event's `platform` (the body parsed only for that; a
 *    body that does not parse is searched for its first `"platform": "…"` instead), and the HMAC
 *    over the raw bytes with its webhook secrets: 401 with one message for every failure;
 * 4. only then: 400 invalid_json / invalid_request, 413 too_many_events, and each event validated,
 *    the good ones stored once (idempotent on the event id) and their processing queued.
 */
export async function ingestGenericEvents(
  ctx: Context,
  rawBody: Buffer,
  signature: string | undefined,
): Promise<IngestAnswer> {
  const parsedSignature = checkSignatureHeader(signature, ctx.now().getTime());
  if (rawBody.length > MAX_BODY_BYTES) throw new HttpError(413, 'too_large', 'The body is over 1 MiB.');

  const text = rawBody.toString('utf8');
  const body = parseJson(text);
  const platformRef = body.ok ? platformReferenceOf(body.value) : platformReferenceIn(text);
  const platform = platformRef ? await findPlatformByReference(ctx, platformRef) : null;
  if (!platform) throw unauthorised(SIGNATURE_NOT_VERIFIED);
  const check = verifySignature(
    parsedSignature,
    rawBody,
    webhookSecretsOf(ctx, platform),
    ctx.now().getTime(),
  );
  if (!check.ok) throw unauthorised(SIGNATURE_NOT_VERIFIED);

  // Signed by a registered platform: from here on the sender may learn what is wrong with its body.
  if (!body.ok) throw new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
  const items = eventsOf(body.value);
  if (items.length > MAX_EVENTS_PER_REQUEST)
    throw new HttpError(
      413,
      'too_many_events',
      `At most ${MAX_EVENTS_PER_REQUEST} events per request; got ${items.length}.`,
    );
  if (items.length === 0) throw new HttpError(400, 'invalid_request', 'The body holds no events.');

  const now = ctx.now();
  const rejected: { index: number; error: string }[] = [];
  const valid: { index: number; event: NormalisedEvent }[] = [];
  items.forEach((item, index) => {
    const result = normaliseEvent(item, now);
    if (!result.ok) rejected.push({ index, error: result.error });
    else if (!namesPlatform(platform, result.event.platform))
      rejected.push({
        index,
        error: 'platform: names a different platform than the one that signed the request',
      });
    else valid.push({ index, event: result.event });
  });
  if (valid.length === 0) {
    throw new HttpError(
      400,
      'invalid_events',
      `No event could be stored: ${rejected.map((r) => `#${r.index} ${r.error}`).join(' | ')}`,
      rejected.map((r) => ({ path: `events.${r.index}`, message: r.error })),
    );
  }
  // One LMS registered twice (sameLmsAs): whichever registration signed, its events count in the one
  // set of courses and people its launches use.
  const stored = await storeEvents(
    ctx,
    { _id: identityPlatformIdOf(platform) },
    valid.map((v) => v.event),
    'generic',
  );
  // Duplicates wake it too: a resend is often one whose first answer was lost, and the request that
  // stored them may have died before waking anyone (the recurring run would find them a minute later).
  if (stored.stored > 0 || stored.duplicates > 0) await queueEventProcessing(ctx);
  return { ...stored, rejected };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The `platform` of the first event that names one as a string (one event, or `{ events: [...] }`). */
function platformReferenceOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const events = (body as { events?: unknown }).events;
  const items: unknown[] = 'events' in body ? (Array.isArray(events) ? events : []) : [body];
  for (const item of items) {
    const ref = (item as { platform?: unknown } | null)?.platform;
    if (typeof ref === 'string') return ref;
  }
  return undefined;
}

/** A string member `"platform": "…"` (at most 200 characters, as events allow) anywhere in the text. */
// eslint-disable-next-line no-control-regex
const PLATFORM_MEMBER = /"platform"\s*:\s*("(?:[^"\\\u0000-\u001f]|\\.){1,400}")/;

/**
 * The first `"platform": "…"` of a body that is not JSON, so that a body its platform signed but
 * that broke on the way (or in the sender) is answered 400 invalid_json instead of 401.
 */
function platformReferenceIn(text: string): string | undefined {
  const literal = PLATFORM_MEMBER.exec(text)?.[1];
  if (!literal) return undefined;
  try {
    const ref = JSON.parse(literal) as unknown;
    return typeof ref === 'string' && ref.length <= 200 ? ref : undefined;
  } catch {
    return undefined;
  }
}

function eventsOf(body: unknown): unknown[] {
  if (body && typeof body === 'object' && !Array.isArray(body) && 'events' in body) {
    const events = (body as { events: unknown }).events;
    if (!Array.isArray(events)) throw new HttpError(400, 'invalid_request', '"events" must be an array.');
    return events;
  }
  if (body && typeof body === 'object' && !Array.isArray(body)) return [body];
  throw new HttpError(400, 'invalid_request', 'The body must be one event or { "events": [...] }.');
}

const namesPlatform = (platform: PlatformDoc, ref: string) =>
  ref === String(platform._id) || ref === platform.issuer;
