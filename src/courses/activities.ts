import type { Context } from '../context.js';
import type { CourseScope } from './scope.js';

export type KnownActivity = { id: string; title: string | null; source: 'events' | 'gradebook' | 'lms' };

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
  const seen = rows.map((r) => ({
    id: r._id,
    title: (typeof r.title === 'string' && r.title) || (typeof r.name === 'string' && r.name) || null,
    source: 'events' as const,
  }));
  // Activities the LMS described before any grade for them arrived (Canvas Live Events).
  const described = await activitiesFromLmsFeeds(ctx, scope, limit);
  return described.length ? mergeActivities(seen, described).slice(0, limit) : seen;
}

/**
 * The activities an LMS's own feed described for this course (Canvas Live Events' assignment events,
 * stored by src/lms/canvas/activities.ts under the LMS's course id), deleted ones left out. Merged into
 * activitiesSeenInEvents, so the badge builder offers them by name before any grade arrived.
 */
export async function activitiesFromLmsFeeds(
  ctx: Context,
  scope: CourseScope,
  limit = 200,
): Promise<KnownActivity[]> {
  if (!scope.courseRef) return [];
  const course = await ctx.models.courses
    .findOne({ _id: scope.courseRef, platformId: scope.platformId }, { ids: 1 })
    .lean();
  if (!course || course.ids.length === 0) return [];
  const rows = await ctx.models.lmsActivities
    .find(
      { platformId: scope.platformId, courseId: { $in: course.ids }, state: { $ne: 'deleted' } },
      { activityId: 1, name: 1 },
    )
    .sort({ activityId: 1 })
    .limit(limit)
    .lean();
  return rows.map((r) => ({ id: r.activityId, title: r.name ?? null, source: 'lms' as const }));
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
