import type { CourseDoc } from '../db/models/course.js';

/**
 * A course's end date, as Laurel knows it: the instructor's own (set on the course settings page)
 * wins over what the LMS said (Canvas's `$Canvas.course.endAt` at launch, the Moodle plugin's course
 * lists). Pure: reading and writing the course document is the callers' business.
 */
export function courseEndOf(
  course: Pick<CourseDoc, 'lmsEndsAt' | 'instructorEndsAt'> | null | undefined,
): Date | null {
  return course?.instructorEndsAt ?? course?.lmsEndsAt ?? null;
}

/** Where the end date Laurel goes by comes from. */
export function courseEndSource(
  course: Pick<CourseDoc, 'lmsEndsAt' | 'instructorEndsAt'> | null | undefined,
): 'instructor' | 'lms' | null {
  return course?.instructorEndsAt ? 'instructor' : course?.lmsEndsAt ? 'lms' : null;
}

/** Dates outside these years are a mistake, not a course (Canvas sends what its admins typed). */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(2200, 0, 1);

const CANVAS_TIME =
  /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/i;

/**
 * The course end date an LMS sent as text: an ISO 8601 date-time, or Ruby's way of writing a time,
 * which Canvas's `$Canvas.course.endAt` substitution gives ("2018-05-01 00:00:00 -0700"; without a
 * zone, UTC). `undefined`: the launch did not say (the parameter is not configured, or Canvas left the
 * variable unexpanded as "$Canvas.course.endAt"); `null`: the LMS says the course has no end date
 * (an empty value). A value that is none of these is `undefined` too: Laurel keeps what it knew.
 */
export function parseLmsEndDate(value: unknown): Date | null | undefined {
  if (value === null) return null;
  if (typeof value === 'number' && Number.isFinite(value)) {
    // Unix seconds, as Moodle stores `enddate`; 0 is Moodle's "no end date".
    if (value === 0) return null;
    return inRange(new Date(value * 1000));
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return null;
  if (text.startsWith('$')) return undefined;
  const m = CANVAS_TIME.exec(text);
  if (!m) return undefined;
  const [, day, time, zone] = m;
  // JavaScript rolls 30 February over into March: a day that does not exist is no date.
  const calendarDay = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(calendarDay.getTime()) || calendarDay.toISOString().slice(0, 10) !== day) return undefined;
  const offset =
    !zone || /^(z|utc)$/i.test(zone)
      ? 'Z'
      : zone.length === 5
        ? `${zone.slice(0, 3)}:${zone.slice(3)}`
        : zone;
  const parsed = new Date(`${day}T${time!.length === 5 ? `${time}:00` : time}${offset}`);
  return Number.isNaN(parsed.getTime()) ? undefined : inRange(parsed);
}

function inRange(d: Date): Date | undefined {
  const t = d.getTime();
  return Number.isNaN(t) || t < EARLIEST || t >= LATEST ? undefined : d;
}

/**
 * The end date an instructor typed as a day ("2027-06-12"): the course runs to the end of that day
 * (UTC), so the end is the next midnight. Null for an empty field; an error message for anything else.
 */
export function instructorEndDateOf(text: string): { endsAt: Date | null } | { error: string } {
  const t = text.trim();
  if (t === '') return { endsAt: null };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(t)) return { error: 'A date such as 2027-06-12.' };
  const start = new Date(`${t}T00:00:00Z`);
  if (Number.isNaN(start.getTime()) || start.toISOString().slice(0, 10) !== t)
    return { error: 'That day does not exist; give a date such as 2027-06-12.' };
  const end = new Date(start.getTime() + 24 * 60 * 60 * 1000);
  if (!inRange(end)) return { error: 'Give a date between 1970 and 2199.' };
  return { endsAt: end };
}

/** The day an end date is shown as in a date field: the last day the course runs (UTC). */
export function endDateFieldValue(end: Date | null | undefined): string {
  if (!end) return '';
  const midnight = end.getTime() % (24 * 60 * 60 * 1000) === 0;
  return new Date(end.getTime() - (midnight ? 24 * 60 * 60 * 1000 : 0)).toISOString().slice(0, 10);
}
