import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';

/**
 * The secrets of the backpack. Bearer tokens (sessions, sign-in links) are 32 random bytes, stored
 * only as their SHA-256. Derived values (CSRF tokens, holder keys, unsubscribe links) are HMACs keyed
 * with LTI_KEY, each with its own label, so one can never stand in for another.
 */

export const newToken = (): string => randomBytes(32).toString('base64url');

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export function derive(config: Pick<Config, 'ltiKey'>, label: string, value: string): string {
  return createHmac('sha256', config.ltiKey).update(`laurel-${label}/v1\n`).update(value).digest('base64url');
}

/** Constant-time comparison of a given value with the expected one; false for anything not a string. */
export function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A random token's shape (what newToken makes), checked before any lookup. */
export const looksLikeToken = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
