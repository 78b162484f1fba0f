import type { Context } from '../context.js';
import { JOBS } from '../jobs/names.js';
import type { Mailer } from './mailer.js';
import { sendLearnerNotices } from './notices.js';

/** The notice job (src/mail/notices.ts): defined only when SMTP_URL is set, so no mail without it. */
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
}

export async function scheduleMailJobs(ctx: Context, mailer: Mailer | null): Promise<void> {
  if (mailer) await ctx.jobs.agenda.every('1 minute', JOBS.notifyLearners, {});
}
