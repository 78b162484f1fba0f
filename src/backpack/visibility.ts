import type { Types } from 'mongoose';
import type { Config } from '../config.js';
import type { BadgeSharingDoc, BadgeVisibility } from '../db/models/badgeSharing.js';
import { derive, sameToken } from './tokens.js';

/**
 * Whether a credential's public pages and documents answer. Hidden and link-only badges answer
 * 404 (as if there were no such credential: a 410 would tell the world one existed); a link-only
 * badge still answers through its holder's link, which carries `?key=`.
 */

/** The key of a credential's holder link: an HMAC of its id, so nothing needs storing. */
export const holderKey = (config: Pick<Config, 'ltiKey'>, credentialId: Types.ObjectId | string): string =>
  derive(config, 'holder-link', String(credentialId)).slice(0, 32);

export function visibilityOf(
  sharing: Pick<BadgeSharingDoc, 'visibility'> | null | undefined,
): BadgeVisibility {
  return sharing?.visibility ?? 'public';
}

export function publiclyVisible(
  config: Pick<Config, 'ltiKey'>,
  credentialId: Types.ObjectId | string,
  sharing: Pick<BadgeSharingDoc, 'visibility'> | null | undefined,
  givenKey: unknown,
): boolean {
  const visibility = visibilityOf(sharing);
  if (visibility === 'public') return true;
  if (visibility === 'hidden') return false;
  return sameToken(givenKey, holderKey(config, credentialId));
}
