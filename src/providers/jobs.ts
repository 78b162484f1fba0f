import { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { ProviderName } from '../db/models/providerSettings.js';
import { JOBS } from '../jobs/names.js';
import type { Recurring } from '../jobs/recurring.js';
import { drainProviderOutbox, requeueProviderAwards } from './outbox.js';
import { syncAllTemplates, syncTemplates } from './sync.js';
import { reconcileAccredible } from './webhooks.js';

/** How often templates are synced and Accredible credentials read back, besides the "sync now" button. */
export const TEMPLATE_SYNC_EVERY = '6 hours';
export const ACCREDIBLE_RECONCILE_EVERY = '1 hour';

/** The jobs of src/providers, defined with the others by src/jobs/definitions.ts. */
export function defineProviderJobs(ctx: Context): void {
  const { agenda } = ctx.jobs;
  const drain = async () => {
    const result = await drainProviderOutbox(ctx);
    if (result.done || result.failed || result.retrying) ctx.logger.info(result, 'provider outbox run');
  };
  ctx.jobs.onWake?.(JOBS.providerOutbox, drain);
  // The recurring run also picks up awards that never reached the outbox.
  const sweepThenDrain = async () => {
    const requeued = await requeueProviderAwards(ctx);
    if (requeued) ctx.logger.info({ requeued }, 'Credly and Accredible awards put into the outbox');
    await drain();
  };
  agenda.define(JOBS.providerOutbox, sweepThenDrain, { concurrency: 1, removeOnComplete: true });
  agenda.define<{ platformId?: string; provider?: ProviderName }>(
    JOBS.syncProviderTemplates,
    async (job) => {
      const { platformId, provider } = job.attrs.data ?? {};
      if (platformId && provider) {
        const result = await syncTemplates(ctx, new Types.ObjectId(platformId), provider);
        ctx.logger.info({ platformId, provider, result }, 'templates synced');
      } else await syncAllTemplates(ctx);
    },
    { concurrency: 1 },
  );
  agenda.define(
    JOBS.reconcileAccredible,
    async () => {
      const result = await reconcileAccredible(ctx);
      if (result.revoked) ctx.logger.info(result, 'Accredible credentials reconciled');
    },
    { concurrency: 1 },
  );
}

/** The provider jobs that recur (scheduled with the rest, src/jobs/definitions.ts). */
export const providerRecurringJobs: Recurring[] = [
  { every: '1 minute', name: JOBS.providerOutbox },
  { every: TEMPLATE_SYNC_EVERY, name: JOBS.syncProviderTemplates },
  { every: ACCREDIBLE_RECONCILE_EVERY, name: JOBS.reconcileAccredible },
];

/** "Sync now": one job for one service of one platform, run by a worker soon. */
export async function queueTemplateSync(
  ctx: Context,
  platformId: Types.ObjectId,
  provider: ProviderName,
): Promise<void> {
  await ctx.jobs.agenda.now(JOBS.syncProviderTemplates, { platformId: String(platformId), provider });
}
