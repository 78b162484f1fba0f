import { CONTEXT } from './contexts.js';
import {
  identityHash,
  isoSeconds,
  normaliseEmail,
  type AchievementInput,
  type IssuerSummary,
} from './build.js';

/**
 * Open Badges 2.0 hosted documents, for backpacks that read only 2.0. They say the same as the
 * OB 3.0 credential, at their own stable URLs, verified the 2.0 way: by fetching the Assertion
 * from its id (HostedBadge), which answers 410 with `revoked: true` once it is revoked.
 */

export type Ob2AssertionInput = {
  id: string;
  badgeUrl: string;
  imageUrl: string;
  recipient: { email?: string | null; fallback: string; salt: string };
  issuedOn: Date;
  expires: Date | null;
  evidence: readonly { name: string; narrative: string; genre?: string | null }[];
  /** The page that shows the credential (for people). */
  narrativeUrl?: string | null;
};

/** The OB 2.0 Assertion (HostedBadge). */
export function ob2Assertion(input: Ob2AssertionInput) {
  const email = input.recipient.email ? normaliseEmail(input.recipient.email) : null;
  return {
    '@context': CONTEXT.openBadgesV2,
    type: 'Assertion',
    id: input.id,
    recipient: {
      // OB 2.0 identifies recipients by e-mail, URL or telephone; without an e-mail the LMS's id
      // of the learner stands in as a (hashed) url-type identity.
      type: email ? 'email' : 'url',
      hashed: true,
      salt: input.recipient.salt,
      identity: identityHash(email ?? input.recipient.fallback, input.recipient.salt),
    },
    badge: input.badgeUrl,
    verification: { type: 'HostedBadge' },
    issuedOn: isoSeconds(input.issuedOn),
    image: input.imageUrl,
    ...(input.expires ? { expires: isoSeconds(input.expires) } : {}),
    ...(input.evidence.length
      ? {
          evidence: input.evidence.map((e) => ({
            type: 'Evidence',
            name: e.name,
            narrative: e.narrative,
            ...(e.genre ? { genre: e.genre } : {}),
          })),
        }
      : {}),
  };
}

/** What a revoked hosted Assertion answers (with HTTP 410): id, revoked, and the reason. */
export function ob2RevokedAssertion(id: string, reason: string | null) {
  return {
    '@context': CONTEXT.openBadgesV2,
    type: 'Assertion',
    id,
    revoked: true,
    ...(reason ? { revocationReason: reason } : {}),
  };
}

/** The OB 2.0 BadgeClass of a template. Alignments need a target URL in 2.0 as in 3.0. */
export function ob2BadgeClass(id: string, issuerUrl: string, a: AchievementInput) {
  const alignment = a.alignments
    .filter((al) => al.targetUrl)
    .map((al) => ({
      targetName: al.targetName,
      targetUrl: al.targetUrl!,
      ...(al.targetDescription ? { targetDescription: al.targetDescription } : {}),
      ...(al.targetFramework ? { targetFramework: al.targetFramework } : {}),
      ...(al.targetCode ? { targetCode: al.targetCode } : {}),
    }));
  return {
    '@context': CONTEXT.openBadgesV2,
    type: 'BadgeClass',
    id,
    name: a.name,
    description: a.description.trim() || a.name,
    image: a.imageUrl,
    criteria: { narrative: a.criteria.trim() || a.description.trim() || `Earn the ${a.name} badge.` },
    issuer: issuerUrl,
    ...(alignment.length ? { alignment } : {}),
    ...(a.tags.length ? { tags: [...a.tags] } : {}),
  };
}

/** The OB 2.0 Issuer profile: 2.0 requires name, url and email of an issuer. */
export function ob2Issuer(id: string, issuer: IssuerSummary & { url: string; email: string }) {
  return {
    '@context': CONTEXT.openBadgesV2,
    type: 'Issuer',
    id,
    name: issuer.name,
    url: issuer.url,
    email: issuer.email,
    ...(issuer.description ? { description: issuer.description } : {}),
    ...(issuer.imageUrl ? { image: issuer.imageUrl } : {}),
  };
}
