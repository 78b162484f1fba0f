import { z } from 'zod';
import { EVENT_TYPES, formatIssues } from '../rules/index.js';
import { safeText, unsafeTextReason } from '../validation/text.js';

/** Outside text: a string (said so), trimmed, bounded, with no NUL, control character or lone surrogate. */
const text = (max: number) => z.string({ error: 'must be a string' }).pipe(safeText(max));
const idString = z.string({ error: 'must be a string' }).pipe(safeText(200).min(1, 'must not be empty'));

/** The earliest `occurredAt` accepted: no LMS recorded a learning event before 2000. */
export const EARLIEST_EVENT_TIME = new Date('2000-01-01T00:00:00Z');
/** How far ahead of Laurel's clock an `occurredAt` may lie (time zones and clocks that run fast). */
export const MAX_EVENT_TIME_AHEAD_MS = 24 * 60 * 60 * 1000;

/** A generic learning event as the contract in ARCHITECTURE.md gives it. */
const eventSchema = z
  .strictObject({
    id: idString,
    type: z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }),
    occurredAt: z.iso.datetime({
      offset: true,
      error: 'must be an ISO 8601 date-time such as 2026-11-02T10:00:00Z',
    }),
    platform: idString,
    course: z.strictObject({ id: idString, title: text(500).optional() }).optional(),
    user: z.strictObject({
      id: idString,
      email: z
        .email({ error: 'must be an e-mail address' })
        .max(320, 'at most 320 characters')
        .superRefine(refuseUnsafe)
        .optional(),
      name: text(300).optional(),
    }),
    data: z.record(z.string(), z.unknown()).default({}),
  })
  .superRefine((event, ctx) => {
    const data = event.data;
    const refused = new Set<string>();
    const need = (field: string, test: (v: unknown) => boolean, message: string) => {
      if (test(data[field])) return;
      refused.add(field);
      ctx.addIssue({ code: 'custom', path: ['data', field], message });
    };
    const optionalNumber = (field: string) =>
      need(
        field,
        (v) => v === undefined || (typeof v === 'number' && Number.isFinite(v)),
        'must be a number',
      );
    /** An id or name inside `data`, where given: a string within `max`, with no unsafe characters. */
    const safeField = (field: string, max: number) => {
      const value = data[field];
      if (value === undefined || refused.has(field)) return;
      const problem =
        typeof value !== 'string'
          ? 'must be a string'
          : value.length > max
            ? `at most ${max} characters`
            : unsafeTextReason(value);
      if (problem) ctx.addIssue({ code: 'custom', path: ['data', field], message: problem });
    };
    if (event.type !== 'badge.awarded' && !event.course)
      ctx.addIssue({ code: 'custom', path: ['course'], message: `is required for ${event.type}` });
    if (event.type.startsWith('activity.'))
      need('activityId', (v) => typeof v === 'string' && v.length > 0, 'must be a non-empty string');
    if (event.type === 'badge.awarded')
      need('templateId', (v) => typeof v === 'string' && v.length > 0, 'must be a non-empty string');
    safeField('activityId', 200);
    safeField('activityName', 500);
    safeField('templateId', 200);
    optionalNumber('score');
    optionalNumber('maxScore');
    optionalNumber('percent');
    if (typeof data.maxScore === 'number' && data.maxScore < 0)
      ctx.addIssue({ code: 'custom', path: ['data', 'maxScore'], message: 'must not be negative' });
    const badKey = findUnstorableKey(data, ['data'], 0);
    if (badKey) ctx.addIssue({ code: 'custom', path: badKey.path, message: badKey.message });
  });

function refuseUnsafe(value: string, ctx: z.RefinementCtx): void {
  const reason = unsafeTextReason(value);
  if (reason) ctx.addIssue({ code: 'custom', message: reason });
}

export type GenericEvent = z.infer<typeof eventSchema>;

/** Keys MongoDB cannot store as-is, or nesting past what an LMS sends. */
function findUnstorableKey(
  value: unknown,
  path: (string | number)[],
  depth: number,
): { path: (string | number)[]; message: string } | null {
  if (depth > 8) return { path, message: 'is nested too deeply (at most 8 levels)' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableKey(value[i], [...path, i], depth + 1);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key.startsWith('$') || key.includes('.') || key === '')
        return {
          path: [...path, key],
          message: 'field names must not be empty, start with $ or contain a dot',
        };
      // MongoDB cannot store a field name with NUL at all (the whole batch would fail).
      const reason = unsafeTextReason(key);
      if (reason) return { path: [...path, key], message: `field names ${reason}` };
      const found = findUnstorableKey(inner, [...path, key], depth + 1);
      if (found) return found;
    }
  }
  return null;
}

export type NormalisedEvent = GenericEvent & { occurredAtDate: Date };

/** Why an event time is outside what Laurel accepts at `now`, or undefined when it is fine. */
export function eventTimeProblem(occurredAt: Date, now: Date): string | undefined {
  if (Number.isNaN(occurredAt.getTime())) return 'is not a date';
  if (occurredAt.getTime() < EARLIEST_EVENT_TIME.getTime()) return 'must not be before 2000-01-01T00:00:00Z';
  if (occurredAt.getTime() - now.getTime() > MAX_EVENT_TIME_AHEAD_MS)
    return `must not be more than a day ahead of now (${now.toISOString()}); check the sender's clock`;
  return undefined;
}

/**
 * Validates one event and adds what Laurel derives: `data.percent` from score and maxScore
 * (rounded to two decimals) when the sender did not give it. `occurredAt` must lie between
 * 2000-01-01 and a day ahead of `now`.
 */
export function normaliseEvent(
  input: unknown,
  now: Date,
):
  | { ok: true; event: NormalisedEvent }
  | { ok: false; error: string; details: { path: string; message: string }[] } {
  const parsed = eventSchema.safeParse(input);
  const details = parsed.success ? [] : formatIssues(parsed.error);
  // The time range needs `now`, so it is checked beside the schema, reported like its issues.
  const occurredAt = (input as { occurredAt?: unknown } | null)?.occurredAt;
  const timeProblem =
    typeof occurredAt === 'string' && !details.some((d) => d.path === 'occurredAt')
      ? eventTimeProblem(new Date(occurredAt), now)
      : undefined;
  if (timeProblem) details.push({ path: 'occurredAt', message: timeProblem });
  if (!parsed.success || details.length > 0) {
    return { ok: false, error: details.map((d) => `${d.path || 'event'}: ${d.message}`).join('; '), details };
  }
  const event = parsed.data;
  const data = { ...event.data };
  if (
    data.percent === undefined &&
    typeof data.score === 'number' &&
    typeof data.maxScore === 'number' &&
    data.maxScore > 0
  )
    data.percent = Math.round((10000 * data.score) / data.maxScore) / 100;
  return { ok: true, event: { ...event, data, occurredAtDate: new Date(event.occurredAt) } };
}
