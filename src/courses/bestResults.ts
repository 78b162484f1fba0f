import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { RequirementTarget } from '../rules/index.js';
import type { CourseScope } from './scope.js';

/** A learner's best grades in a course, from their stored events: per activity, and the course grade. */
export type BestResults = {
  activities: Map<string, { percent: number | null; score: number | null }>;
  course: { percent: number | null; score: number | null };
};

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The highest percent and score the learner's grade events of this course carried, so the learner
 * page can say "your best: 79%, needs 80%". Only this person's events of this course are read.
 */
export async function bestResultsOf(
  ctx: Context,
  scope: CourseScope,
  personId: Types.ObjectId,
): Promise<BestResults> {
  const empty: BestResults = { activities: new Map(), course: { percent: null, score: null } };
  if (!scope.courseRef) return empty;
  const rows = await ctx.models.events.aggregate<{
    _id: { type: string; activityId: unknown };
    percent: unknown;
    score: unknown;
  }>([
    {
      $match: {
        platformId: scope.platformId,
        personRef: personId,
        courseRef: scope.courseRef,
        type: { $in: ['activity.grade.updated', 'course.grade.updated'] },
      },
    },
    {
      $group: {
        _id: { type: '$type', activityId: '$data.activityId' },
        percent: { $max: '$data.percent' },
        score: { $max: '$data.score' },
      },
    },
    { $limit: 2000 },
  ]);
  for (const row of rows) {
    const best = { percent: num(row.percent), score: num(row.score) };
    if (row._id.type === 'course.grade.updated') empty.course = best;
    else if (typeof row._id.activityId === 'string') empty.activities.set(row._id.activityId, best);
  }
  return empty;
}

/** The best result in the unit a requirement compares, or null when there is none. */
export function bestFor(best: BestResults, target: RequirementTarget): number | null {
  const results = target.scope === 'course' ? best.course : best.activities.get(target.activityId ?? '');
  if (!results) return null;
  return target.unit === 'percent' ? results.percent : results.score;
}
