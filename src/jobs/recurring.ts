import type { Agenda } from 'agenda';

/** A recurring job: its name and Agenda's interval ('1 minute', '15 minutes', ...). */
export type Recurring = { name: string; every: string };

/**
 * Schedules the recurring jobs that are not scheduled yet at their interval. Agenda's `every()`
 * upserts the whole job with `lockedAt: null`, so calling it for a job another worker is running
 * unlocks that run, and a third worker may start the same job beside it. Every worker schedules on
 * start, so only the missing or changed ones are written.
 */
export async function scheduleRecurring(agenda: Agenda, wanted: Recurring[]): Promise<void> {
  const { jobs } = await agenda.queryJobs({ names: wanted.map((w) => w.name) });
  const scheduled = new Map(
    jobs.filter((j) => j.type === 'single').map((j) => [j.name, String(j.repeatInterval)]),
  );
  for (const { name, every } of wanted) {
    if (scheduled.get(name) === every) continue;
    await agenda.every(every, name, {});
  }
}
