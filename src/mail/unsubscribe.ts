import type { Config } from '../config.js';
import { derive, sameToken } from '../backpack/tokens.js';

/**
 * Unsubscribe links: the address and an HMAC of it, so a link works without a session, for ever,
 * and cannot be made for someone else's address.
 */
export const UNSUBSCRIBE_PATH = '/backpack/unsubscribe';

const signature = (config: Pick<Config, 'ltiKey'>, email: string) =>
  derive(config, 'unsubscribe', email.toLowerCase());

export function unsubscribeUrl(config: Pick<Config, 'ltiKey' | 'publicUrl'>, email: string): string {
  const query = new URLSearchParams({ e: email.toLowerCase(), s: signature(config, email) });
  return `${config.publicUrl}${UNSUBSCRIBE_PATH}?${query.toString()}`;
}

/** The address a link names, if its signature is right. */
export function unsubscribeAddress(config: Pick<Config, 'ltiKey'>, e: unknown, s: unknown): string | null {
  if (typeof e !== 'string' || e.length > 320) return null;
  return sameToken(s, signature(config, e)) ? e.toLowerCase() : null;
}

/**
 * The link that ends one weekly digest (an instructor's, of one course): the subscription's id and
 * an HMAC of it, under its own label, so it cannot stand in for an address's link nor the reverse.
 */
const digestSignature = (config: Pick<Config, 'ltiKey'>, id: string) =>
  derive(config, 'digest-unsubscribe', id);

export function digestUnsubscribeUrl(
  config: Pick<Config, 'ltiKey' | 'publicUrl'>,
  subscriptionId: string,
): string {
  const query = new URLSearchParams({ d: subscriptionId, s: digestSignature(config, subscriptionId) });
  return `${config.publicUrl}${UNSUBSCRIBE_PATH}?${query.toString()}`;
}

/** The digest subscription a link names, if its signature is right. */
export function digestUnsubscribeId(config: Pick<Config, 'ltiKey'>, d: unknown, s: unknown): string | null {
  if (typeof d !== 'string' || !/^[0-9a-f]{24}$/.test(d)) return null;
  return sameToken(s, digestSignature(config, d)) ? d : null;
}
