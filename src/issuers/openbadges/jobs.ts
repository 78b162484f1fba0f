import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import { IssuingBusyError, issueCredential, issuePendingCredentials, requeueStalledAwards } from './issue.js';
import { laurelDocumentLoader } from './laurelDocuments.js';
import { refreshStaleStatusLists, refreshStatusList } from './statusLists.js';

/** An award still unsigned and outside the outbox this long after it was made has lost its way. */
export const STALLED_AFTER_MS = 2 * 60_000;

/** The Open Badges job bodies; src/jobs/definitions.ts defines them with Agenda. */
export const openBadgeJobs = {
  /** Signs what waits in the outbox. */
  async issueCredentials(ctx: Context): Promise<void> {
    const result = await issuePendingCredentials(ctx);
    if (result.issued || result.failed) ctx.logger.debug(result, 'credentials issued');
  },

  /** One credential by id (jobs queued by earlier versions). */
  async issueCredential(ctx: Context, credentialId: string): Promise<void> {
    const outcome = await issueCredential(ctx, credentialId);
    if (outcome === 'missing') ctx.logger.warn({ credentialId }, 'issue-credential: no such credential');
  },

  async updateStatusList(ctx: Context, statusListId: string): Promise<void> {
    if (!Types.ObjectId.isValid(statusListId)) return;
    const result = await refreshStatusList(ctx, new Types.ObjectId(statusListId), laurelDocumentLoader(ctx));
    if (result.changed) ctx.logger.info({ statusListId, revoked: result.revoked }, 'status list re-signed');
  },

  /**
   * Crash recovery: awards that never reached the outbox go into it, and status lists behind their
   * revision (a revocation whose rebuild was lost) are rebuilt.
   */
  async sweep(ctx: Context): Promise<{ requeued: number; lists: number }> {
    const requeued = await requeueStalledAwards(ctx, STALLED_AFTER_MS);
    const lists = await refreshStaleStatusLists(ctx, laurelDocumentLoader(ctx));
    if (requeued || lists) ctx.logger.info({ requeued, lists }, 'recovery sweep');
    return { requeued, lists };
  },
};

export { IssuingBusyError };
