import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far an event signature's timestamp may be from now, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

export type ParsedSignature = { timestamp: number; signatures: string[] };

/** Parses `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`; null when malformed. */
export function parseSignatureHeader(header: string | undefined): ParsedSignature | null {
  if (!header || header.length > 1000) return null;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  return timestamp === undefined || signatures.length === 0 ? null : { timestamp, signatures };
}

export function signPayload(secret: string, timestamp: number, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** The header an LMS plugin sends: what the demo's LMS panel and the tests use too. */
export function signatureHeader(secret: string, rawBody: Buffer | string, now = Date.now()): string {
  const t = Math.floor(now / 1000);
  return `t=${t},v1=${signPayload(secret, t, rawBody)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'stale' | 'mismatch' };

/** True when the signature's timestamp lies within the tolerance window around now. */
export function signatureIsFresh(parsed: ParsedSignature, nowMs: number): boolean {
  return Math.abs(nowMs / 1000 - parsed.timestamp) <= SIGNATURE_TOLERANCE_SECONDS;
}

/** True when one of the given secrets signed this body within the tolerance window. */
export function verifySignature(
  parsed: ParsedSignature,
  rawBody: Buffer,
  secrets: readonly string[],
  nowMs: number,
): SignatureCheck {
  if (!signatureIsFresh(parsed, nowMs)) return { ok: false, reason: 'stale' };
  for (const secret of secrets) {
    const expected = Buffer.from(signPayload(secret, parsed.timestamp, rawBody), 'hex');
    for (const given of parsed.signatures) {
      if (timingSafeEqual(expected, Buffer.from(given, 'hex'))) return { ok: true };
    }
  }
  return { ok: false, reason: 'mismatch' };
}
