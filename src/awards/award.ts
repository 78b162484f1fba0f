import type { Types } from 'mongoose';
import { recordAudit, type Actor } from '../audit/record.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { PersonDoc } from '../db/models/person.js';
import { isActivePlatform } from '../db/models/platform.js';
import type { TemplateDoc } from '../db/models/template.js';
import { HttpError } from '../errors.js';

export const ISSUE_CREDENTIAL_JOB = 'issue-credential';

export type AwardOutcome =
  | { awarded: true; credential: CredentialDoc }
  | { awarded: false; reason: 'already-live' | 'revoked-no-re-earn'; credential: CredentialDoc | null };

const DAY_MS = 24 * 60 * 60 * 1000;

export function expiryFor(
  template: Pick<TemplateDoc, 'expiresAfterDays' | 'expiresAt'>,
  awardedAt: Date,
): Date | null {
  if (template.expiresAfterDays) return new Date(awardedAt.getTime() + template.expiresAfterDays * DAY_MS);
  return template.expiresAt ?? null;
}

/**
 * Records a credential for a person and queues its issuance. The unique index on
 * (template, person, liveSlot='live') makes this safe against concurrent and replayed events:
 * whoever loses the race finds the winner's credential and awards nothing.
 */
export async function awardCredential(
  ctx: Context,
  input: {
    template: TemplateDoc;
    person: PersonDoc;
    userId: string;
    courseRef: Types.ObjectId | null;
    courseId: string | null;
    evidence: CredentialDoc['evidence'];
    actor: Actor;
    reason?: string | null;
    /** A hand award may give a badge again although the template does not allow re-earning. */
    overrideReEarn?: boolean;
  },
): Promise<AwardOutcome> {
  const { template, person } = input;
  // A platform waiting for an administrator's approval gets no credentials (signed in its name).
  const platform = await ctx.models.platforms
    .findById(template.platformId, { status: 1 })
    .lean<{ status?: 'active' | 'pending' }>();
  if (platform && !isActivePlatform(platform))
    throw new HttpError(
      409,
      'platform_pending',
      'The platform of this badge waits for an administrator’s approval; it gets no credentials until then.',
    );
  if (!template.allowReEarn && !input.overrideReEarn) {
    const revoked = await ctx.models.credentials
      .findOne({ templateId: template._id, personId: person._id, status: 'revoked' })
      .lean<CredentialDoc>();
    if (revoked) return { awarded: false, reason: 'revoked-no-re-earn', credential: revoked };
  }
  const awardedAt = ctx.now();
  let credential: CredentialDoc;
  try {
    const created = await ctx.models.credentials.create({
      platformId: template.platformId,
      templateId: template._id,
      personId: person._id,
      courseRef: input.courseRef ?? template.courseRef,
      courseId: input.courseId ?? template.courseId,
      userId: input.userId,
      status: 'awarded',
      liveSlot: 'live',
      awardedAt,
      awardedBy: input.actor,
      awardReason: input.reason ?? null,
      evidence: input.evidence,
      expiresAt: expiryFor(template, awardedAt),
    });
    credential = created.toObject();
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    const live = await ctx.models.credentials
      .findOne({ templateId: template._id, personId: person._id, liveSlot: 'live' })
      .lean<CredentialDoc>();
    return { awarded: false, reason: 'already-live', credential: live };
  }
  await recordAudit(ctx.models, {
    actor: input.actor,
    action: 'credential.awarded',
    platformId: template.platformId,
    courseRef: credential.courseRef,
    target: { type: 'credential', id: String(credential._id) },
    reason: input.reason ?? null,
    details: { templateId: String(template._id), personId: String(person._id), userId: input.userId },
  });
  await announceAward(ctx, credential);
  await ctx.jobs.agenda.now(ISSUE_CREDENTIAL_JOB, { credentialId: String(credential._id) });
  return { awarded: true, credential };
}

/**
 * An award is itself a learning event (badge.awarded), so that badges requiring this one
 * progress through the same pipeline.
 */
async function announceAward(ctx: Context, credential: CredentialDoc): Promise<void> {
  const now = ctx.now();
  await ctx.models.events.collection.updateOne(
    { platformId: credential.platformId, eventId: `laurel:awarded:${credential._id}` },
    {
      $setOnInsert: {
        type: 'badge.awarded',
        occurredAt: credential.awardedAt,
        receivedAt: now,
        source: 'laurel',
        course: credential.courseId ? { id: credential.courseId, title: null } : null,
        user: { id: credential.userId, email: null, name: null },
        data: { templateId: String(credential.templateId), credentialId: String(credential._id) },
        courseRef: credential.courseRef,
        personRef: credential.personId,
        status: 'pending',
        attempts: 0,
        lockedUntil: null,
        processedAt: null,
        error: null,
      },
    },
    { upsert: true },
  );
}
