/**
 * Input validation for requirement groups and penalties as the admin API takes them
 * (POST/PATCH /api/v1/templates). Issues carry exact paths such as
 * `groups.0.requirements.1.rules.0.op`, which `formatIssues` turns into the API's
 * `details: [{ path, message }]`.
 *
 * Structural problems are reported first; the cross-checks (duplicate ids, `resets`
 * naming a requirement the template does not have) run once the structure is valid.
 */
import { z } from 'zod';
import { FORBIDDEN_SEGMENTS } from './path.js';
import type { PenaltyInput, RequirementGroupInput, RequirementInput, Rule } from './types.js';
import { EVENT_TYPES, OPERATORS } from './types.js';

export { assignRequirementIds } from './ids.js';

// Generous limits, there only so that one request cannot make every later evaluation slow.
const MAX_STRING = 200;
const MAX_RULES = 50;
const MAX_REQUIREMENTS = 100;
const MAX_GROUPS = 50;
const MAX_PENALTIES = 50;
const MAX_IN_VALUES = 1000;

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Error text that tells a missing field from one of the wrong type. */
const expected = (field: string, what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `${field} is required` : `${field} must be ${what}`;

const pathSchema = z
  .string({ error: expected('path', 'a string') })
  .max(MAX_STRING, { error: `path must be at most ${MAX_STRING} characters` })
  .superRefine((path, ctx) => {
    if (path === '') {
      ctx.addIssue({ code: 'custom', message: 'path must not be empty' });
      return;
    }
    for (const segment of path.split('.')) {
      if (FORBIDDEN_SEGMENTS.includes(segment)) {
        ctx.addIssue({ code: 'custom', message: `path segment "${segment}" is not allowed` });
        return;
      }
      if (!SEGMENT.test(segment)) {
        ctx.addIssue({
          code: 'custom',
          message: 'path must be dot-separated names of letters, digits, "_" or "-" (e.g. "data.percent")',
        });
        return;
      }
    }
  });

const eventSchema = z.enum(EVENT_TYPES, {
  error: (issue) =>
    typeof issue.input === 'string'
      ? `unknown event type "${issue.input}"; expected one of ${EVENT_TYPES.join(', ')}`
      : expected('event', 'a string')(issue),
});

const idSchema = z
  .string({ error: 'id must be a string' })
  .regex(ID, { error: 'id must be 1-64 letters, digits, "_" or "-"' });

const labelSchema = z
  .string({ error: 'label must be a string' })
  .max(MAX_STRING, { error: `label must be at most ${MAX_STRING} characters` });

export const ruleSchema = z
  .strictObject(
    {
      path: pathSchema,
      op: z.enum(OPERATORS as [string, ...string[]], {
        error: (issue) =>
          issue.input === undefined
            ? 'op is required'
            : `unknown operator ${JSON.stringify(issue.input)}; expected one of ${OPERATORS.join(', ')}`,
      }),
      value: z.unknown().optional(),
    },
    { error: expected('a rule', 'an object { path, op, value }') },
  )
  .superRefine((rule, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: 'custom', path: ['value'], message });
    const v = rule.value;
    switch (rule.op) {
      case 'eq':
      case 'ne':
        if (v === undefined) issue(`value is required for ${rule.op}`);
        break;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (!(typeof v === 'number' && Number.isFinite(v)) && typeof v !== 'string') {
          issue(`${rule.op} needs a number or a string value`);
        }
        break;
      case 'in':
        if (!Array.isArray(v)) issue('in needs an array value');
        else if (v.length === 0) issue('in needs at least one value');
        else if (v.length > MAX_IN_VALUES) issue(`in takes at most ${MAX_IN_VALUES} values`);
        break;
      case 'exists':
        if (typeof v !== 'boolean') issue('exists needs true or false');
        break;
    }
  })
  .transform((rule): Rule => ({ path: rule.path, op: rule.op as Rule['op'], value: rule.value }));

const rulesSchema = z
  .array(ruleSchema, { error: 'rules must be an array' })
  .max(MAX_RULES, { error: `at most ${MAX_RULES} rules` });

