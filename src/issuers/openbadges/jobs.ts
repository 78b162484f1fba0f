import { backoffStrategies } from 'agenda';
import { Types } from 'mongoose';
import { ISSUE_CREDENTIAL_JOB } from '../../awards/award.js';
import type { Context } from '../../context.js';
import { IssuingBusyError, findStalledAwards, issueCredential } from './issue.js';
import { laurelDocumentLoader } from './laurelDocuments.js';
import { UPDATE_STATUS_LIST_JOB, refreshStatusList } from './statusLists.js';

export const ISSUE_STALLED_CREDENTIALS_JOB = 'issue-stalled-credentials';
/** An award still unsigned this long after it was made has lost its job. */
const STALLED_AFTER_MS = 10 * 60_000;

/**
 * The Open Badges jobs: signing awarded credentials, re-signing status lists after a revocation,
 * and a sweep that re-queues awards whose issue job was lost. Payloads carry ids only.
 */
export function defineOpenBadgeJobs(ctx: Context): void {
  const { agenda } = ctx.jobs;
  agenda.define<{ credentialId: string }>(
    ISSUE_CREDENTIAL_JOB,
    async (job) => {
      const { credentialId } = job.attrs.data;
      const outcome = await issueCredential(ctx, credentialId);
      if (outcome === 'missing') ctx.logger.warn({ credentialId }, 'issue-credential: no such credential');
      else ctx.logger.debug({ credentialId, outcome }, 'issue-credential');
    },
    {
      concurrency: 4,
      // Another worker signing the same credential finishes within seconds: retry soon and
      // steadily. Anything else (a database outage, say) backs off exponentially.
      backoff: (context) =>
        context.error instanceof IssuingBusyError
          ? backoffStrategies.constant({ delay: 30_000, maxRetries: 10 })(context)
          : backoffStrategies.exponential({ delay: 10_000, maxRetries: 8, maxDelay: 3_600_000 })(context),
    },
  );
  agenda.define<{ statusListId: string }>(
    UPDATE_STATUS_LIST_JOB,
    async (job) => {
      const { statusListId } = job.attrs.data;
      if (!Types.ObjectId.isValid(statusListId)) return;
      const result = await refreshStatusList(
        ctx,
        new Types.ObjectId(statusListId),
        laurelDocumentLoader(ctx),
      );
      if (result.changed) ctx.logger.info({ statusListId, revoked: result.revoked }, 'status list re-signed');
    },
    {
      concurrency: 1,
      removeOnComplete: true,
      backoff: backoffStrategies.exponential({ delay: 5_000, maxRetries: 8, maxDelay: 600_000 }),
    },
  );
  agenda.define(
    ISSUE_STALLED_CREDENTIALS_JOB,
    async () => {
      const stalled = await findStalledAwards(ctx, STALLED_AFTER_MS);
      for (const credentialId of stalled) await agenda.now(ISSUE_CREDENTIAL_JOB, { credentialId });
      if (stalled.length)
        ctx.logger.info({ count: stalled.length }, 'stalled credential awards queued again');
    },
    { concurrency: 1 },
  );
}

/** Stored once by name, whichever worker schedules it. */
export async function scheduleOpenBadgeJobs(ctx: Context): Promise<void> {
  await ctx.jobs.agenda.every('10 minutes', ISSUE_STALLED_CREDENTIALS_JOB, {});
}
