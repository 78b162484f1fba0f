import { z } from 'zod';
import { EVENT_TYPES, formatIssues } from '../rules/index.js';

/** A generic learning event as the contract in ARCHITECTURE.md gives it. */
const idString = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'at most 200 characters');

const eventSchema = z
  .strictObject({
    id: idString,
    type: z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }),
    occurredAt: z.iso.datetime({
      offset: true,
      error: 'must be an ISO 8601 date-time such as 2026-11-02T10:00:00Z',
    }),
    platform: idString,
    course: z.strictObject({ id: idString, title: z.string().max(500).optional() }).optional(),
    user: z.strictObject({
      id: idString,
      email: z.email({ error: 'must be an e-mail address' }).max(320).optional(),
      name: z.string().trim().max(300).optional(),
    }),
    data: z.record(z.string(), z.unknown()).default({}),
  })
  .superRefine((event, ctx) => {
    const data = event.data;
    const need = (field: string, test: (v: unknown) => boolean, message: string) => {
      if (!test(data[field])) ctx.addIssue({ code: 'custom', path: ['data', field], message });
    };
    const optionalNumber = (field: string) =>
      need(
        field,
        (v) => v === undefined || (typeof v === 'number' && Number.isFinite(v)),
        'must be a number',
      );
    if (event.type !== 'badge.awarded' && !event.course)
      ctx.addIssue({ code: 'custom', path: ['course'], message: `is required for ${event.type}` });
    if (event.type.startsWith('activity.'))
      need(
        'activityId',
        (v) => typeof v === 'string' && v.length > 0 && v.length <= 200,
        'must be a non-empty string',
      );
    if (event.type === 'badge.awarded')
      need('templateId', (v) => typeof v === 'string' && v.length > 0, 'must be a non-empty string');
    optionalNumber('score');
    optionalNumber('maxScore');
    optionalNumber('percent');
    if (typeof data.maxScore === 'number' && data.maxScore < 0)
      ctx.addIssue({ code: 'custom', path: ['data', 'maxScore'], message: 'must not be negative' });
    const badKey = findUnstorableKey(data, ['data'], 0);
    if (badKey) ctx.addIssue({ code: 'custom', path: badKey.path, message: badKey.message });
  });

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
      const found = findUnstorableKey(inner, [...path, key], depth + 1);
      if (found) return found;
    }
  }
  return null;
}

export type NormalisedEvent = GenericEvent & { occurredAtDate: Date };

/**
 * Validates one event and adds what Laurel derives: `data.percent` from score and maxScore
 * (rounded to two decimals) when the sender did not give it.
 */
export function normaliseEvent(
  input: unknown,
):
  | { ok: true; event: NormalisedEvent }
  | { ok: false; error: string; details: { path: string; message: string }[] } {
  const parsed = eventSchema.safeParse(input);
  if (!parsed.success) {
    const details = formatIssues(parsed.error);
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