const MAX_WINDOW_DAYS = 3650;
const MAX_COUNT = 100;
/** Events that name an activity: the only ones a count of activities can read. */
const ACTIVITY_EVENTS: readonly string[] = ['activity.grade.updated', 'activity.completed'];

const instantSchema = (field: string) =>
  z.iso.datetime({
    offset: true,
    error: (issue) =>
      issue.input === undefined
        ? `${field} is required`
        : `${field} must be an ISO 8601 date-time with a time zone, e.g. "2027-03-01T00:00:00Z"`,
  });

/** A time window: between two instants, within D days of enrolment, before the course ends. */
export const windowSchema = z
  .strictObject(
    {
      from: instantSchema('window.from').optional(),
      until: instantSchema('window.until').optional(),
      daysAfterEnrolment: z
        .number({ error: 'window.daysAfterEnrolment must be a whole number of days' })
        .int({ error: 'window.daysAfterEnrolment must be a whole number of days' })
        .min(1, { error: 'window.daysAfterEnrolment must be at least 1' })
        .max(MAX_WINDOW_DAYS, { error: `window.daysAfterEnrolment must be at most ${MAX_WINDOW_DAYS}` })
        .optional(),
      beforeCourseEnd: z
        .literal(true, { error: 'window.beforeCourseEnd must be true (or left out)' })
        .optional(),
    },
    { error: expected('window', 'an object { from?, until?, daysAfterEnrolment?, beforeCourseEnd? }') },
  )
  .superRefine((w, ctx) => {
    if (
      w.from === undefined &&
      w.until === undefined &&
      w.daysAfterEnrolment === undefined &&
      w.beforeCourseEnd === undefined
    )
      ctx.addIssue({
        code: 'custom',
        message: 'window needs from, until, daysAfterEnrolment or beforeCourseEnd',
      });
    if (w.from !== undefined && w.until !== undefined && Date.parse(w.from) >= Date.parse(w.until))
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'window.until must be after window.from' });
  });

/** "N activities named like X": a name ("contains", or a wildcard with * and ?) and/or a kind. */
export const activitiesSchema = z
  .strictObject(
    {
      name: z
        .string({ error: 'activities.name must be a string' })
        .trim()
        .min(1, { error: 'activities.name must not be empty' })
        .max(100, { error: 'activities.name must be at most 100 characters' })
        .refine((v) => ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
          error: 'activities.name must not hold control characters',
        })
        .optional(),
      kind: z
        .string({ error: 'activities.kind must be a string' })
        .regex(/^[A-Za-z0-9_-]{1,50}$/, {
          error: 'activities.kind must be the LMS’s kind of activity, e.g. "assign" or "quiz"',
        })
        .optional(),
      tag: z
        .string({ error: 'activities.tag must be a string' })
        .trim()
        .min(1, { error: 'activities.tag must not be empty' })
        .max(50, { error: 'activities.tag must be at most 50 characters' })
        .refine((v) => ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
          error: 'activities.tag must not hold control characters',
        })
        .optional(),
      atLeast: z
        .number({
          error: (issue) =>
            issue.input === undefined
              ? 'activities.atLeast is required'
              : 'activities.atLeast must be a whole number',
        })
        .int({ error: 'activities.atLeast must be a whole number' })
        .min(1, { error: 'activities.atLeast must be at least 1' })
        .max(MAX_COUNT, { error: `activities.atLeast must be at most ${MAX_COUNT}` }),
    },
    { error: expected('activities', 'an object { name?, kind?, tag?, atLeast }') },
  )
  .superRefine((a, ctx) => {
    if (a.name === undefined && a.kind === undefined && a.tag === undefined)
      ctx.addIssue({ code: 'custom', message: 'activities needs a name, a kind, a tag, or more than one' });
  });

