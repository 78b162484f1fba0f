import type { Context } from '../context.js';
import type { PlatformDoc } from '../db/models/platform.js';
import { HttpError } from '../errors.js';
import { findPlatformByReference, webhookSecretsOf } from '../platforms/service.js';
import { normaliseEvent, type NormalisedEvent } from './normalise.js';
import { parseSignatureHeader, verifySignature } from './signature.js';
import { queueEventProcessing, storeEvents, type StoreResult } from './store.js';

export const MAX_EVENTS_PER_REQUEST = 500;
export const MAX_BODY_BYTES = 1024 * 1024;

export type IngestAnswer = StoreResult & { rejected: { index: number; error: string }[] };

const unauthorised = (message: string) => new HttpError(401, 'unauthorised', message);

/**
 * POST /api/v1/events: checks the signature against the platform's webhook secret, validates
 * each event, stores the good ones once (idempotent on the event id) and queues their processing.
 * Nothing is stored unless the signature holds.
 */
export async function ingestGenericEvents(
  ctx: Context,
  rawBody: Buffer,
  signature: string | undefined,
): Promise<IngestAnswer> {
  const parsedSignature = parseSignatureHeader(signature);
  if (!parsedSignature)
    throw unauthorised(
      'The X-Laurel-Signature header is missing or malformed (expected t=<unix seconds>,v1=<hex>).',
    );
  if (rawBody.length > MAX_BODY_BYTES) throw new HttpError(413, 'too_large', 'The body is over 1 MiB.');

  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  const items = eventsOf(body);
  if (items.length > MAX_EVENTS_PER_REQUEST)
    throw new HttpError(
      413,
      'too_many_events',
      `At most ${MAX_EVENTS_PER_REQUEST} events per request; got ${items.length}.`,
    );
  if (items.length === 0) throw new HttpError(400, 'invalid_request', 'The body holds no events.');

  const platformRef = items
    .map((e) => (e as { platform?: unknown })?.platform)
    .find((p) => typeof p === 'string');
  const platform = typeof platformRef === 'string' ? await findPlatformByReference(ctx, platformRef) : null;
  // The same answer for an unknown platform and a bad signature: nothing to learn by probing.
  if (!platform) throw unauthorised('The signature does not match a registered platform.');
  const check = verifySignature(
    parsedSignature,
    rawBody,
    webhookSecretsOf(ctx, platform),
    ctx.now().getTime(),
  );
  if (!check.ok)
    throw unauthorised(
      check.reason === 'stale'
        ? 'The signature timestamp is more than 5 minutes from now; check the sender’s clock.'
        : 'The signature does not match a registered platform.',
    );

  const rejected: { index: number; error: string }[] = [];
  const valid: { index: number; event: NormalisedEvent }[] = [];
  items.forEach((item, index) => {
    const result = normaliseEvent(item);
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
  const stored = await storeEvents(
    ctx,
    platform,
    valid.map((v) => v.event),
    'generic',
  );
  if (stored.stored > 0) await queueEventProcessing(ctx);
  return { ...stored, rejected };
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
