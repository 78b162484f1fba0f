import { randomBytes, randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import { LIVE_STATUSES, type CredentialDoc } from '../db/models/credential.js';
import type { PersonDoc } from '../db/models/person.js';
import { DomainError } from '../errors.js';
import { ensureIssuerProfile, issuerSummary, signingKeyOf } from '../issuers/openbadges/issuerProfiles.js';
import { laurelDocumentLoader } from '../issuers/openbadges/laurelDocuments.js';
import { signCredentialStock } from '../issuers/openbadges/sign.js';
import type { PathwayDoc } from '../db/models/pathway.js';
import type { TemplateDoc } from '../db/models/template.js';
import { openBadgeUrls } from '../issuers/openbadges/urls.js';
import { achievementOf, buildClrCredential } from './buildClr.js';
import { pathwayLinks, type PathwayLinks } from './pathwayLinks.js';

/** At most this many credentials go into one record (a learner with more gets a partial record). */
export const MAX_RECORD_CREDENTIALS = 500;

export type LearnerRecordOptions = {
  /** Only these of the learner's credentials (what they chose to share); default: all of them. */
  only?: readonly Types.ObjectId[];
};

/** The person has no signed credential to put in a record (CLR 2.0 needs at least one). */
export class NoRecordError extends DomainError {
  constructor(who: string) {
    super(
      404,
      'no_record',
      `${who} has no issued Open Badges 3.0 credential on this platform yet, so there is no learner record.`,
    );
  }
}

/**
 * The person's signed OB 3.0 credentials that a record holds: issued (live and signed) and not
 * past their end date, oldest first. Revoked, expired and not yet signed ones are left out; so
 * are Credly and Accredible badges, which those services sign, not Laurel.
 */
export function recordCredentials(
  ctx: Context,
  person: Pick<PersonDoc, '_id' | 'platformId'>,
  only?: readonly Types.ObjectId[],
) {
  return ctx.models.credentials
    .find(recordFilter(ctx, person, only))
    .sort({ awardedAt: 1, _id: 1 })
    .limit(MAX_RECORD_CREDENTIALS)
    .lean<CredentialDoc[]>();
}

/** The query of recordCredentials (also to count them). */
export function recordFilter(
  ctx: Context,
  person: Pick<PersonDoc, '_id' | 'platformId'>,
  only?: readonly Types.ObjectId[],
) {
  return {
    platformId: person.platformId,
    personId: person._id,
    status: 'issued' as const,
    signed: { $ne: null },
    // Past its end date before the expiry job has marked it: expired all the same.
    $or: [{ expiresAt: null }, { expiresAt: { $gt: ctx.now() } }],
    ...(only ? { _id: { $in: [...only] } } : {}),
  };
}

/**
 * A person's Comprehensive Learner Record: a CLR 2.0 ClrCredential holding their signed badges,
 * signed now by their platform's issuer (eddsa-rdfc-2022). Made on demand and not stored; each
 * one has a new id and a new salt for the learner's hashed identity.
 */
export async function signedLearnerRecord(
  ctx: Context,
  person: PersonDoc,
  options: LearnerRecordOptions = {},
): Promise<Record<string, unknown>> {
  const [credentials, live] = await Promise.all([
    recordCredentials(ctx, person, options.only),
    ctx.models.credentials.countDocuments({
      platformId: person.platformId,
      personId: person._id,
      status: { $in: LIVE_STATUSES },
      $or: [{ expiresAt: null }, { expiresAt: { $gt: ctx.now() } }],
    }),
  ]);
  if (credentials.length === 0) throw new NoRecordError(person.name?.trim() || 'This person');
  const [profile, pathways] = await Promise.all([
    ensureIssuerProfile(ctx, person.platformId),
    pathwaysInRecord(ctx, person, credentials),
  ]);
  const now = ctx.now();
  const unsigned = buildClrCredential({
    id: `urn:uuid:${randomUUID()}`,
    issuer: issuerSummary(ctx, profile),
    learner: {
      name: person.name ?? null,
      recipient: {
        email: person.email ?? null,
        fallback: person.sub
          ? { identityType: 'ltiUserId', value: person.sub }
          : { identityType: 'systemId', value: person.lmsUserId ?? person.ids[0] ?? String(person._id) },
        salt: randomBytes(16).toString('hex'),
      },
    },
    issuedAt: now,
    credentials: credentials.map((c) => c.signed!),
    achievements: pathways.achievements,
    associations: pathways.associations,
    partial: options.only !== undefined || credentials.length < live,
  });
  // The stock signer, not the templated one: a record's shape (how many badges, which fields)
  // seldom repeats, and its templates would only push the badges' own out of the cache.
  return signCredentialStock({
    credential: unsigned,
    key: await signingKeyOf(ctx, profile),
    documentLoader: laurelDocumentLoader(ctx),
    date: now,
  });
}

/**
 * The pathways the person follows that the record's badges belong to, as achievements and
 * associations (src/records/pathwayLinks.ts), with the badges named as they are called now.
 */
async function pathwaysInRecord(
  ctx: Context,
  person: PersonDoc,
  credentials: readonly CredentialDoc[],
): Promise<PathwayLinks> {
  const enrolled = await ctx.models.pathwayEnrolments
    .find({ platformId: person.platformId, personId: person._id }, { pathwayId: 1 })
    .lean<{ pathwayId: Types.ObjectId }[]>();
  if (enrolled.length === 0) return { achievements: [], associations: [] };
  const pathways = await ctx.models.pathways
    .find({ _id: { $in: enrolled.map((e) => e.pathwayId) }, platformId: person.platformId })
    .sort({ createdAt: 1, _id: 1 })
    .lean<PathwayDoc[]>();
  const templateIds = [...new Set(pathways.flatMap((p) => p.templateIds.map(String)))];
  const names = new Map(
    (
      await ctx.models.templates
        .find({ _id: { $in: templateIds }, platformId: person.platformId }, { name: 1 })
        .lean<Pick<TemplateDoc, '_id' | 'name'>[]>()
    ).map((t) => [String(t._id), t.name]),
  );
  const urls = openBadgeUrls(ctx.config.publicUrl);
  const badges = credentials.flatMap((c) => {
    const id = achievementOf(c.signed!)?.id;
    return typeof id === 'string' ? [{ templateId: String(c.templateId), achievementId: id }] : [];
  });
  return pathwayLinks(
    pathways.map((p) => ({
      id: String(p._id),
      name: p.name,
      description: p.description,
      badgeTemplateId: p.badgeTemplateId ? String(p.badgeTemplateId) : null,
      steps: p.steps.map((s) => ({ ...s, templateIds: s.templateIds.map(String) })),
    })),
    badges,
    (id) => names.get(id) ?? 'a badge no longer offered',
    { pathway: urls.pathway, step: urls.pathwayStep },
  );
}
