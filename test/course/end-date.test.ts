import {
  courseEndOf,
  courseEndSource,
  endDateFieldValue,
  instructorEndDateOf,
  parseLmsEndDate,
} from '../../src/courses/endDate.js';
import { lmsCourseEndOf } from '../../src/lti/claims.js';

/** The course end date as LMSs write it and as instructors type it (src/courses/endDate.ts). */
describe('course end dates', () => {
  it('reads Canvas’s $Canvas.course.endAt as Canvas writes a time, and ISO 8601', () => {
    expect(parseLmsEndDate('2018-05-01 00:00:00 -0700')).toEqual(new Date('2018-05-01T07:00:00Z'));
    expect(parseLmsEndDate('2027-06-12 23:59:00 +0530')).toEqual(new Date('2027-06-12T18:29:00Z'));
    expect(parseLmsEndDate('2027-06-12 23:59:00 UTC')).toEqual(new Date('2027-06-12T23:59:00Z'));
    expect(parseLmsEndDate('2019-04-21 17:01:36')).toEqual(new Date('2019-04-21T17:01:36Z'));
    expect(parseLmsEndDate('2027-06-12T23:59:00.000-06:00')).toEqual(new Date('2027-06-13T05:59:00Z'));
    // Moodle's unix seconds; 0 is its "no end date".
    expect(parseLmsEndDate(1812844800)).toEqual(new Date('2027-06-13T00:00:00Z'));
    expect(parseLmsEndDate(0)).toBeNull();
  });

  it('tells "no end date" (null, empty) from "not said" (unexpanded, unreadable: undefined)', () => {
    expect(parseLmsEndDate(null)).toBeNull();
    expect(parseLmsEndDate('  ')).toBeNull();
    expect(parseLmsEndDate('$Canvas.course.endAt')).toBeUndefined();
    expect(parseLmsEndDate('next June')).toBeUndefined();
    expect(parseLmsEndDate('2027-02-30 00:00:00 UTC')).toBeUndefined();
    expect(parseLmsEndDate('9999-01-01 00:00:00 UTC')).toBeUndefined();
    expect(parseLmsEndDate({})).toBeUndefined();
    expect(parseLmsEndDate(undefined)).toBeUndefined();
  });

  it('takes the launch’s custom parameter, and only when it says something', () => {
    const custom = (c: Record<string, unknown>) => ({
      'https://purl.imsglobal.org/spec/lti/claim/custom': c,
    });
    expect(lmsCourseEndOf(custom({ canvas_course_ends: '2027-06-12 23:59:00 -0600' }))).toEqual(
      new Date('2027-06-13T05:59:00Z'),
    );
    expect(lmsCourseEndOf(custom({ canvas_course_ends: null }))).toBeNull();
    expect(lmsCourseEndOf(custom({ canvas_course_ends: '$Canvas.course.endAt' }))).toBeUndefined();
    expect(lmsCourseEndOf(custom({ lms_course_ends: '2027-06-12T00:00:00Z' }))).toEqual(
      new Date('2027-06-12T00:00:00Z'),
    );
    expect(lmsCourseEndOf(custom({}))).toBeUndefined();
    expect(lmsCourseEndOf({})).toBeUndefined();
  });

  it('takes the instructor’s last day as running to its end, and refuses what is no day', () => {
    expect(instructorEndDateOf('2027-06-12')).toEqual({ endsAt: new Date('2027-06-13T00:00:00Z') });
    expect(instructorEndDateOf('')).toEqual({ endsAt: null });
    expect(instructorEndDateOf('12/06/2027')).toEqual({ error: 'A date such as 2027-06-12.' });
    expect(instructorEndDateOf('2027-02-29')).toEqual({
      error: 'That day does not exist; give a date such as 2027-06-12.',
    });
    expect(endDateFieldValue(new Date('2027-06-13T00:00:00Z'))).toBe('2027-06-12');
    expect(endDateFieldValue(new Date('2027-06-13T05:59:00Z'))).toBe('2027-06-13');
    expect(endDateFieldValue(null)).toBe('');
  });

  it('goes by the instructor’s date over the LMS’s', () => {
    const lms = new Date('2027-06-13T05:59:00Z');
    const own = new Date('2027-07-01T00:00:00Z');
    expect(courseEndOf({ lmsEndsAt: lms, instructorEndsAt: own })).toEqual(own);
    expect(courseEndSource({ lmsEndsAt: lms, instructorEndsAt: own })).toBe('instructor');
    expect(courseEndOf({ lmsEndsAt: lms, instructorEndsAt: null })).toEqual(lms);
    expect(courseEndSource({ lmsEndsAt: lms, instructorEndsAt: null })).toBe('lms');
    expect(courseEndOf(null)).toBeNull();
    expect(courseEndSource({ lmsEndsAt: null, instructorEndsAt: null })).toBeNull();
  });
});
