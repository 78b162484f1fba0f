import { EXPIRE_CREDENTIALS_JOB, expireCredentials } from '../awards/expire.js';
import type { Context } from '../context.js';
import { PROCESS_EVENTS_JOB } from '../events/store.js';
import { defineOpenBadgeJobs, scheduleOpenBadgeJobs } from '../issuers/openbadges/jobs.js';
import { processPendingEvents } from '../progress/processPending.js';

/** Every job Laurel runs, and the recurring ones that act as a safety net for missed wake-ups. */
export function defineJobs(ctx: Context): void {
  const { agenda } = ctx.jobs;
  agenda.define(
    PROCESS_EVENTS_JOB,
    async () => {
      const { processed, failed } = await processPendingEvents(ctx);
      if (processed || failed) ctx.logger.debug({ processed, failed }, 'learning events processed');
    },
    { concurrency: 1, removeOnComplete: true },
  );
  agenda.define(
    EXPIRE_CREDENTIALS_JOB,
    async () => {
      const expired = await expireCredentials(ctx);
      if (expired) ctx.logger.info({ expired }, 'credentials expired');
    },
    { concurrency: 1 },
  );
  defineOpenBadgeJobs(ctx);
}

/** Recurring jobs are stored once (by name) whichever worker schedules them. */
export async function scheduleRecurringJobs(ctx: Context): Promise<void> {
  await ctx.jobs.agenda.every('1 minute', PROCESS_EVENTS_JOB, {});
  await ctx.jobs.agenda.every('15 minutes', EXPIRE_CREDENTIALS_JOB, {});
  await scheduleOpenBadgeJobs(ctx);
}
