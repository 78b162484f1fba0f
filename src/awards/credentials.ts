import { Types } from 'mongoose';
import type { Actor } from '../audit/record.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { PersonDoc } from '../db/models/person.js';
import { ConflictError, notFound } from '../errors.js';
import { findPerson, personIdsFor } from '../identity/resolve.js';
import { getTemplate } from '../templates/service.js';
import { awardCredential } from './award.js';

export function credentialUrl(ctx: Context, id: Types.ObjectId | string): string {
  return `${ctx.config.publicUrl}/credentials/${id}`;
}

export function toPublicCredential(ctx: Context, c: CredentialDoc) {
  return {
    id: String(c._id),
    templateId: String(c.templateId),
    platformId: String(c.platformId),
    courseId: c.courseId,
    userId: c.userId,
    status: c.status,
    awardedAt: c.awardedAt,
    expiresAt: c.expiresAt,
    revokedAt: c.revokedAt,
    revokedReason: c.revokedReason,
    /** Why issuance gave up (status `failed`); null otherwise. */
    error: c.status === 'failed' ? (c.error ?? null) : null,
    url: credentialUrl(ctx, c._id),
    // Badges with levels and regrades (src/rules/levels.ts, src/awards/regradeRevocations.ts).
    ...(c.level ? { level: c.level } : {}),
    ...(c.status === 'superseded' ? { supersededAt: c.supersededAt ?? null } : {}),
    ...(c.regradeRevokeAt ? { revokeAfter: c.regradeRevokeAt } : {}),
    // A Credly or Accredible badge: its id and page at the service, once issued there.
    ...(c.externalId ? { externalId: c.externalId, externalUrl: c.externalUrl ?? null } : {}),
  };
}

export async function listCredentials(
  ctx: Context,
  query: { templateId?: string; userId?: string; platformId?: string; after?: Types.ObjectId },
  limit: number,
): Promise<CredentialDoc[]> {
  const filter: Record<string, unknown> = {};
  if (query.platformId) filter.platformId = new Types.ObjectId(query.platformId);
  if (query.templateId) filter.templateId = new Types.ObjectId(query.templateId);
  if (query.userId) {
    // userId matches any id of the person, on any platform unless one is named.
    const people = await personIdsFor(
      ctx.models,
      query.userId,
      filter.platformId as Types.ObjectId | undefined,
    );
    if (people.length === 0) return [];
    filter.personId = { $in: people };
  }
  if (query.after) filter._id = { $gt: query.after };
  return ctx.models.credentials.find(filter).sort({ _id: 1 }).limit(limit).lean<CredentialDoc[]>();
}

/** POST /credentials: an admin or instructor gives a badge by hand, with a reason. */
export async function awardByHand(
  ctx: Context,
  input: { templateId: string; userId: string; reason: string },
  actor: Actor,
  scope: { platformId?: Types.ObjectId; courseRef?: Types.ObjectId } = {},
): Promise<CredentialDoc> {
  const template = await getTemplate(ctx, input.templateId, scope);
  if (template.state === 'draft')
    throw new ConflictError(
      'template_draft',
      `Badge template ${input.templateId} is a draft; activate it first.`,
    );
  const person: PersonDoc | null = await findPerson(ctx.models, template.platformId, input.userId);
  if (!person) throw notFound(`A person with id ${input.userId} on this platform`);
  const outcome = await awardCredential(ctx, {
    template,
    person,
    userId: input.userId,
    courseRef: template.courseRef,
    courseId: template.courseId,
    evidence: [],
    actor,
    reason: input.reason,
    overrideReEarn: true,
  });
  if (!outcome.awarded)
    throw new ConflictError(
      'already_awarded',
      `${input.userId} already holds a live “${template.name}” badge.`,
    );
  return outcome.credential;
}
