/**
 * Every job Laurel queues, by name, in one place. Names are stored in MongoDB (Agenda's jobs), so a
 * name never changes once released: an old name stays defined for the jobs a previous version queued.
 */
export const JOBS = {
  /** Claims stored learning events in batches and applies them (progress, awards). */
  processEvents: 'process-events',
  /** Signs the awarded OB 3.0 credentials waiting in the outbox, many per run. */
  issueCredentials: 'issue-credentials',
  /** One credential by id: queued by earlier versions; still run for what they left behind. */
  issueCredential: 'issue-credential',
  /** Re-signs a status list after revocations. */
  updateStatusList: 'update-status-list',
  /** Recovery sweep: stalled awards back into the outbox, status lists behind their revision re-signed. */
  sweep: 'issue-stalled-credentials',
  expireCredentials: 'expire-credentials',
  /** Reads the results of Laurel's own AGS line items and stores new or changed scores as events. */
  pollAgsResults: 'poll-ags-results',
  /** Re-evaluates the stored events of a course against a badge activated or changed (queued on the template). */
  recalculateBadges: 'recalculate-badges',
  /** E-mails learners about their new and revoked credentials (src/mail/notices.ts). */
  notifyLearners: 'notify-learners',
  /** Issues and revokes Credly and Accredible badges waiting in the credentials' outbox (src/providers). */
  providerOutbox: 'provider-outbox',
  /** Syncs Credly badge templates and Accredible groups: all platforms, or `{ platformId, provider }`. */
  syncProviderTemplates: 'sync-provider-templates',
  /** Reads back issued Accredible credentials (Accredible has no webhooks). */
  reconcileAccredible: 'reconcile-accredible',
  /** Sends instructors' weekly digests of their courses whose week is over (src/mail/digest.ts). */
  sendCourseDigests: 'send-course-digests',
  /** Counts learners' pathways again after awards of the badges they name (src/pathways/updates.ts). */
  updatePathways: 'update-pathways',
  /** Revokes the credentials a regrade took back once their grace period ran out (src/awards/regradeRevocations.ts). */
  revokeAfterRegrades: 'revoke-after-regrades',
} as const;

export type JobName = (typeof JOBS)[keyof typeof JOBS];
