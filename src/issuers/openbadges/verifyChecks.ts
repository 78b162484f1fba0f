import { checkStatus } from '@digitalbazaar/vc-bitstring-status-list';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import type { DocumentLoader } from './documentLoader.js';
import { fetchJson, type Fetcher } from './fetcher.js';

/** The checks a verification reports, each by name, so a caller can say which one failed. */
export type CheckName =
  | 'format'
  | 'schema'
  | 'signature'
  | 'issuer'
  | 'expiry'
  | 'status'
  /** A learner record (CLR): every credential it holds verifies on its own. */
  | 'credentials';

export type VerificationCheck = { check: CheckName; ok: boolean; message: string };

export type VerificationResult = {
  /** True when every check passed. */
  valid: boolean;
  format: 'ob3-data-integrity' | 'ob3-jwt' | 'ob2-hosted' | 'ob2-signed' | 'clr-data-integrity' | 'unknown';
  issuer: { id: string | null; name: string | null; url: string | null } | null;
  achievement: {
    id: string | null;
    name: string | null;
    description: string | null;
    image: string | null;
  } | null;
  /** The credential or assertion that was checked (as found, unsigned parts and all). */
  credential: Record<string, unknown> | null;
  checks: VerificationCheck[];
  /** A learner record (CLR): the verification of each credential it holds, in its order. */
  embedded?: VerificationResult[];
};

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const asArray = <T>(v: T | T[] | undefined | null): T[] =>
  v == null ? [] : Array.isArray(v) ? v : [v];
export const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
export const idOf = (v: unknown): string | null => str(v) ?? (isObject(v) ? str(v.id) : null);

export function result(
  format: VerificationResult['format'],
  credential: Json | null,
  checks: VerificationCheck[],
  summary?: Pick<VerificationResult, 'issuer' | 'achievement'>,
): VerificationResult {
  if (summary)
    return { valid: checks.length > 0 && checks.every((c) => c.ok), format, ...summary, credential, checks };
  const issuer = credential ? credential.issuer : null;
  const subject = credential ? asArray(credential.credentialSubject as Json | Json[])[0] : null;
  const achievement = isObject(subject) && isObject(subject.achievement) ? subject.achievement : null;
  return {
    valid: checks.length > 0 && checks.every((c) => c.ok),
    format,
    issuer: issuer
      ? {
          id: idOf(issuer),
          name: isObject(issuer) ? str(issuer.name) : null,
          url: isObject(issuer) ? str(issuer.url) : null,
        }
      : null,
    achievement: achievement
      ? {
          id: str(achievement.id),
          name: str(achievement.name),
          description: str(achievement.description),
          image: idOf(achievement.image),
        }
      : null,
    credential,
    checks,
  };
}

const V2 = 'https://www.w3.org/ns/credentials/v2';
const V1 = 'https://www.w3.org/2018/credentials/v1';
const OB_CONTEXT = /^https:\/\/purl\.imsglobal\.org\/spec\/ob\/v3p0\/context(-3\.\d\.\d)*\.json$/;
const validDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/**
 * The OB 3.0 conformance rules every AchievementCredential must meet (the ones 1EdTech's schema
 * and validator enforce first): contexts, types, issuer, dates, subject and achievement.
 */
export function checkOb3Shape(c: Json): VerificationCheck {
  const problems: string[] = [];
  const contexts = asArray(c['@context'] as unknown[]);
  const v1 = contexts[0] === V1;
  if (contexts[0] !== V2 && !v1) problems.push(`@context must start with ${V2}`);
  if (!contexts.some((x) => typeof x === 'string' && OB_CONTEXT.test(x)))
    problems.push('@context must include the Open Badges 3.0 context');
  if (!str(c.id)) problems.push('id is missing');
  const types = asArray(c.type as string[]);
  if (!types.includes('VerifiableCredential')) problems.push('type must include VerifiableCredential');
  if (!types.includes('AchievementCredential') && !types.includes('OpenBadgeCredential'))
    problems.push('type must include AchievementCredential or OpenBadgeCredential');
  if (!idOf(c.issuer)) problems.push('issuer (with an id) is missing');
  else if (isObject(c.issuer) && !asArray(c.issuer.type as string[]).includes('Profile'))
    problems.push('issuer.type must include Profile');
  const from = v1 ? 'issuanceDate' : 'validFrom';
  const until = v1 ? 'expirationDate' : 'validUntil';
  if (!validDate(c[from])) problems.push(`${from} is missing or not a date`);
  if (c[until] !== undefined && !validDate(c[until])) problems.push(`${until} is not a date`);
  const subject = c.credentialSubject;
  if (!isObject(subject)) problems.push('credentialSubject is missing');
  else {
    if (!asArray(subject.type as string[]).includes('AchievementSubject'))
      problems.push('credentialSubject.type must include AchievementSubject');
    if (!str(subject.id) && asArray(subject.identifier as unknown[]).length === 0)
      problems.push('credentialSubject needs an id or an identifier');
    const a = subject.achievement;
    if (!isObject(a)) problems.push('credentialSubject.achievement is missing');
    else {
      if (!str(a.id)) problems.push('achievement.id is missing');
      if (!asArray(a.type as string[]).includes('Achievement'))
        problems.push('achievement.type must include Achievement');
      if (!str(a.name)) problems.push('achievement.name is missing');
      if (!isObject(a.criteria)) problems.push('achievement.criteria is missing');
    }
  }
  return problems.length
    ? { check: 'schema', ok: false, message: `Not a conformant OB 3.0 credential: ${problems.join('; ')}.` }
    : { check: 'schema', ok: true, message: 'Conforms to the OB 3.0 AchievementCredential shape.' };
}

