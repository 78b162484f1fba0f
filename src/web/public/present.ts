import type { Context } from '../../context.js';
import { templateImageUrl } from '../../issuers/openbadges/laurelDocuments.js';
import { openBadgeUrls } from '../../issuers/openbadges/urls.js';
import type { CheckName, VerificationResult } from '../../issuers/openbadges/verify.js';
import { asArray, isObject, str } from '../../issuers/openbadges/verifyChecks.js';
import { credentialState, type PublicCredential } from './load.js';

const CHECK_LABELS: Record<CheckName, string> = {
  format: 'Readable',
  schema: 'Open Badges 3.0 format',
  signature: 'Digital signature',
  issuer: 'Issuer’s key',
  expiry: 'Dates',
  status: 'Revocation status',
  credentials: 'Credentials in the record',
};

/** One formatter for every page: `toLocaleDateString` builds a new one per call, a costly part of a page view. */
const DAY = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  timeZone: 'UTC',
});

export const formatDate = (d: Date | null | undefined) =>
  d ? { iso: d.toISOString(), text: DAY.format(d) } : null;

/**
 * The view model of the public verification page. It never shows an e-mail address or any id of
 * the learner: only the name they go by, as an earner's badge page does.
 */
export function presentCredential(
  ctx: Context,
  pc: PublicCredential,
  verification: VerificationResult | null,
) {
  const { credential: c, template, person, issuer } = pc;
  const urls = openBadgeUrls(ctx.config.publicUrl);
  const state = credentialState(c, ctx.now());
  const signed = c.signed ?? null;
  const subject = signed && isObject(signed.credentialSubject) ? signed.credentialSubject : null;
  const achievement = subject && isObject(subject.achievement) ? subject.achievement : null;
  const criteria = achievement && isObject(achievement.criteria) ? str(achievement.criteria.narrative) : null;
  const evidence = asArray((signed?.evidence ?? []) as unknown[])
    .filter(isObject)
    .map((e) => ({ name: str(e.name) ?? 'Evidence', narrative: str(e.narrative) }));
  const issuerName = signed && isObject(signed.issuer) ? str(signed.issuer.name) : (issuer?.name ?? null);
  const issuerUrl = signed && isObject(signed.issuer) ? str(signed.issuer.url) : (issuer?.url ?? null);
  const verified = verification?.valid ?? false;
  const ended = state === 'revoked' || state === 'expired';
  const on = (d: Date | null | undefined) => (d ? ` on ${formatDate(d)!.text}` : '');
  const banner =
    state === 'revoked'
      ? {
          kind: 'revoked',
          icon: '✖',
          title: 'Revoked',
          text: `The issuer revoked this credential${on(c.revokedAt)}.`,
        }
      : state === 'expired'
        ? {
            kind: 'expired',
            icon: '⌛',
            title: 'Expired',
            text: `This credential expired${on(c.expiresAt)}.`,
          }
        : state === 'issuing'
          ? { kind: 'issuing', icon: '⏳', title: 'Being issued', text: 'The credential is being signed.' }
          : verified
            ? {
                kind: 'valid',
                icon: '✔',
                title: 'Valid and verified',
                text: 'The signature, the issuer’s key and the current revocation list were checked.',
              }
            : {
                kind: 'invalid',
                icon: '✖',
                title: 'Could not be verified',
                text: 'The credential did not pass every check below. Do not rely on it until the issuer confirms it.',
              };
  // A lower level of a badge with levels, replaced by a higher one: not revoked, still a true record.
  const superseded = c.status === 'superseded' && (state === 'valid' || state === 'issuing');
  const higher = template.levels?.steps.find((s) => s.id === c.supersededBy?.level)?.name ?? null;
  const shown = superseded
    ? {
        kind: 'superseded',
        icon: '⬆',
        title: 'Superseded',
        text: `The learner reached a higher level of this badge${higher ? ` (${higher})` : ''}${on(c.supersededAt)}. This credential is not revoked: it stays a true record of the level it names.${state === 'valid' && verified ? ' Its signature, the issuer’s key and the revocation list were checked.' : ''}`,
      }
    : banner;
  return {
    title: `${template.name} · credential`,
    id: String(c._id),
    state,
    banner: shown,
    isValid: state === 'valid',
    isRevoked: state === 'revoked',
    isExpired: state === 'expired',
    isIssuing: state === 'issuing',
    /** Revoked or expired: the page greys the picture and offers no downloads. */
    isEnded: ended,
    revokedReason: c.revokedReason,
    badge: {
      name: (achievement && str(achievement.name)) ?? template.name,
      description: (achievement && str(achievement.description)) ?? template.description,
      criteria: criteria ?? template.criteria,
      imageUrl:
        (achievement && isObject(achievement.image) ? str(achievement.image.id) : null) ??
        templateImageUrl(ctx, template),
      tags: template.tags,
      alignments: template.alignments.filter((a) => a.targetName),
      achievementUrl: urls.achievement(template._id),
    },
    learner: { name: person?.name?.trim() || 'A learner' },
    issuer: {
      name: issuerName ?? 'Laurel',
      url: issuerUrl,
      profileUrl: issuer ? urls.issuer(issuer._id) : null,
    },
    dates: {
      awarded: formatDate(c.awardedAt),
      issued: formatDate(c.issuedAt),
      expires: formatDate(c.expiresAt),
      revoked: formatDate(c.revokedAt),
    },
    evidence,
    verification: verification
      ? {
          verified: verification.valid,
          checks: verification.checks.map((check) => ({
            label: CHECK_LABELS[check.check],
            ok: check.ok,
            message: check.message,
          })),
        }
      : null,
    downloads:
      signed && !ended
        ? {
            json: `${urls.credential(c._id)}/credential.json`,
            png: urls.credentialImage(c._id, 'png'),
            svg: urls.credentialImage(c._id, 'svg'),
            ob2Png: `${urls.credential(c._id)}/image-ob2.png`,
            ob2Assertion: urls.ob2Assertion(c._id),
          }
        : null,
  };
}
