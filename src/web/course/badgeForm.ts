import type { TemplateDoc } from '../../db/models/template.js';
import type { PenaltyInput, RequirementGroupInput } from '../../rules/index.js';
import {
  CONDITION_KINDS,
  penaltyToCondition,
  penaltyToInput,
  requirementToCondition,
  rowsToGroups,
  type ConditionRow,
  type PenaltyCondition,
} from '../../templates/builder.js';
import { rowTimingOf } from '../../templates/builderTiming.js';

/**
 * The badge form of the instructor pages: what a posted form means as template input, and what a
 * stored template looks like as form values (so an error re-shows exactly what was typed).
 */
export type PenaltyRow = {
  kind?: string;
  activityId?: string;
  threshold?: string;
  unit?: string;
  resets?: string;
};

export type BadgeFormValues = {
  name: string;
  description: string;
  criteria: string;
  tags: string;
  expiry: 'none' | 'days' | 'date';
  expiresAfterDays: string;
  expiresAt: string;
  allowReEarn: boolean;
  groups: ConditionRow[][];
  /** Per group, "how many of these" as typed (empty or 1: any one). */
  atLeast?: string[];
  penalties: PenaltyRow[];
};

export type FieldErrors = Record<string, string>;

const str = (v: unknown) => (typeof v === 'string' ? v : '');
/** qs turns `a[0][1][kind]` into arrays, or into objects past its index limit: accept both. */
const list = (v: unknown): unknown[] =>
  Array.isArray(v)
    ? v.filter(() => true) // rows added in the page may leave gaps in the indexes: compact them
    : v && typeof v === 'object'
      ? Object.keys(v)
          .filter((k) => /^\d+$/.test(k))
          .sort((a, b) => +a - +b)
          .map((k) => (v as Record<string, unknown>)[k])
      : [];

const TIMING_AND_COUNT_FIELDS = [
  'pattern',
  'patternKind',
  'patternTag',
  'count',
  'from',
  'until',
  'days',
  'after',
  'beforeEnd',
] as const;

export function readBadgeForm(body: Record<string, unknown>): BadgeFormValues {
  const expiry = str(body.expiry);
  return {
    name: str(body.name).trim(),
    description: str(body.description).trim(),
    criteria: str(body.criteria).trim(),
    tags: str(body.tags),
    expiry: expiry === 'days' || expiry === 'date' ? expiry : 'none',
    expiresAfterDays: str(body.expiresAfterDays).trim(),
    expiresAt: str(body.expiresAt).trim(),
    allowReEarn: body.allowReEarn === 'on' || body.allowReEarn === 'true',
    // A group's `atLeast` field sits beside its numbered rows (`groups[0][atLeast]`), so it follows
    // the group wherever the page's script renumbers it.
    atLeast: list(body.groups).map((rows) => str((rows as Record<string, unknown> | null)?.atLeast).trim()),
    groups: list(body.groups).map((rows) =>
      list(rows).map((row) => {
        const r = (row ?? {}) as Record<string, unknown>;
        return {
          kind: str(r.kind),
          activityId: str(r.activityId),
          threshold: str(r.threshold),
          unit: str(r.unit),
          templateId: str(r.templateId),
          id: str(r.id),
          // Counts and time limits, where the row has them.
          ...Object.fromEntries(
            TIMING_AND_COUNT_FIELDS.filter((f) => str(r[f]) !== '').map((f) => [f, str(r[f])]),
          ),
        };
      }),
    ),
    penalties: list(body.penalties).map((row) => {
      const r = (row ?? {}) as Record<string, unknown>;
      return {
        kind: str(r.kind),
        activityId: str(r.activityId),
        threshold: str(r.threshold),
        unit: str(r.unit),
        resets: str(r.resets),
      };
    }),
  };
}

/**
 * Form values of a stored template (requirements the builder cannot show are kept by id, untouched).
 * `visibleBadges`: the templates this course may see; a requirement of another badge (set through
 * the admin API) is kept the same way, so the form neither names nor offers it.
 */
