import { backoffStrategies } from 'agenda';
import type { NamesAndRolesService } from 'ltijs';
import { perContext, type Context } from '../context.js';
import { syncRoster, type RosterTarget } from './roster.js';

export const SYNC_ROSTER_JOB = 'sync-roster';
/** An instructor's launch asks for a roster sync at most this often per course. */
export const ROSTER_DEBOUNCE_MS = 10 * 60_000;
const ROSTER_EVERY = '1 day';

/** The LTI jobs: one recurring roster sync per course, started by the first instructor launch. */
export function defineLtiJobs(ctx: Context, services: { nrps: NamesAndRolesService }): void {
  ctx.jobs.agenda.define<RosterTarget>(
    SYNC_ROSTER_JOB,
    async (job) => {
      const result = await syncRoster(ctx, services.nrps, job.attrs.data);
      if (result.skipped) {
        // The platform or course is gone: nothing to sync, now or daily.
        ctx.logger.info(
          { courseRef: job.attrs.data.courseRef, reason: result.skipped },
          'roster sync dropped',
        );
        await job.remove();
        return;
      }
      ctx.logger.info(
        { courseRef: job.attrs.data.courseRef, members: result.members, stored: result.stored },
        'roster synced',
      );
    },
    { concurrency: 2, backoff: backoffStrategies.exponential({ delay: 60_000, maxRetries: 5 }) },
  );
}

/**
 * Queues the course's roster sync now, unless it ran or is due within ROSTER_DEBOUNCE_MS; the job
 * then repeats daily. One job document per course (unique on the course), so several processes
 * asking at once still make one.
 */
export async function requestRosterSync(ctx: Context, target: RosterTarget): Promise<'queued' | 'recent'> {
  const now = ctx.now().getTime();
  // This process asked within the debounce already: the job it queued or found is still due or
  // ran since, so the database would answer 'recent' too (two round trips per instructor launch).
  const asked = askedAt(ctx);
  const last = asked.get(target.courseRef);
  if (last !== undefined && now - last >= 0 && now - last < ROSTER_DEBOUNCE_MS) return 'recent';
  if (asked.size >= MAX_COURSES_REMEMBERED) asked.clear();
  const answer = await askQueue(ctx, target, now);
  asked.set(target.courseRef, now);
  return answer;
}

/** When this process last asked for each course's roster sync (by course document id). */
const askedAt = perContext(() => new Map<string, number>());
/** Enough for every course launched within the debounce on a busy installation; then it starts over. */
const MAX_COURSES_REMEMBERED = 10_000;

async function askQueue(ctx: Context, target: RosterTarget, now: number): Promise<'queued' | 'recent'> {
  const { agenda } = ctx.jobs;
  const { jobs } = await agenda.queryJobs({
    name: SYNC_ROSTER_JOB,
    data: { courseRef: target.courseRef },
    limit: 1,
  });
  const existing = jobs[0];
  if (existing) {
    const at = (d: unknown) => (d ? new Date(d as string).getTime() : undefined);
    const last = at(existing.lastRunAt);
    const next = at(existing.nextRunAt);
    if (existing.lockedAt) return 'recent';
    if (last !== undefined && now - last < ROSTER_DEBOUNCE_MS) return 'recent';
    if (next !== undefined && next - now < ROSTER_DEBOUNCE_MS) return 'recent';
  }
  await agenda
    .create(SYNC_ROSTER_JOB, target)
    .unique({ 'data.courseRef': target.courseRef })
    .repeatEvery(ROSTER_EVERY)
    .schedule(new Date(now))
    .save();
  return 'queued';
}
