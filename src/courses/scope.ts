import type { Types } from 'mongoose';

/** Where a page's queries are confined: one platform, and one course of it (from the signed launch). */
export type CourseScope = { platformId: Types.ObjectId; courseRef: Types.ObjectId | null };

/** The templates a course sees: its own, and the platform's templates for every course. */
export const courseTemplateFilter = (scope: CourseScope) => ({
  platformId: scope.platformId,
  courseRef: scope.courseRef ? { $in: [scope.courseRef, null] } : null,
});

/**
 * The templates a course's people may know by name, and an instructor may require ("another badge
 * earned"): the course's own, the platform's templates for every course, and other courses'
 * templates the platform's administrator marked `shared`. Never another course's unshared badge.
 */
export const visibleTemplateFilter = (scope: CourseScope) => ({
  platformId: scope.platformId,
  $or: [{ courseRef: scope.courseRef ? { $in: [scope.courseRef, null] } : null }, { shared: true }],
});