export const requirementSchema = z
  .strictObject(
    {
      id: idSchema.optional(),
      label: labelSchema.optional(),
      event: eventSchema.optional(),
      rules: rulesSchema.optional(),
      window: windowSchema.optional(),
      after: idSchema.optional(),
      activities: activitiesSchema.optional(),
      badge: z
        .string({ error: 'badge must be a template id (a string)' })
        .min(1, { error: 'badge must not be empty' })
        .max(MAX_STRING, { error: `badge must be at most ${MAX_STRING} characters` })
        .optional(),
    },
    { error: expected('a requirement', 'an object') },
  )
  .superRefine((req, ctx) => {
    if (req.badge !== undefined && req.event !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['badge'], message: 'give either event or badge, not both' });
    } else if (req.badge !== undefined && req.rules !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['rules'], message: 'a badge requirement takes no rules' });
    } else if (req.badge === undefined && req.event === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a requirement needs an event or a badge' });
    }
    if (req.badge !== undefined)
      for (const field of ['window', 'after', 'activities'] as const)
        if (req[field] !== undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: `a badge requirement takes no ${field}` });
    if (req.activities !== undefined && req.event !== undefined) {
      if (!ACTIVITY_EVENTS.includes(req.event))
        ctx.addIssue({
          code: 'custom',
          path: ['activities'],
          message: `activities counts activities, so event must be ${ACTIVITY_EVENTS.join(' or ')}`,
        });
      const byId = (req.rules ?? []).findIndex((r) => r.path === 'data.activityId');
      if (byId >= 0)
        ctx.addIssue({
          code: 'custom',
          path: ['rules', byId, 'path'],
          message:
            'a count of activities picks them by activities.name or activities.kind, not data.activityId',
        });
    }
  })
  .transform((req): RequirementInput => {
    const extra = {
      ...(req.id !== undefined ? { id: req.id } : {}),
      ...(req.label !== undefined ? { label: req.label } : {}),
    };
    if (req.badge !== undefined) return { ...extra, badge: req.badge };
    return {
      ...extra,
      event: req.event as string,
      rules: req.rules ?? [],
      ...(req.window !== undefined ? { window: req.window } : {}),
      ...(req.after !== undefined ? { after: req.after } : {}),
      ...(req.activities !== undefined ? { activities: req.activities } : {}),
    };
  });

export const groupSchema = z.strictObject(
  {
    requirements: z
      .array(requirementSchema, { error: expected('requirements', 'an array') })
      .min(1, { error: 'a group needs at least one requirement' })
      .max(MAX_REQUIREMENTS, { error: `at most ${MAX_REQUIREMENTS} requirements in a group` }),
    /** "Any N of these": how many requirements fulfil the group (1 by default). */
    atLeast: z
      .number({ error: 'atLeast must be a whole number' })
      .int({ error: 'atLeast must be a whole number' })
      .min(1, { error: 'atLeast must be at least 1' })
      .optional(),
  },
  { error: expected('a group', 'an object { requirements, atLeast? }') },
);

export const penaltySchema = z
  .strictObject(
    {
      id: idSchema.optional(),
      event: eventSchema,
      rules: rulesSchema.optional(),
      resets: z
        .array(z.string({ error: 'resets must list requirement ids' }), {
          error: expected('resets', 'an array'),
        })
        .min(1, { error: 'a penalty must reset at least one requirement' })
        .max(MAX_REQUIREMENTS * MAX_GROUPS),
    },
    { error: expected('a penalty', 'an object { event, rules, resets }') },
  )
  .transform((p): PenaltyInput => ({
    ...(p.id !== undefined ? { id: p.id } : {}),
    event: p.event,
    rules: p.rules ?? [],
    resets: p.resets,
  }));

/** The `groups` and `penalties` fields, to spread into a larger object schema (then add `refineTemplateRules`). */
export const templateRulesShape = {
  groups: z
    .array(groupSchema, { error: 'groups must be an array' })
    .max(MAX_GROUPS, { error: `at most ${MAX_GROUPS} groups` })
    .default([]),
  penalties: z
    .array(penaltySchema, { error: 'penalties must be an array' })
    .max(MAX_PENALTIES, { error: `at most ${MAX_PENALTIES} penalties` })
    .default([]),
};

/**
 * Cross-checks that need the whole template: requirement ids are unique, penalty ids are
 * unique, and each penalty resets only requirements of this template. Usable as
 * `.superRefine(refineTemplateRules)` on any object schema holding `groups` and `penalties`.
 */
