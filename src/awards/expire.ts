import { SYSTEM, recordAudit } from '../audit/record.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import { clearProgress } from '../progress/update.js';

export const EXPIRE_CREDENTIALS_JOB = 'expire-credentials';

/** Marks live credentials past their expiry as expired; an expired badge can be earned again. */
export async function expireCredentials(ctx: Context, batch = 500): Promise<number> {
  const now = ctx.now();
  const due = await ctx.models.credentials
    .find({ liveSlot: 'live', expiresAt: { $ne: null, $lte: now } })
    .limit(batch)
    .lean<CredentialDoc[]>();
  let expired = 0;
  for (const credential of due) {
    const changed = await ctx.models.credentials.updateOne(
      { _id: credential._id, liveSlot: 'live' },
      { $set: { status: 'expired', liveSlot: String(credential._id), expiredAt: now } },
    );
    if (changed.modifiedCount !== 1) continue;
    expired++;
    await clearProgress(ctx, credential.templateId, credential.personId);
    await recordAudit(ctx.models, {
      actor: SYSTEM,
      action: 'credential.expired',
      platformId: credential.platformId,
      courseRef: credential.courseRef,
      target: { type: 'credential', id: String(credential._id) },
      details: { expiresAt: credential.expiresAt },
    });
  }
  return expired;
}