export function formValuesOf(t: TemplateDoc, visibleBadges?: ReadonlySet<string>): BadgeFormValues {
  return {
    name: t.name,
    description: t.description,
    criteria: t.criteria,
    tags: t.tags.join(', '),
    expiry: t.expiresAfterDays ? 'days' : t.expiresAt ? 'date' : 'none',
    expiresAfterDays: t.expiresAfterDays ? String(t.expiresAfterDays) : '',
    expiresAt: t.expiresAt ? t.expiresAt.toISOString().slice(0, 10) : '',
    allowReEarn: t.allowReEarn,
    atLeast: t.groups.map((g) => String(g.atLeast ?? 1)),
    groups: t.groups.map((g) =>
      g.requirements.map((req) => {
        const c = requirementToCondition(req);
        const timing = rowTimingOf(req);
        if (!c || !timing || (c.kind === 'badge' && visibleBadges && !visibleBadges.has(c.templateId)))
          return { kind: 'custom', id: req.id };
        return {
          id: req.id,
          kind: c.kind,
          activityId: 'activityId' in c ? c.activityId : '',
          threshold: 'threshold' in c ? String(c.threshold) : '',
          unit: 'unit' in c ? c.unit : 'percent',
          templateId: c.kind === 'badge' ? c.templateId : '',
          ...('pattern' in c
            ? {
                pattern: c.pattern.name ?? '',
                patternKind: c.pattern.kind ?? '',
                patternTag: c.pattern.tag ?? '',
                count: String(c.pattern.atLeast),
              }
            : {}),
          ...timing,
        };
      }),
    ),
    penalties: t.penalties.map((p) => {
      const c = penaltyToCondition(p);
      return {
        kind: c?.kind ?? 'custom',
        activityId: c && 'activityId' in c ? c.activityId : '',
        threshold: c && 'threshold' in c ? String(c.threshold) : '',
        unit: c && 'unit' in c ? c.unit : 'percent',
        resets: p.resets.length > 1 ? 'all' : (p.resets[0] ?? 'all'),
      };
    }),
  };
}

export type BadgeInput = {
  name: string;
  description: string;
  criteria: string;
  tags: string[];
  expiresAfterDays: number | null;
  expiresAt: string | null;
  allowReEarn: boolean;
  groups: RequirementGroupInput[];
  penalties: PenaltyInput[];
};

/**
 * Turns posted values into template input, keeping requirements the builder could not show
 * ("custom") as they were. Errors are keyed by form field name, to show beside each field.
 */