export function refineTemplateRules(
  value: { groups: RequirementGroupInput[]; penalties: PenaltyInput[] },
  ctx: z.RefinementCtx,
): void {
  const requirementIds = new Set<string>();
  value.groups.forEach((group, g) => {
    if (group.atLeast !== undefined && group.atLeast > group.requirements.length)
      ctx.addIssue({
        code: 'custom',
        path: ['groups', g, 'atLeast'],
        message: `atLeast is ${group.atLeast}, but the group has only ${group.requirements.length} requirement(s)`,
      });
  });
  value.groups.forEach((group, g) =>
    group.requirements.forEach((req, r) => {
      if (req.id === undefined) return;
      if (requirementIds.has(req.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['groups', g, 'requirements', r, 'id'],
          message: `requirement id "${req.id}" is used twice`,
        });
      }
      requirementIds.add(req.id);
    }),
  );
  refineOrder(value.groups, ctx);
  const penaltyIds = new Set<string>();
  value.penalties.forEach((penalty, p) => {
    if (penalty.id !== undefined) {
      if (penaltyIds.has(penalty.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['penalties', p, 'id'],
          message: `penalty id "${penalty.id}" is used twice`,
        });
      }
      penaltyIds.add(penalty.id);
    }
    penalty.resets.forEach((id, i) => {
      if (!requirementIds.has(id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['penalties', p, 'resets', i],
          message: `"${id}" is not a requirement of this template`,
        });
      }
    });
  });
}

/**
 * "A before B": `after` names another event requirement of this template (ids given, so a new
 * requirement cannot be named before it has one), never itself, and no chain of them loops back.
 */
function refineOrder(groups: RequirementGroupInput[], ctx: z.RefinementCtx): void {
  const afterOf = new Map<string, string>();
  const eventIds = new Set<string>();
  groups.forEach((group) =>
    group.requirements.forEach((req) => {
      if (req.id === undefined || 'badge' in req) return;
      eventIds.add(req.id);
      if (req.after !== undefined) afterOf.set(req.id, req.after);
    }),
  );
  groups.forEach((group, g) =>
    group.requirements.forEach((req, r) => {
      if ('badge' in req || req.after === undefined) return;
      const path = ['groups', g, 'requirements', r, 'after'];
      if (req.id !== undefined && req.after === req.id)
        return ctx.addIssue({
          code: 'custom',
          path,
          message: 'after must name another requirement, not itself',
        });
      if (!eventIds.has(req.after))
        return ctx.addIssue({
          code: 'custom',
          path,
          message: `after names "${req.after}", which is not an event requirement of this template`,
        });
      // Follow the chain: it must end, or nothing on it could ever be met.
      const visited = new Set<string>(req.id !== undefined ? [req.id] : []);
      for (let at: string | undefined = req.after; at !== undefined; at = afterOf.get(at)) {
        if (visited.has(at)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: 'after makes a loop: no requirement on it could be met',
          });
          break;
        }
        visited.add(at);
      }
    }),
  );
}

export const templateRulesSchema = z
  .strictObject(templateRulesShape, { error: 'expected an object { groups, penalties }' })
  .superRefine(refineTemplateRules);

export interface IssueDetail {
  path: string;
  message: string;
}

/** Zod issues as the API's `details`: dotted paths, one entry per unknown key. */
export function formatIssues(error: z.ZodError): IssueDetail[] {
  const details: IssueDetail[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        details.push({ path: [...base, key].join('.'), message: `unknown field "${key}"` });
      }
    } else {
      details.push({ path: base.join('.'), message: issue.message });
    }
  }
  return details;
}

export type ParseResult =
  | { success: true; data: { groups: RequirementGroupInput[]; penalties: PenaltyInput[] } }
  | { success: false; details: IssueDetail[] };

/** Validates `{ groups, penalties }` and answers either the typed input or API-ready details. */
export function parseTemplateRules(input: unknown): ParseResult {
  const result = templateRulesSchema.safeParse(input);
  return result.success
    ? { success: true, data: result.data }
    : { success: false, details: formatIssues(result.error) };
}
