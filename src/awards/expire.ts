import { SYSTEM } from '../audit/record.js';
import type { Context } from '../context.js';
import { LIVE_STATUSES, type CredentialDoc } from '../db/models/credential.js';
import { JOBS } from '../jobs/names.js';
import { clearProgressOf } from '../progress/update.js';

export const EXPIRE_CREDENTIALS_JOB = JOBS.expireCredentials;

/**
 * Marks live credentials past their expiry as expired; an expired badge can be earned again. A
 * batch costs five round trips whatever its size: the due credentials, their marks (one bulk
 * write), which of them this run expired, their learners' progress reset, their audit entries.
 */
export async function expireCredentials(ctx: Context, batch = 500): Promise<number> {
  const now = ctx.now();
  const due = await ctx.models.credentials
    .find({ status: { $in: LIVE_STATUSES }, expiresAt: { $ne: null, $lte: now }, liveSlot: 'live' })
    .limit(batch)
    .lean<CredentialDoc[]>();
  if (due.length === 0) return 0;
  await ctx.models.credentials.bulkWrite(
    due.map((c) => ({
      updateOne: {
        filter: { _id: c._id, liveSlot: 'live' },
        update: { $set: { status: 'expired', liveSlot: String(c._id), expiredAt: now, outbox: null } },
      },
    })),
    { ordered: false },
  );
  // Only those this run changed (a concurrent revocation or expiry run keeps its own).
  const mine = new Set(
    (
      await ctx.models.credentials
        .find({ _id: { $in: due.map((c) => c._id) }, status: 'expired', expiredAt: now }, { _id: 1 })
        .lean()
    ).map((c) => String(c._id)),
  );
  const expired = due.filter((c) => mine.has(String(c._id)));
  if (expired.length === 0) return 0;
  await clearProgressOf(
    ctx,
    expired.map((c) => ({ templateId: c.templateId, personId: c.personId })),
  );
  await ctx.models.audit.collection.insertMany(
    expired.map((c) => ({
      at: now,
      actor: SYSTEM,
      action: 'credential.expired',
      platformId: c.platformId,
      courseRef: c.courseRef,
      target: { type: 'credential', id: String(c._id) },
      reason: null,
      details: { expiresAt: c.expiresAt },
    })),
  );
  return expired.length;
}
