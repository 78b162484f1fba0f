import { backoffStrategies } from 'agenda';
import { expireCredentials } from '../awards/expire.js';
import { revokeAfterRegrades } from '../awards/regradeRevocations.js';
import type { Context } from '../context.js';
import { IssuingBusyError } from '../issuers/openbadges/issue.js';
import { openBadgeJobs } from '../issuers/openbadges/jobs.js';
import { pollAgsResults } from '../lms/ags/poll.js';
import { processPendingEvents } from '../progress/processPending.js';
import { runQueuedRecalculations } from '../progress/recalculationQueue.js';
import { defineProviderJobs, providerRecurringJobs } from '../providers/jobs.js';
import { scheduleRecurring } from './recurring.js';
import { JOBS } from './names.js';
import { updatePathwaysFromAwards } from '../pathways/updates.js';

/**
 * Every job of the badge pipeline, defined here and nowhere else (the LTI roster job lives with
 * ltijs in src/lti/jobs.ts). Event processing and issuing also run in-process when woken (see
 * JobQueue.wake); their recurring runs are the safety net for a lost wake-up.
 */
export function defineJobs(ctx: Context): void {
  const { agenda } = ctx.jobs;
  const drainEvents = async () => {
    const { processed, failed, awarded } = await processPendingEvents(ctx);
    if (processed || failed) ctx.logger.debug({ processed, failed, awarded }, 'learning events processed');
  };
  const drainIssuing = () => openBadgeJobs.issueCredentials(ctx);
  ctx.jobs.onWake?.(JOBS.processEvents, drainEvents);
  ctx.jobs.onWake?.(JOBS.issueCredentials, drainIssuing);
  // Recalculations wait on their templates (src/progress/recalculation.ts); a run drains them all.
  const drainRecalculations = async () => {
    const runs = await runQueuedRecalculations(ctx);
    if (runs) ctx.logger.debug({ runs }, 'badge recalculations run');
  };
  ctx.jobs.onWake?.(JOBS.recalculateBadges, drainRecalculations);

  agenda.define(JOBS.processEvents, drainEvents, { concurrency: 1, removeOnComplete: true });
  agenda.define(JOBS.issueCredentials, drainIssuing, { concurrency: 1, removeOnComplete: true });
  agenda.define(JOBS.recalculateBadges, drainRecalculations, { concurrency: 1, removeOnComplete: true });
  agenda.define<{ credentialId: string }>(
    JOBS.issueCredential,
    (job) => openBadgeJobs.issueCredential(ctx, job.attrs.data.credentialId),
    {
      concurrency: 4,
      backoff: (context) =>
        context.error instanceof IssuingBusyError
          ? backoffStrategies.constant({ delay: 30_000, maxRetries: 10 })(context)
          : backoffStrategies.exponential({ delay: 10_000, maxRetries: 8, maxDelay: 3_600_000 })(context),
    },
  );
  agenda.define<{ statusListId: string }>(
    JOBS.updateStatusList,
    (job) => openBadgeJobs.updateStatusList(ctx, job.attrs.data.statusListId),
    {
      concurrency: 1,
      removeOnComplete: true,
      backoff: backoffStrategies.exponential({ delay: 5_000, maxRetries: 8, maxDelay: 600_000 }),
    },
  );
  agenda.define(
    JOBS.sweep,
    async () => {
      await openBadgeJobs.sweep(ctx);
    },
    { concurrency: 1 },
  );
  agenda.define(
    JOBS.expireCredentials,
    async () => {
      const expired = await expireCredentials(ctx);
      if (expired) ctx.logger.info({ expired }, 'credentials expired');
    },
    { concurrency: 1 },
  );
  // Each course backs off on its own (src/lms/ags/poll.ts); a run that fails as a whole is retried
  // at the next interval, and events are idempotent by id, so nothing is lost or stored twice.
  agenda.define(
    JOBS.pollAgsResults,
    async () => {
      const result = await pollAgsResults(ctx);
      if (result.stored || result.failed) ctx.logger.info(result, 'AGS results polled');
    },
    { concurrency: 1 },
  );
  defineProviderJobs(ctx);
  // Pathways move within seconds of an award: awardMany wakes this drain (src/pathways/updates.ts).
  const drainPathways = async () => {
    const run = await updatePathwaysFromAwards(ctx);
    if (run.read) ctx.logger.debug(run, 'pathways counted again after awards');
  };
  ctx.jobs.onWake?.(JOBS.updatePathways, drainPathways);
  agenda.define(JOBS.updatePathways, drainPathways, { concurrency: 1, removeOnComplete: true });
  const drainRegrades = async () => {
    const revoked = await revokeAfterRegrades(ctx);
    if (revoked) ctx.logger.info({ revoked }, 'credentials revoked after regrades');
  };
  ctx.jobs.onWake?.(JOBS.revokeAfterRegrades, drainRegrades);
  agenda.define(JOBS.revokeAfterRegrades, drainRegrades, { concurrency: 1, removeOnComplete: true });
}

/** How often Laurel's own gradebook columns are read (AGS results): grades count within minutes. */
export const AGS_POLL_EVERY = '3 minutes';

/** Recurring jobs are stored once (by name) whichever worker schedules them. */
export async function scheduleRecurringJobs(ctx: Context): Promise<void> {
  await scheduleRecurring(ctx.jobs.agenda, [
    { every: '1 minute', name: JOBS.processEvents },
    { every: '1 minute', name: JOBS.issueCredentials },
    { every: '1 minute', name: JOBS.sweep },
    { every: '1 minute', name: JOBS.recalculateBadges },
    { every: '15 minutes', name: JOBS.expireCredentials },
    { every: '1 minute', name: JOBS.updatePathways },
    { every: AGS_POLL_EVERY, name: JOBS.pollAgsResults },
    ...providerRecurringJobs,
    { every: '5 minutes', name: JOBS.revokeAfterRegrades },
  ]);
}

/**
 * A worker that starts (often in place of one that died) takes up what waits at once: the events,
 * credentials and service calls whose claims have lapsed, rather than at the next recurring run.
 */
export async function drainOnStart(ctx: Context): Promise<void> {
  for (const name of [JOBS.processEvents, JOBS.issueCredentials, JOBS.providerOutbox])
    await ctx.jobs.wake?.(name);
}
