import type { Types } from 'mongoose';
import type { CourseDoc } from '../db/models/course.js';

/** Where a page's queries are confined: one platform, and one course of it (from the signed launch). */
export type CourseScope = {
  platformId: Types.ObjectId;
  courseRef: Types.ObjectId | null;
  /**
   * The course's ids and end dates as this request read them already (a course page's launch
   * session), so that its reads of them need no round trip of their own. Absent: read when needed.
   */
  course?: CourseFacts | null;
};

/** What pages read of a course besides its id: the LMS's ids of it and its end dates. */
export type CourseFacts = Pick<CourseDoc, '_id' | 'ids' | 'lmsEndsAt' | 'instructorEndsAt'>;

/** The scope's course facts when they are of its course, else undefined (to be read). */
export const knownCourseOf = (scope: CourseScope): CourseFacts | undefined =>
  scope.course && scope.courseRef && scope.course._id.equals(scope.courseRef) ? scope.course : undefined;

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
