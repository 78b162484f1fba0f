import type { RequirementInput, TimeWindow } from '../rules/index.js';
import type { ConditionRow, RowError } from './builder.js';

/**
 * The time limits of a builder condition, in a person's terms: "from" and "until" are whole days
 * (UTC; "until" includes its day), "within N days of enrolment", and "only after" another saved
 * condition, and "before the course ends" (the course's end date as Laurel knows it when each event
 * is judged: the LMS's, or the one the instructor set). Pure; translates both ways.
 */
export type RowTiming = { window?: TimeWindow; after?: string };

const DAY_MS = 24 * 60 * 60 * 1000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

function dayStart(text: string): Date | null {
  if (!DATE.test(text)) return null;
  const d = new Date(`${text}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text ? null : d;
}

const instant = (d: Date) => d.toISOString().replace('.000Z', 'Z');

/** A posted row's time limits, or the errors to show beside their fields. */
export function parseRowTiming(
  row: ConditionRow,
  isBadge: boolean,
): { timing: RowTiming } | { errors: RowError[] } {
  const from = (row.from ?? '').trim();
  const until = (row.until ?? '').trim();
  const days = (row.days ?? '').trim();
  const after = (row.after ?? '').trim();
  const beforeEnd = (row.beforeEnd ?? '').trim() === 'on';
  const errors: RowError[] = [];
  if (isBadge) {
    if (from || until || days || after || beforeEnd)
      errors.push({ field: 'from', message: 'Another badge earned takes no time limits: leave them empty.' });
    return errors.length ? { errors } : { timing: {} };
  }
  const window: TimeWindow = {};
  const start = from ? dayStart(from) : null;
  if (from && !start) errors.push({ field: 'from', message: 'A date such as 2027-03-01.' });
  else if (start) window.from = instant(start);
  const last = until ? dayStart(until) : null;
  if (until && !last) errors.push({ field: 'until', message: 'A date such as 2027-03-31.' });
  else if (last) {
    if (start && last < start) errors.push({ field: 'until', message: 'Must not be before the start date.' });
    // "Until 31 March" includes 31 March: the window ends when 1 April begins.
    else window.until = instant(new Date(last.getTime() + DAY_MS));
  }
  if (days) {
    const n = Number(days);
    if (!Number.isInteger(n) || n < 1 || n > 3650)
      errors.push({ field: 'days', message: 'A whole number of days from 1 to 3650.' });
    else window.daysAfterEnrolment = n;
  }
  if (beforeEnd) window.beforeCourseEnd = true;
  if (after && !ID.test(after)) errors.push({ field: 'after', message: 'Choose a condition from the list.' });
  else if (after && after === (row.id ?? '').trim())
    errors.push({ field: 'after', message: 'A condition cannot come after itself.' });
  if (errors.length) return { errors };
  return {
    timing: { ...(Object.keys(window).length ? { window } : {}), ...(after ? { after } : {}) },
  };
}

const midnight = (iso: string) => {
  const d = new Date(iso);
  return !Number.isNaN(d.getTime()) && d.getTime() % DAY_MS === 0 ? d : null;
};

/**
 * A stored requirement's time limits as form fields, or null when the form cannot show them exactly
 * (a window set through the admin API at another time of day): the condition is then kept as it is.
 */
export function rowTimingOf(req: RequirementInput): Partial<ConditionRow> | null {
  if ('badge' in req) return {};
  const w = req.window;
  const row: Partial<ConditionRow> = req.after !== undefined ? { after: req.after } : {};
  if (!w) return row;
  if (w.beforeCourseEnd) row.beforeEnd = 'on';
  if (w.from !== undefined) {
    const d = midnight(w.from);
    if (!d) return null;
    row.from = d.toISOString().slice(0, 10);
  }
  if (w.until !== undefined) {
    const d = midnight(w.until);
    if (!d) return null;
    row.until = new Date(d.getTime() - DAY_MS).toISOString().slice(0, 10);
  }
  if (w.daysAfterEnrolment !== undefined) row.days = String(w.daysAfterEnrolment);
  return row;
}
