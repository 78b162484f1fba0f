import { createHash } from 'node:crypto';
import { CONTEXT } from './contexts.js';

/**
 * Pure builders of the Open Badges 3.0 documents Laurel issues: no database, no clock, no keys.
 * Everything they need is passed in, so a test can build a credential from plain values.
 */

export const ACHIEVEMENT_CREDENTIAL_SCHEMA =
  'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json';

/** The issuer as embedded in a credential (an OB 3.0 Profile). */
export type IssuerSummary = {
  id: string;
  name: string;
  url?: string | null;
  email?: string | null;
  description?: string | null;
  imageUrl?: string | null;
};

export type AlignmentInput = {
  targetName: string;
  targetUrl?: string | null;
  targetDescription?: string | null;
  targetFramework?: string | null;
  targetCode?: string | null;
};

export type AchievementInput = {
  id: string;
  name: string;
  description: string;
  criteria: string;
  imageUrl: string;
  tags: readonly string[];
  alignments: readonly AlignmentInput[];
  creator?: IssuerSummary;
};

/** Who earned it: an e-mail address when known, else another id the LMS gave (hashed as well). */
export type RecipientInput = {
  email?: string | null;
  /** Used when no e-mail is known, e.g. `{ identityType: 'ltiUserId', value: sub }`. */
  fallback: { identityType: string; value: string };
  salt: string;
};

/** One piece of evidence: a graded event that fulfilled a requirement. */
export type EvidenceInput = {
  name: string;
  narrative: string;
  description?: string | null;
  genre?: string | null;
};

export type CredentialInput = {
  /** The credential's id: its public verification URL. */
  id: string;
  issuer: IssuerSummary;
  achievement: AchievementInput;
  recipient: RecipientInput;
  awardedAt: Date;
  validUntil: Date | null;
  evidence: readonly EvidenceInput[];
  status?: { listUrl: string; index: number } | null;
};

/** xsd:dateTimeStamp without milliseconds, as the OB examples write it. */
export const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** An IdentityHash: `sha256$` + hex(sha256(value + salt)), per OB 3.0 (and OB 2.0) hashing. */
export function identityHash(value: string, salt: string): string {
  return `sha256$${createHash('sha256').update(`${value}${salt}`, 'utf8').digest('hex')}`;
}

/** E-mail addresses are hashed lowercased and trimmed, so a verifier typing it differently still matches. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();

/** The recipient's IdentityObject: hashed e-mail, or the fallback id hashed the same way. */
export function recipientIdentifier(recipient: RecipientInput) {
  const email = recipient.email ? normaliseEmail(recipient.email) : null;
  const [identityType, value] = email
    ? ['emailAddress', email]
    : [recipient.fallback.identityType, recipient.fallback.value];
  return {
    type: 'IdentityObject',
    identityType,
    hashed: true,
    identityHash: identityHash(value, recipient.salt),
    salt: recipient.salt,
  };
}

function profile(issuer: IssuerSummary) {
  return {
    id: issuer.id,
    type: ['Profile'],
    name: issuer.name,
    ...(issuer.url ? { url: issuer.url } : {}),
    ...(issuer.email ? { email: issuer.email } : {}),
    ...(issuer.description ? { description: issuer.description } : {}),
    ...(issuer.imageUrl ? { image: { id: issuer.imageUrl, type: 'Image' } } : {}),
  };
}

/**
 * The OB 3.0 Achievement. Alignments without a target URL are left out: OB 3.0 (and 2.0) require
 * `targetUrl`, and a made-up one would point verifiers at nothing.
 */
export function buildAchievement(a: AchievementInput) {
  const alignment = a.alignments
    .filter((al) => al.targetUrl)
    .map((al) => ({
      type: ['Alignment'],
      targetName: al.targetName,
      targetUrl: al.targetUrl!,
      ...(al.targetDescription ? { targetDescription: al.targetDescription } : {}),
      ...(al.targetFramework ? { targetFramework: al.targetFramework } : {}),
      ...(al.targetCode ? { targetCode: al.targetCode } : {}),
    }));
  return {
    id: a.id,
    type: ['Achievement'],
    achievementType: 'Badge',
    name: a.name,
    // OB 3.0 requires a description; the name is the honest fallback.
    description: a.description.trim() || a.name,
    criteria: { narrative: a.criteria.trim() || a.description.trim() || `Earn the ${a.name} badge.` },
    image: { id: a.imageUrl, type: 'Image', caption: a.name },
    ...(alignment.length ? { alignment } : {}),
    ...(a.tags.length ? { tag: [...a.tags] } : {}),
    ...(a.creator ? { creator: profile(a.creator) } : {}),
  };
}

/** The Achievement as a standalone JSON-LD document (served at its id). */
export function achievementDocument(a: AchievementInput) {
  return { '@context': [CONTEXT.credentialsV2, CONTEXT.ob], ...buildAchievement(a) };
}

/**
 * The unsigned OB 3.0 AchievementCredential (VCDM 2.0). Every field is final here: signing
 * covers all of them, and nothing may be added or reformatted afterwards.
 */
export function buildAchievementCredential(input: CredentialInput): Record<string, unknown> {
  const achievement = buildAchievement(input.achievement);
  const evidence = input.evidence.map((e) => ({
    type: ['Evidence'],
    name: e.name,
    narrative: e.narrative,
    ...(e.description ? { description: e.description } : {}),
    ...(e.genre ? { genre: e.genre } : {}),
  }));
  return {
    // extensions.json defines 1EdTechJsonSchemaValidator2019 (credentialSchema), which safe-mode signing needs.
    '@context': [CONTEXT.credentialsV2, CONTEXT.ob, CONTEXT.obExtensions],
    id: input.id,
    type: ['VerifiableCredential', 'AchievementCredential'],
    issuer: profile(input.issuer),
    validFrom: isoSeconds(input.awardedAt),
    ...(input.validUntil ? { validUntil: isoSeconds(input.validUntil) } : {}),
    awardedDate: isoSeconds(input.awardedAt),
    name: achievement.name,
    description: achievement.description,
    image: { id: input.achievement.imageUrl, type: 'Image', caption: achievement.name },
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [recipientIdentifier(input.recipient)],
      achievement,
    },
    ...(evidence.length ? { evidence } : {}),
    credentialSchema: [{ id: ACHIEVEMENT_CREDENTIAL_SCHEMA, type: '1EdTechJsonSchemaValidator2019' }],
    ...(input.status
      ? {
          credentialStatus: {
            id: `${input.status.listUrl}#${input.status.index}`,
            type: 'BitstringStatusListEntry',
            statusPurpose: 'revocation',
            statusListIndex: String(input.status.index),
            statusListCredential: input.status.listUrl,
          },
        }
      : {}),
  };
}

/** The issuer's OB 3.0 Profile document, listing every key that may have signed for it. */
export function issuerProfileDocument(
  issuer: IssuerSummary,
  keys: readonly { id: string; publicKeyMultibase: string }[],
) {
  return {
    // security/v2 defines assertionMethod for verifiers that frame the profile as a controller document.
    '@context': [CONTEXT.credentialsV2, CONTEXT.ob, CONTEXT.securityV2, CONTEXT.multikey],
    ...profile(issuer),
    assertionMethod: keys.map((k) => ({
      id: k.id,
      type: 'Multikey',
      controller: issuer.id,
      publicKeyMultibase: k.publicKeyMultibase,
    })),
  };
}
