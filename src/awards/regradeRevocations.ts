import { SYSTEM } from '../audit/record.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { ProgressDoc } from '../db/models/progress.js';
import { ConflictError } from '../errors.js';
import { REGRADE_REASON } from '../progress/regradeOutcomes.js';
import { revokeCredential } from './revoke.js';

/**
 * Revokes the live credentials a regrade took back (policy `revoke`) whose grace period has run out,
 * unless the learner's progress is complete again (the grade came back, seen by a recalculation);
 * then the pending revocation is dropped. Each revocation is the ordinary one (status list, Credly
 * or Accredible, audit, the learner's e-mail), conditional on the revocation time still being set,
 * so a grade that comes back while this runs wins, and two runs revoke once.
 */
export async function revokeAfterRegrades(ctx: Context, batch = 200): Promise<number> {
  const now = ctx.now();
  const due = await ctx.models.credentials
    .find({ regradeRevokeAt: { $ne: null, $lte: now }, liveSlot: 'live' }, { signed: 0, evidence: 0 })
    .limit(batch)
    .lean<CredentialDoc[]>();
  if (due.length === 0) return 0;
  const progress = await ctx.models.progress
    .find(
      { $or: due.map((c) => ({ templateId: c.templateId, personId: c.personId })) },
      { templateId: 1, personId: 1, completedAt: 1 },
    )
    .lean<Pick<ProgressDoc, 'templateId' | 'personId' | 'completedAt'>[]>();
  const complete = new Set(
    progress.filter((p) => p.completedAt).map((p) => `${String(p.templateId)}:${String(p.personId)}`),
  );
  let revoked = 0;
  for (const c of due) {
    if (complete.has(`${String(c.templateId)}:${String(c.personId)}`)) {
      await ctx.models.credentials.updateOne(
        { _id: c._id, liveSlot: 'live', regradeRevokeAt: c.regradeRevokeAt },
        { $set: { regradeRevokeAt: null, regradeReason: null } },
      );
      continue;
    }
    try {
      await revokeCredential(
        ctx,
        String(c._id),
        c.regradeReason ?? REGRADE_REASON,
        SYSTEM,
        {},
        {
          cause: 'regrade',
          dueBy: now,
        },
      );
      revoked++;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  return revoked;
}
