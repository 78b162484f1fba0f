import type { Context } from '../context.js';
import type { CourseScope } from './scope.js';

export type KnownActivity = { id: string; title: string | null; source: 'events' | 'gradebook' };

/**
 * The activities Laurel has seen in this course's events (an LMS plugin may send a title as
 * data.activityTitle or data.activityName), so the instructor picks from a list instead of typing ids.
 * Line items from the LMS gradebook (AGS) are merged in by the caller when a launch can reach them.
 */
export async function activitiesSeenInEvents(
  ctx: Context,
  scope: CourseScope,
  limit = 200,
): Promise<KnownActivity[]> {
  if (!scope.courseRef) return [];
  const rows = await ctx.models.events.aggregate<{ _id: string; title: string | null; name: string | null }>([
    {
      $match: {
        platformId: scope.platformId,
        courseRef: scope.courseRef,
        'data.activityId': { $type: 'string' },
      },
    },
    { $sort: { occurredAt: 1 } },
    {
      $group: {
        _id: '$data.activityId',
        title: { $last: '$data.activityTitle' },
        name: { $last: '$data.activityName' },
      },
    },
    { $sort: { _id: 1 } },
    { $limit: limit },
  ]);
  return rows.map((r) => ({
    id: r._id,
    title: (typeof r.title === 'string' && r.title) || (typeof r.name === 'string' && r.name) || null,
    source: 'events' as const,
  }));
}

/** Merges activity lists, first title wins, sorted by what a person reads. */
export function mergeActivities(...lists: KnownActivity[][]): KnownActivity[] {
  const byId = new Map<string, KnownActivity>();
  for (const list of lists)
    for (const a of list) {
      const known = byId.get(a.id);
      if (!known) byId.set(a.id, a);
      else if (!known.title && a.title) byId.set(a.id, { ...known, title: a.title });
    }
  return [...byId.values()].sort((a, b) => (a.title ?? a.id).localeCompare(b.title ?? b.id));
}
