import type { Types } from 'mongoose';

type Id = Types.ObjectId | string;

/**
 * The public URLs of everything a credential points at. They are part of every signed credential,
 * so they never change shape: a verifier years from now must still find the issuer, its keys and
 * the status list at the same addresses.
 */
export function openBadgeUrls(publicUrl: string) {
  const base = publicUrl.replace(/\/+$/, '');
  return {
    base,
    credential: (id: Id) => `${base}/credentials/${id}`,
    credentialImage: (id: Id, ext: 'png' | 'svg') => `${base}/credentials/${id}/image.${ext}`,
    issuer: (id: Id) => `${base}/issuers/${id}`,
    /** A key has its own URL, without a fragment: some verifiers read a fragment URL as the whole profile. */
    issuerKey: (issuerId: Id, publicKeyMultibase: string) =>
      `${base}/issuers/${issuerId}/keys/${publicKeyMultibase}`,
    achievement: (templateId: Id) => `${base}/achievements/${templateId}`,
    /** One level (tier) of a badge with levels: an achievement of its own. */
    achievementLevel: (templateId: Id, levelId: string) =>
      `${base}/achievements/${templateId}/levels/${encodeURIComponent(levelId)}`,
    statusList: (id: Id) => `${base}/status-lists/${id}`,
    /** A pathway and its steps, as achievements of a learner record (not signed into badges). */
    pathway: (id: Id) => `${base}/pathways/${id}`,
    pathwayStep: (pathwayId: Id, stepId: string) =>
      `${base}/pathways/${pathwayId}/steps/${encodeURIComponent(stepId)}`,
    image: (imageId: string) => `${base}/images/${imageId}`,
    defaultImage: (templateId: Id) => `${base}/images/default/${templateId}.svg`,
    ob2Assertion: (id: Id) => `${base}/ob2/assertions/${id}`,
    ob2Badge: (templateId: Id) => `${base}/ob2/badges/${templateId}`,
    ob2Issuer: (id: Id) => `${base}/ob2/issuers/${id}`,
  };
}

export type OpenBadgeUrls = ReturnType<typeof openBadgeUrls>;

/** The Laurel document a URL of this instance names, or null for anything else. */
export function parseLaurelUrl(
  publicUrl: string,
  url: string,
):
  | { kind: 'issuer'; id: string }
  | { kind: 'key'; issuerId: string; publicKeyMultibase: string }
  | { kind: 'statusList'; id: string }
  | { kind: 'achievement'; id: string; level?: string }
  | { kind: 'credential'; id: string }
  | null {
  const base = publicUrl.replace(/\/+$/, '');
  if (!url.startsWith(`${base}/`)) return null;
  const path = url.slice(base.length).replace(/#.*$/, '');
  let m = /^\/issuers\/([0-9a-f]{24})$/.exec(path);
  if (m) return { kind: 'issuer', id: m[1]! };
  m = /^\/issuers\/([0-9a-f]{24})\/keys\/(z[1-9A-HJ-NP-Za-km-z]+)$/.exec(path);
  if (m) return { kind: 'key', issuerId: m[1]!, publicKeyMultibase: m[2]! };
  m = /^\/status-lists\/([0-9a-f]{24})$/.exec(path);
  if (m) return { kind: 'statusList', id: m[1]! };
  m = /^\/achievements\/([0-9a-f]{24})$/.exec(path);
  if (m) return { kind: 'achievement', id: m[1]! };
  m = /^\/achievements\/([0-9a-f]{24})\/levels\/([A-Za-z0-9_-]{1,64})$/.exec(path);
  if (m) return { kind: 'achievement', id: m[1]!, level: m[2]! };
  m = /^\/credentials\/([0-9a-f]{24})$/.exec(path);
  if (m) return { kind: 'credential', id: m[1]! };
  return null;
}
