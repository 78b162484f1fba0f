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