export function badgeInputOf(
  values: BadgeFormValues,
  current: TemplateDoc | null,
): { input: BadgeInput } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (!values.name) errors.name = 'Give the badge a name.';
  else if (values.name.length > 200) errors.name = 'At most 200 characters.';
  if (values.description.length > 5000) errors.description = 'At most 5000 characters.';
  if (values.criteria.length > 5000) errors.criteria = 'At most 5000 characters.';
  const tags = values.tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (tags.length > 30 || tags.some((t) => t.length > 50))
    errors.tags = 'At most 30 tags of 50 characters each.';
  let expiresAfterDays: number | null = null;
  let expiresAt: string | null = null;
  if (values.expiry === 'days') {
    const days = Number(values.expiresAfterDays);
    if (!Number.isInteger(days) || days < 1 || days > 36500)
      errors.expiresAfterDays = 'A whole number of days from 1 to 36500.';
    else expiresAfterDays = days;
  } else if (values.expiry === 'date') {
    const date = /^\d{4}-\d{2}-\d{2}$/.test(values.expiresAt)
      ? new Date(`${values.expiresAt}T23:59:59Z`)
      : null;
    if (!date || Number.isNaN(date.getTime())) errors.expiresAt = 'A date such as 2027-06-30.';
    else if (date.getTime() < Date.now()) errors.expiresAt = 'The date has passed; choose one in the future.';
    else expiresAt = date.toISOString();
  }

  const custom = new Map(
    (current?.groups ?? []).flatMap((g) => g.requirements).map((r) => [r.id, r] as const),
  );
  const builderRows = values.groups.map((rows) => rows.filter((r) => r.kind !== 'custom'));
  const built = rowsToGroups(builderRows);
  if ('errors' in built) {
    for (const e of built.errors) errors[`groups.${e.group}.${e.row}.${e.field}`] = e.message;
  }
  const groups: RequirementGroupInput[] = [];
  if (!('errors' in built)) {
    // Put the untouched custom requirements back into the group they came from.
    let builtIndex = 0;
    values.groups.forEach((rows, g) => {
      const kept = rows
        .filter((r) => r.kind === 'custom' && r.id && custom.has(r.id))
        .map((r) => custom.get(r.id!)!);
      const hasBuilt = rows.some((r) => r.kind && r.kind !== 'custom');
      const fromBuilder = hasBuilt ? (built.groups[builtIndex++]?.requirements ?? []) : [];
      const requirements = [...fromBuilder, ...kept];
      if (requirements.length === 0) return;
      const typed = (values.atLeast?.[g] ?? '').trim();
      const atLeast = typed === '' ? 1 : Number(typed);
      if (!Number.isInteger(atLeast) || atLeast < 1 || atLeast > requirements.length)
        errors[`groups.${g}.atLeast`] =
          `Give a whole number from 1 to ${requirements.length} (the conditions in this group).`;
      groups.push({ requirements, ...(atLeast > 1 ? { atLeast } : {}) });
    });
  }
  checkOrder(builderRows, groups, errors);
  const penalties: PenaltyInput[] = [];
  values.penalties.forEach((row, i) => {
    if (!row.kind) return;
    if (row.kind === 'custom') {
      const original = current?.penalties[i];
      if (original) penalties.push(original);
      return;
    }
    const threshold = Number(row.threshold);
    const unit = row.unit === 'points' ? 'points' : 'percent';
    let condition: PenaltyCondition | null = null;
    if (row.kind === 'unenrolled') condition = { kind: 'unenrolled' };
    else if (row.kind === 'activity-grade-below' || row.kind === 'course-grade-below') {
      if ((row.threshold ?? '').trim() === '' || !Number.isFinite(threshold) || threshold < 0)
        errors[`penalties.${i}.threshold`] = 'Give a number, such as 50.';
      else if (row.kind === 'activity-grade-below') {
        if (!row.activityId?.trim())
          errors[`penalties.${i}.activityId`] = 'Choose an activity or type its id.';
        else condition = { kind: row.kind, activityId: row.activityId.trim(), threshold, unit };
      } else condition = { kind: row.kind, threshold, unit };
    } else errors[`penalties.${i}.kind`] = 'Choose when progress is undone.';
    if (condition) penalties.push({ ...penaltyToInput(condition, []), resets: [row.resets || 'all'] });
  });
  if (Object.keys(errors).length) return { errors };

  // "all" and ids of requirements saved before: resolved now that every requirement has its id or not.
  const allIds = groups.flatMap((g) =>
    g.requirements.map((r) => r.id).filter((id): id is string => Boolean(id)),
  );
  const needsIds = penalties.some((p) => p.resets.includes('all'));
  if (needsIds) {
    let n = 0;
    for (const g of groups)
      for (const r of g.requirements) if (!r.id) r.id = `b${Date.now().toString(36)}${n++}`;
  }
  const everyId = groups.flatMap((g) => g.requirements.map((r) => r.id!)).filter(Boolean);
  for (const p of penalties) {
    if (p.resets.includes('all')) p.resets = everyId;
    else p.resets = p.resets.filter((id) => allIds.includes(id));
    if (p.resets.length === 0) p.resets = everyId;
  }
  return {
    input: {
      name: values.name,
      description: values.description,
      criteria: values.criteria,
      tags,
      expiresAfterDays,
      expiresAt,
      allowReEarn: values.allowReEarn,
      groups,
      penalties: penalties.filter((p) => p.resets.length > 0),
    },
  };
}

/**
 * "Only after": each names a saved condition still in the badge (not a badge earned), and no chain
 * of them waits for itself. Errors go beside the row's field, as the builder's own errors do.
 */
function checkOrder(rows: ConditionRow[][], groups: RequirementGroupInput[], errors: FieldErrors): void {
  const reqs = groups.flatMap((g) => g.requirements);
  const afterOf = new Map<string, string>();
  for (const r of reqs) if (r.id && !('badge' in r) && r.after) afterOf.set(r.id, r.after);
  const eventIds = new Set(reqs.filter((r) => r.id && !('badge' in r)).map((r) => r.id!));
  rows.forEach((list, g) =>
    list.forEach((row, r) => {
      const after = (row.after ?? '').trim();
      const key = `groups.${g}.${r}.after`;
      if (!after || !row.kind || errors[key]) return;
      if (!eventIds.has(after)) {
        errors[key] = 'That condition is no longer in this badge: choose another, or “any time”.';
        return;
      }
      const seen = new Set<string>([(row.id ?? '').trim()]);
      for (let at: string | undefined = after; at; at = afterOf.get(at)) {
        if (seen.has(at)) {
          errors[key] = 'These conditions would each wait for the other, so none could be met.';
          return;
        }
        seen.add(at);
      }
    }),
  );
}

