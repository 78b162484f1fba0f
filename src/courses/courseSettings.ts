import type { Context } from '../context.js';
import type { CourseDoc } from '../db/models/course.js';
import { NotFoundError } from '../errors.js';
import { recordAudit, type Actor } from '../audit/record.js';
import { requestRecalculation } from '../progress/recalculationQueue.js';
import { usesCourseEnd } from '../progress/historyReplay.js';
import type { TemplateDoc } from '../db/models/template.js';
import { courseEndOf, courseEndSource } from './endDate.js';
import { courseTemplateFilter, type CourseScope } from './scope.js';

/** What the course settings page shows of a course's end date. */
export type CourseEndView = {
  /** The date Laurel goes by (the instructor's, else the LMS's), or null. */
  endsAt: Date | null;
  source: 'instructor' | 'lms' | null;
  lmsEndsAt: Date | null;
  instructorEndsAt: Date | null;
};

/** The launch's course's end dates (scoped to its platform). */
export async function courseEndView(ctx: Context, scope: CourseScope): Promise<CourseEndView> {
  const course = scope.courseRef
    ? await ctx.models.courses
        .findOne(
          { _id: scope.courseRef, platformId: scope.platformId },
          { lmsEndsAt: 1, instructorEndsAt: 1 },
        )
        .lean<CourseDoc>()
    : null;
  return {
    endsAt: courseEndOf(course),
    source: courseEndSource(course),
    lmsEndsAt: course?.lmsEndsAt ?? null,
    instructorEndsAt: course?.instructorEndsAt ?? null,
  };
}

/**
 * Sets (or, with null, clears) the instructor's end date of the launch's course, which wins over the
 * LMS's. When the date Laurel goes by changes, the course's active badges limited to "before the course
 * ends" are recalculated from their stored events (awards stay exactly once); the change is audited.
 * Throws NotFoundError when the course is not the platform's.
 */
export async function setInstructorCourseEnd(
  ctx: Context,
  scope: CourseScope,
  endsAt: Date | null,
  actor: Actor,
): Promise<{ changed: boolean }> {
  if (!scope.courseRef) throw new NotFoundError('The launch’s course');
  const before = await ctx.models.courses
    .findOneAndUpdate(
      { _id: scope.courseRef, platformId: scope.platformId },
      { $set: { instructorEndsAt: endsAt } },
      { returnDocument: 'before', projection: { lmsEndsAt: 1, instructorEndsAt: 1 } },
    )
    .lean<CourseDoc>();
  if (!before) throw new NotFoundError('The launch’s course');
  const was = courseEndOf(before);
  const now = courseEndOf({ lmsEndsAt: before.lmsEndsAt, instructorEndsAt: endsAt });
  const changed = (was?.getTime() ?? null) !== (now?.getTime() ?? null);
  if ((before.instructorEndsAt?.getTime() ?? null) !== (endsAt?.getTime() ?? null))
    await recordAudit(ctx.models, {
      actor,
      action: 'course.end-date.set',
      platformId: scope.platformId,
      courseRef: scope.courseRef,
      target: { type: 'course', id: String(scope.courseRef) },
      details: { instructorEndsAt: endsAt?.toISOString() ?? null },
    });
  if (changed) {
    const templates = await ctx.models.templates
      .find({ ...courseTemplateFilter(scope), state: 'active' }, { groups: 1 })
      .lean<TemplateDoc[]>();
    for (const t of templates.filter(usesCourseEnd)) await requestRecalculation(ctx, t._id);
  }
  return { changed };
}
