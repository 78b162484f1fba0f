import type { Types } from 'mongoose';
import { courseEndOf } from './endDate.js';
import type { Context } from '../context.js';
import type { Models } from '../db/models/index.js';
import type { TemplateDoc } from '../db/models/template.js';
import { describeRule, type DescribeContext } from '../rules/index.js';
import { activitiesSeenInEvents } from './activities.js';
import { courseTemplateFilter, knownCourseOf, visibleTemplateFilter, type CourseScope } from './scope.js';

export type TemplateSummary = {
  template: TemplateDoc;
  earned: number;
  onTheWay: number;
  rule: string;
};

/**
 * Names a person reads in rule summaries: activity titles seen in events, and the names of the
 * badges this course may see (visibleTemplateFilter). Another course's unshared badge is never
 * named: a rule that requires one shows its id.
 */
export async function describeContextFor(ctx: Context, scope: CourseScope): Promise<DescribeContext> {
  const [activities, badges, course] = await Promise.all([
    activitiesSeenInEvents(ctx, scope),
    ctx.models.templates.find(visibleTemplateFilter(scope), { name: 1 }).lean(),
    knownCourseOf(scope) ??
      (scope.courseRef
        ? ctx.models.courses
            .findOne(
              { _id: scope.courseRef, platformId: scope.platformId },
              { lmsEndsAt: 1, instructorEndsAt: 1 },
            )
            .lean()
        : null),
  ]);
  return {
    activityTitles: Object.fromEntries(activities.filter((a) => a.title).map((a) => [a.id, a.title!])),
    badgeNames: Object.fromEntries(badges.map((b) => [String(b._id), b.name])),
    // "before the course ends on 12 June 2027"
    courseEndsAt: courseEndOf(course),
  };
}

/**
 * The instructor's list: each badge of the course with how many learners earned it (live
 * credentials in this course) and how many are on the way (some progress, not complete).
 */
export async function courseBadgeOverview(ctx: Context, scope: CourseScope): Promise<TemplateSummary[]> {
  const templates = await ctx.models.templates
    .find({
      ...courseTemplateFilter(scope),
      // The synced Credly and Accredible catalogue is offered on its own page, not as every course's drafts.
      $nor: [{ source: { $in: ['credly', 'accredible'] }, courseRef: null, state: { $ne: 'active' } }],
    })
    .sort({ state: 1, name: 1 })
    .limit(500)
    .lean<TemplateDoc[]>();
  if (templates.length === 0) return [];
  const ids = templates.map((t) => t._id);
  const courseMatch = scope.courseRef ? { courseRef: scope.courseRef } : {};
  const [earned, onTheWay, names] = await Promise.all([
    countBy(ctx.models.credentials, { templateId: { $in: ids }, liveSlot: 'live', ...courseMatch }),
    countBy(ctx.models.progress, {
      templateId: { $in: ids },
      ratio: { $gt: 0 },
      completedAt: null,
      ...courseMatch,
    }),
    describeContextFor(ctx, scope),
  ]);
  return templates.map((template) => ({
    template,
    earned: earned.get(String(template._id)) ?? 0,
    onTheWay: onTheWay.get(String(template._id)) ?? 0,
    rule: template.groups.length ? describeRule(template.groups, names) : 'No requirements yet.',
  }));
}

async function countBy(
  model: Models['credentials'] | Models['progress'],
  match: Record<string, unknown>,
): Promise<Map<string, number>> {
  const rows = await (model as Models['progress']).aggregate<{ _id: Types.ObjectId; n: number }>([
    { $match: match },
    { $group: { _id: '$templateId', n: { $sum: 1 } } },
  ]);
  return new Map(rows.map((r) => [String(r._id), r.n]));
}