export { CONDITION_KINDS };

export const PENALTY_KINDS = [
  { kind: 'activity-grade-below', label: 'A grade on an activity falls below' },
  { kind: 'course-grade-below', label: 'The course grade falls below' },
  { kind: 'unenrolled', label: 'The learner leaves the course' },
] as const;

/**
 * A builder button pressed without JavaScript: add or remove a condition or a group. The form comes
 * back with the change and nothing saved (with JavaScript the same buttons work in the page).
 */
export type BuilderEdit =
  | { op: 'add-row'; group: number }
  | { op: 'add-group' }
  | { op: 'remove-row'; group: number; row: number }
  | { op: 'remove-group'; group: number };

export function builderEditOf(body: Record<string, unknown>): BuilderEdit | null {
  const v = str(body.builder);
  let m: RegExpExecArray | null;
  if (v === 'add-group') return { op: 'add-group' };
  if ((m = /^add-row:(\d{1,3})$/.exec(v))) return { op: 'add-row', group: +m[1]! };
  if ((m = /^remove-group:(\d{1,3})$/.exec(v))) return { op: 'remove-group', group: +m[1]! };
  if ((m = /^remove-row:(\d{1,3}):(\d{1,3})$/.exec(v)))
    return { op: 'remove-row', group: +m[1]!, row: +m[2]! };
  return null;
}

export const blankRow = (): ConditionRow => ({
  kind: '',
  activityId: '',
  threshold: '',
  unit: 'percent',
  templateId: '',
  id: '',
});

/** At most this many groups, and conditions in a group, in the form (the API allows as many). */
export const BUILDER_LIMITS = { groups: 20, rows: 20 } as const;

/** The values with one builder edit applied; an edit out of range changes nothing. */
export function applyBuilderEdit(values: BadgeFormValues, edit: BuilderEdit): BadgeFormValues {
  const groups = values.groups.map((rows) => [...rows]);
  const atLeast = values.groups.map((_, g) => values.atLeast?.[g] ?? '1');
  if (edit.op === 'add-group' && groups.length < BUILDER_LIMITS.groups) {
    groups.push([blankRow()]);
    atLeast.push('1');
  }
  if (edit.op === 'add-row' && groups[edit.group] && groups[edit.group]!.length < BUILDER_LIMITS.rows)
    groups[edit.group]!.push(blankRow());
  if (edit.op === 'remove-group' && groups[edit.group]) {
    groups.splice(edit.group, 1);
    atLeast.splice(edit.group, 1);
  }
  if (edit.op === 'remove-row' && groups[edit.group]?.[edit.row]) {
    groups[edit.group]!.splice(edit.row, 1);
    if (groups[edit.group]!.length === 0) {
      groups.splice(edit.group, 1);
      atLeast.splice(edit.group, 1);
    }
  }
  return { ...values, groups, atLeast };
}

/** The activity ids the posted conditions and penalties name (trimmed, each once). */
export function activityIdsOf(values: BadgeFormValues): string[] {
  const ids = [
    ...values.groups.flat().filter((r) => r.kind === 'activity-grade' || r.kind === 'activity-completed'),
    ...values.penalties.filter((p) => p.kind === 'activity-grade-below'),
  ]
    .map((r) => (r.activityId ?? '').trim())
    .filter(Boolean);
  return [...new Set(ids)];
}

/** The activity ids of a stored template's rules (already saved, so not warned about again). */
export function storedActivityIds(t: TemplateDoc | null): Set<string> {
  const ids = new Set<string>();
  for (const rules of [
    ...(t?.groups ?? []).flatMap((g) => g.requirements.map((r) => ('rules' in r ? r.rules : undefined))),
    ...(t?.penalties ?? []).map((p) => p.rules),
  ])
    for (const rule of rules ?? [])
      if (rule.path === 'data.activityId' && rule.op === 'eq' && typeof rule.value === 'string')
        ids.add(rule.value);
  return ids;
}

/** The unknown activity ids the instructor confirmed on the form's warning (`confirmActivity`). */
export function confirmedActivityIds(body: Record<string, unknown>): Set<string> {
  const v = body.confirmActivity;
  const all = Array.isArray(v) ? v : [v];
  return new Set(all.filter((x): x is string => typeof x === 'string').map((x) => x.trim()));
}
