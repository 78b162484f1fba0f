import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { TemplateDoc } from '../db/models/template.js';
import { JOBS } from '../jobs/names.js';
import { wakeJob } from '../jobs/queue.js';
import { regradeOf } from '../rules/index.js';

const DAY_MS = 86_400_000;

type Pair = { template: TemplateDoc; personId: Types.ObjectId };

/** What a processing run's regrades mean for live credentials (badges whose policy is `revoke`). */
export type RegradeOutcomes = {
  /** Complete before, taken back by a regrade: the live credential is revoked after the grace period. */
  fellBack: Map<string, Pair>;
  /** Complete now: a revocation waiting on the grace period is cancelled. */
  cameBack: Map<string, Pair>;
};

export const REGRADE_REASON =
  'A grade this badge counted was changed and no longer meets its requirements, and it did not come back within the grace period.';

/**
 * One bulk write for the whole run: a live credential whose badge fell back gets its revocation
 * time (now + the template's grace), unless it already has one; one whose badge is complete again
 * loses it. The revocation itself is the regrade-revocations job's (src/awards/regradeRevocations.ts).
 */
export async function applyRegradeOutcomes(ctx: Context, outcomes: RegradeOutcomes): Promise<void> {
  if (outcomes.fellBack.size === 0 && outcomes.cameBack.size === 0) return;
  const now = ctx.now();
  const ops = [
    ...[...outcomes.fellBack.values()].map(({ template, personId }) => ({
      updateOne: {
        filter: { templateId: template._id, personId, liveSlot: 'live', regradeRevokeAt: null },
        update: {
          $set: {
            regradeRevokeAt: new Date(now.getTime() + regradeOf(template.regrade).graceDays * DAY_MS),
            regradeReason: REGRADE_REASON,
          },
        },
      },
    })),
    ...[...outcomes.cameBack.values()].map(({ template, personId }) => ({
      updateOne: {
        filter: { templateId: template._id, personId, liveSlot: 'live', regradeRevokeAt: { $ne: null } },
        update: { $set: { regradeRevokeAt: null, regradeReason: null } },
      },
    })),
  ];
  await ctx.models.credentials.bulkWrite(ops, { ordered: false });
  // A grace of zero days revokes at once.
  if ([...outcomes.fellBack.values()].some((p) => regradeOf(p.template.regrade).graceDays === 0))
    await wakeJob(ctx.jobs, JOBS.revokeAfterRegrades);
}