/** validFrom / validUntil (issuanceDate / expirationDate) against now, with clock skew. */
export function checkDates(c: Json, now: Date, skewMs: number): VerificationCheck {
  const from = str(c.validFrom) ?? str(c.issuanceDate);
  const until = str(c.validUntil) ?? str(c.expirationDate);
  if (from && Date.parse(from) - skewMs > now.getTime())
    return { check: 'expiry', ok: false, message: `Not valid yet: valid from ${from}.` };
  if (until && Date.parse(until) + skewMs < now.getTime())
    return { check: 'expiry', ok: false, message: `Expired on ${until}.` };
  return {
    check: 'expiry',
    ok: true,
    message: until ? `Valid until ${until}.` : 'Does not expire.',
  };
}

/**
 * Revocation: a W3C Bitstring Status List (the list credential is loaded through the loader and
 * its own proof checked, and it must come from the same issuer) or a 1EdTech Revocation List.
 */
export async function checkCredentialStatus(
  c: Json,
  documentLoader: DocumentLoader,
  fetcher: Fetcher,
): Promise<VerificationCheck> {
  const entries = asArray(c.credentialStatus as Json | Json[]).filter(isObject);
  if (entries.length === 0)
    return { check: 'status', ok: true, message: 'Carries no status entry, so it cannot be revoked.' };
  for (const entry of entries) {
    if (entry.type === 'BitstringStatusListEntry') {
      if (entry.statusPurpose !== 'revocation' && entry.statusPurpose !== 'suspension') continue;
      const status = await checkStatus({
        credential: c,
        documentLoader,
        suite: new DataIntegrityProof({ cryptosuite }),
        verifyBitstringStatusListCredential: true,
        verifyMatchingIssuers: true,
      });
      if (!status.verified)
        return {
          check: 'status',
          ok: false,
          message: `The status list could not be checked: ${status.error?.message ?? 'not verified'}.`,
        };
      const hit = (status.results ?? []).find((r) => r.status === true);
      if (hit)
        return {
          check: 'status',
          ok: false,
          message: `${hit.credentialStatus?.statusPurpose === 'suspension' ? 'Suspended' : 'Revoked'} by its issuer (status list ${String(hit.credentialStatus?.statusListCredential)}, entry ${String(hit.credentialStatus?.statusListIndex)}).`,
        };
      return { check: 'status', ok: true, message: 'Not revoked (status list checked).' };
    }
    if (entry.type === '1EdTechRevocationList' && str(entry.id)) {
      let list: unknown;
      try {
        list = await fetchJson(fetcher, entry.id as string);
      } catch (err) {
        return {
          check: 'status',
          ok: false,
          message: `The revocation list could not be read: ${(err as Error).message}.`,
        };
      }
      const revoked = isObject(list)
        ? asArray((list.revokedCredential ?? list.revokedCredentials) as Json[])
        : [];
      const hit = revoked.find((r) => isObject(r) && r.id === c.id && r.revoked !== false);
      return hit
        ? {
            check: 'status',
            ok: false,
            message: `Revoked by its issuer${str(hit.revocationReason) ? `: ${hit.revocationReason}` : ''}.`,
          }
        : { check: 'status', ok: true, message: 'Not on the issuer’s revocation list.' };
    }
  }
  return {
    check: 'status',
    ok: false,
    message: `Status of type ${entries.map((e) => String(e.type)).join(', ')} cannot be checked.`,
  };
}
