import { Types } from 'mongoose';
import { recordAudit, type Actor } from '../audit/record.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import { ConflictError, notFound } from '../errors.js';
import { markStatusListStale, queueStatusListRefresh } from '../issuers/openbadges/statusLists.js';
import { clearProgress } from '../progress/update.js';
import { queueProviderRevoke } from '../providers/outbox.js';

export type CredentialScope = { platformId?: Types.ObjectId; courseRef?: Types.ObjectId };

export async function getCredential(
  ctx: Context,
  id: string,
  scope: CredentialScope = {},
): Promise<CredentialDoc> {
  if (!Types.ObjectId.isValid(id)) throw notFound(`Credential ${id}`);
  const filter: Record<string, unknown> = { _id: new Types.ObjectId(id) };
  if (scope.platformId) filter.platformId = scope.platformId;
  if (scope.courseRef) filter.courseRef = scope.courseRef;
  const credential = await ctx.models.credentials.findOne(filter).lean<CredentialDoc>();
  if (!credential) throw notFound(`Credential ${id}`);
  return credential;
}

/**
 * How a revocation came about. `regrade`: the regrade-revocations job, for a credential whose grace
 * period (`dueBy`, which must still be set) ran out; progress, already fallen back, is kept, and the
 * badge is earned again when the grade comes back.
 */
export type RevokeCause = { cause: 'regrade'; dueBy: Date };

/**
 * Revokes a live credential with a reason. The learner's progress on the template starts again
 * from nothing, so a badge that may be re-earned must be earned afresh (not after a regrade).
 */
export async function revokeCredential(
  ctx: Context,
  id: string,
  reason: string,
  actor: Actor,
  scope: CredentialScope = {},
  cause?: RevokeCause,
): Promise<CredentialDoc> {
  const current = await getCredential(ctx, id, scope);
  // The list learns of the change first: a crash after this line and before the revocation costs
  // one needless rebuild; a crash after the revocation leaves the list behind its revision, which
  // the recovery sweep rebuilds.
  await markStatusListStale(ctx, current);
  const revoked = await ctx.models.credentials
    .findOneAndUpdate(
      {
        _id: current._id,
        liveSlot: 'live',
        ...(cause ? { regradeRevokeAt: { $ne: null, $lte: cause.dueBy } } : {}),
      },
      {
        $set: {
          status: 'revoked',
          liveSlot: String(current._id),
          revokedAt: ctx.now(),
          revokedReason: reason,
          revokedBy: actor,
          revokedFor: cause?.cause ?? null,
          regradeRevokeAt: null,
        },
      },
      { returnDocument: 'after' },
    )
    .lean<CredentialDoc>();
  if (!revoked)
    throw new ConflictError(
      'not_live',
      cause
        ? `Credential ${id} is no longer due for revocation (its grade came back, or it is ${current.status}).`
        : `Credential ${id} is already ${current.status}.`,
    );
  // Issued meanwhile, with an entry the first mark did not know of.
  if (revoked.statusListId && String(revoked.statusListId) !== String(current.statusListId))
    await markStatusListStale(ctx, revoked);
  // Verifiers learn of the revocation from the credential's status list, re-signed by a job.
  await queueStatusListRefresh(ctx, revoked);
  // A Credly or Accredible badge is revoked at the service too, from the outbox.
  await queueProviderRevoke(ctx, revoked);
  if (!cause) await clearProgress(ctx, current.templateId, current.personId);
  await recordAudit(ctx.models, {
    actor,
    action: 'credential.revoked',
    platformId: current.platformId,
    courseRef: current.courseRef,
    target: { type: 'credential', id },
    reason,
    details: {
      templateId: String(current.templateId),
      personId: String(current.personId),
      ...(cause ? { cause: cause.cause } : {}),
    },
  });
  return revoked;
}
