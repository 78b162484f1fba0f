/**
 * Input validation of a template's levels and regrade policy, as the admin API and the builder take
 * them. Issues carry the field's path (`levels.steps.1.min`), which the API answers in `details`.
 */
import { z } from 'zod';
import type { LevelStep, Levels, Regrade } from './types.js';
import { REGRADE_POLICIES } from './types.js';

const MAX_STEPS = 10;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Control characters (C0 but tab and newlines, and C1) have no place in a name. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

const stepSchema = z.strictObject(
  {
    id: z
      .string({ error: 'id must be a string' })
      .regex(ID, { error: 'id must be 1-64 letters, digits, "_" or "-"' })
      .optional(),
    name: z
      .string({ error: (i) => (i.input === undefined ? 'name is required' : 'name must be a string') })
      .trim()
      .min(1, { error: 'name must not be empty' })
      .max(100, { error: 'name must be at most 100 characters' })
      .refine((s) => !CONTROL.test(s), { error: 'name must not contain control characters' }),
    min: z
      .number({
        error: (i) => (i.input === undefined ? 'min is required' : 'min must be a number (a percentage)'),
      })
      .min(0, { error: 'min must be between 0 and 100' })
      .max(100, { error: 'min must be between 0 and 100' }),
    imageId: z
      .string({ error: 'imageId must be a string' })
      .max(100, { error: 'imageId must be at most 100 characters' })
      .nullish(),
  },
  { error: 'a level must be an object { name, min, id?, imageId? }' },
);

/** Ids from the name ("Gold star" → "gold-star"), made unique; a name of no letters gets "level-N". */
function idFor(name: string, index: number, used: Set<string>): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  let id = slug || `level-${index + 1}`;
  for (let n = 2; used.has(id); n++) id = `${slug || 'level'}-${n}`;
  used.add(id);
  return id;
}

export const levelsSchema = z
  .strictObject(
    {
      activityId: z
        .string({ error: 'activityId must be a string, or null for the course grade' })
        .trim()
        .min(1, { error: 'activityId must not be empty (null: the course grade)' })
        .max(200, { error: 'activityId must be at most 200 characters' })
        .nullable()
        .default(null),
      steps: z
        .array(stepSchema, {
          error: (i) => (i.input === undefined ? 'steps is required' : 'steps must be an array'),
        })
        .min(1, { error: 'levels need at least one step' })
        .max(MAX_STEPS, { error: `at most ${MAX_STEPS} levels` }),
    },
    { error: 'levels must be an object { activityId, steps } or null' },
  )
  .superRefine((levels, ctx) => {
    const ids = new Set<string>();
    const names = new Set<string>();
    levels.steps.forEach((step, i) => {
      const previous = levels.steps[i - 1];
      if (previous && !(step.min > previous.min))
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'min'],
          message: `min must be higher than the level below (${previous.name}: ${previous.min}); list levels lowest first`,
        });
      if (step.id !== undefined) {
        if (ids.has(step.id))
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'id'],
            message: `level id "${step.id}" is used twice`,
          });
        ids.add(step.id);
      }
      const name = step.name.toLowerCase();
      if (names.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'name'],
          message: `two levels are named "${step.name}"`,
        });
      names.add(name);
    });
  })
  .transform((levels): Levels => {
    const used = new Set(levels.steps.flatMap((s) => (s.id ? [s.id] : [])));
    return {
      activityId: levels.activityId,
      steps: levels.steps.map((s, i): LevelStep => ({
        id: s.id ?? idFor(s.name, i, used),
        name: s.name,
        min: s.min,
        imageId: s.imageId ?? null,
      })),
    };
  });

export const regradeSchema = z
  .strictObject(
    {
      policy: z.enum(REGRADE_POLICIES as [string, ...string[]], {
        error: (i) =>
          i.input === undefined
            ? 'policy is required'
            : `unknown policy ${JSON.stringify(i.input)}; expected one of ${REGRADE_POLICIES.join(', ')}`,
      }),
      graceDays: z
        .number({ error: 'graceDays must be a number of days' })
        .min(0, { error: 'graceDays must be between 0 and 365' })
        .max(365, { error: 'graceDays must be between 0 and 365' })
        .optional(),
    },
    { error: 'regrade must be an object { policy, graceDays? }' },
  )
  .superRefine((r, ctx) => {
    if (r.policy !== 'revoke' && r.graceDays !== undefined && r.graceDays !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['graceDays'],
        message: 'graceDays applies only to the policy "revoke"',
      });
  })
  .transform((r): Regrade => ({
    policy: r.policy as Regrade['policy'],
    graceDays: r.policy === 'revoke' ? (r.graceDays ?? 7) : 0,
  }));

/** The `levels` and `regrade` fields, to spread into a template's object schema. */
export const levelsAndRegradeShape = {
  levels: levelsSchema.nullable(),
  regrade: regradeSchema.nullable(),
};
