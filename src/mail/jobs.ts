import type { Context } from '../context.js';
import { JOBS } from '../jobs/names.js';
import { scheduleRecurring } from '../jobs/recurring.js';
import { sendCourseDigests } from './digest.js';
import type { Mailer } from './mailer.js';
import { sendLearnerNotices } from './notices.js';

/**
 * The mail jobs: learners' notices (src/mail/notices.ts) and instructors' weekly digests
 * (src/mail/digest.ts). Defined only with a mailer (SMTP_URL set), so no mail without it.
 */
export function defineMailJobs(ctx: Context, mailer: Mailer | null): void {
  if (!mailer) return;
  ctx.jobs.agenda.define(
    JOBS.notifyLearners,
    async () => {
      const run = await sendLearnerNotices(ctx, mailer);
      if (run.claimed) ctx.logger.info(run, 'learner notices sent');
    },
    { concurrency: 1 },
  );
  ctx.jobs.agenda.define(
    JOBS.sendCourseDigests,
    async () => {
      const run = await sendCourseDigests(ctx, mailer);
      if (run.sent + run.skipped + run.failed) ctx.logger.info(run, 'course digests sent');
    },
    { concurrency: 1 },
  );
}

export async function scheduleMailJobs(ctx: Context, mailer: Mailer | null): Promise<void> {
  if (!mailer) return;
  await scheduleRecurring(ctx.jobs.agenda, [
    { every: '1 minute', name: JOBS.notifyLearners },
    // Each digest is due a week after the last; the hourly run sends those whose week is over.
    { every: '1 hour', name: JOBS.sendCourseDigests },
  ]);
}
