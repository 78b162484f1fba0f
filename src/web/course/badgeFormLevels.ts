import type { TemplateDoc } from '../../db/models/template.js';
import {
  describeLevels,
  describeRegrade,
  describeRule,
  formatIssues,
  levelsSchema,
  regradeSchema,
  type DescribeContext,
  type Levels,
  type Regrade,
} from '../../rules/index.js';
import type { FieldErrors } from './badgeForm.js';

/**
 * The badge form's levels (tiers) and "when a grade is lowered" fields: read from the posted form,
 * shown from a stored template, and turned into template input with errors keyed by field name.
 * Apart from badgeForm.ts, so the builder's conditions and these fields change independently.
 */
export type LevelRow = { id: string; name: string; min: string };

export type LevelsFormValues = {
  levelsOn: 'none' | 'activity' | 'course';
  levelsActivityId: string;
  levels: LevelRow[];
  regradePolicy: 'none' | 'fallback' | 'revoke';
  regradeGraceDays: string;
};

/** Rows the form offers: the stored levels and blank ones up to this many. */
export const LEVEL_ROWS = 5;

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const rowsOf = (v: unknown): unknown[] =>
  Array.isArray(v)
    ? v.filter(() => true)
    : v && typeof v === 'object'
      ? Object.keys(v)
          .filter((k) => /^\d+$/.test(k))
          .sort((a, b) => +a - +b)
          .map((k) => (v as Record<string, unknown>)[k])
      : [];

export function readLevelsForm(body: Record<string, unknown>): LevelsFormValues {
  const on = str(body.levelsOn);
  const policy = str(body.regradePolicy);
  return {
    levelsOn: on === 'activity' || on === 'course' ? on : 'none',
    levelsActivityId: str(body.levelsActivityId).trim(),
    levels: rowsOf(body.levels).map((row) => {
      const r = (row ?? {}) as Record<string, unknown>;
      return { id: str(r.id).trim(), name: str(r.name).trim(), min: str(r.min).trim() };
    }),
    regradePolicy: policy === 'fallback' || policy === 'revoke' ? policy : 'none',
    regradeGraceDays: str(body.regradeGraceDays).trim(),
  };
}

export function emptyLevelsValues(): LevelsFormValues {
  return { levelsOn: 'none', levelsActivityId: '', levels: [], regradePolicy: 'none', regradeGraceDays: '7' };
}

export function levelsFormValuesOf(t: TemplateDoc): LevelsFormValues {
  const levels = t.levels?.steps.length ? t.levels : null;
  return {
    levelsOn: !levels ? 'none' : levels.activityId === null ? 'course' : 'activity',
    levelsActivityId: levels?.activityId ?? '',
    levels: (levels?.steps ?? []).map((s) => ({ id: s.id, name: s.name, min: String(s.min) })),
    regradePolicy: t.regrade?.policy ?? 'none',
    regradeGraceDays: t.regrade?.policy === 'revoke' ? String(t.regrade.graceDays) : '7',
  };
}

/**
 * The posted fields as template input: `levels` null when "no levels" is chosen (or every row is
 * blank), else validated as the admin API validates them; the regrade policy with its grace period.
 */
export function levelsInputOf(
  values: LevelsFormValues,
  current: TemplateDoc | null,
  /** Pictures uploaded with the form, by level row: they replace the level's own picture. */
  images: ReadonlyMap<number, string> = new Map(),
): { input: { levels: Levels | null; regrade: Regrade } } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  let levels: Levels | null = null;
  const rows = values.levels
    .map((row, index) => ({ row, index }))
    .filter(({ row }) => row.name !== '' || row.min !== '');
  if (values.levelsOn !== 'none') {
    if (values.levelsOn === 'activity' && !values.levelsActivityId)
      errors.levelsActivityId = 'Choose the activity whose score decides the level, or type its id.';
    if (rows.length === 0)
      errors.levels = 'Give at least one level: a name and the lowest score that reaches it.';
    for (const { row, index } of rows) {
      if (!row.name) errors[`levels.${index}.name`] = 'Give this level a name, such as Gold.';
      if (row.min === '' || !Number.isFinite(Number(row.min)))
        errors[`levels.${index}.min`] = 'Give the lowest score, a number such as 90.';
    }
    if (Object.keys(errors).length === 0) {
      // Ids of levels kept by the same name stay, so their credentials keep naming them.
      const stored = new Map((current?.levels?.steps ?? []).map((s) => [s.name.toLowerCase(), s.id]));
      const parsed = levelsSchema.safeParse({
        activityId: values.levelsOn === 'course' ? null : values.levelsActivityId,
        steps: rows.map(({ row, index }) => {
          const id = row.id || stored.get(row.name.toLowerCase());
          return {
            ...(id && { id }),
            name: row.name,
            min: Number(row.min),
            // A new picture for this row, else the level's own one kept.
            imageId: images.get(index) ?? current?.levels?.steps.find((s) => s.id === id)?.imageId ?? null,
          };
        }),
      });
      if (parsed.success) levels = parsed.data;
      else
        for (const d of formatIssues(parsed.error)) {
          const m = /^steps\.(\d+)\.(\w+)$/.exec(d.path);
          const key = m
            ? `levels.${rows[+m[1]!]!.index}.${m[2]}`
            : d.path === 'activityId'
              ? 'levelsActivityId'
              : 'levels';
          errors[key] ??= capitalise(d.message);
        }
    }
  }
  let regrade: Regrade = { policy: 'none', graceDays: 0 };
  const grace = values.regradeGraceDays === '' ? 7 : Number(values.regradeGraceDays);
  const parsed = regradeSchema.safeParse({
    policy: values.regradePolicy,
    ...(values.regradePolicy === 'revoke' ? { graceDays: grace } : {}),
  });
  if (parsed.success) regrade = parsed.data;
  else errors.regradeGraceDays = 'Give a number of days from 0 to 365.';
  return Object.keys(errors).length ? { errors } : { input: { levels, regrade } };
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The fields' view model (Handlebars holds no logic): the rows, the choices marked, the errors. */
export function levelsFormLocals(
  values: LevelsFormValues,
  errors: FieldErrors,
  current: TemplateDoc | null = null,
) {
  const pictureOf = new Map(
    (current?.levels?.steps ?? []).filter((s) => s.imageId).map((s) => [s.id, `/images/${s.imageId}`]),
  );
  const rows = [...values.levels];
  while (rows.length < LEVEL_ROWS) rows.push({ id: '', name: '', min: '' });
  return {
    levelsOn: [
      { value: 'none', label: 'No levels: one badge', checked: values.levelsOn === 'none' },
      {
        value: 'activity',
        label: 'Levels by the score on an activity',
        checked: values.levelsOn === 'activity',
      },
      { value: 'course', label: 'Levels by the course grade', checked: values.levelsOn === 'course' },
    ].map((o, i) => ({ ...o, id: `levels-on-${i}` })),
    levelsActivityId: values.levelsActivityId,
    levelsActivityIdError: errors.levelsActivityId ?? null,
    levelsError: errors.levels ?? null,
    levelRows: rows.map((row, i) => ({
      index: i,
      number: i + 1,
      id: row.id,
      name: row.name,
      min: row.min,
      nameError: errors[`levels.${i}.name`] ?? null,
      minError: errors[`levels.${i}.min`] ?? null,
      // Its own picture (else the badge's is used), and the field to upload one.
      picture: (row.id && pictureOf.get(row.id)) || null,
      imageField: `levelImage${i}`,
      imageError: errors[`levels.${i}.image`] ?? null,
    })),
    regradePolicies: [
      {
        value: 'none',
        label: 'Nothing changes: a condition met stays met',
        checked: values.regradePolicy === 'none',
      },
      {
        value: 'fallback',
        label: 'Progress falls back; a badge already awarded stays',
        checked: values.regradePolicy === 'fallback',
      },
      {
        value: 'revoke',
        label:
          'Progress falls back, and an awarded badge is revoked after a grace period unless the grade comes back',
        checked: values.regradePolicy === 'revoke',
      },
    ].map((o, i) => ({ ...o, id: `regrade-${i}` })),
    regradeGraceDays: values.regradeGraceDays,
    regradeGraceDaysError: errors.regradeGraceDays ?? null,
  };
}

/**
 * The builder's plain-language summary: the conditions ("Earned when: …"), then the levels and
 * what a lowered grade does, when the badge has them.
 */
export function badgeSummary(
  groups: Parameters<typeof describeRule>[0],
  levels: Levels | null | undefined,
  regrade: Regrade | null | undefined,
  names: DescribeContext,
): string {
  const hasLevels = Boolean(levels?.steps.length);
  return [
    groups.length ? describeRule(groups, names) : hasLevels ? null : 'No conditions yet.',
    describeLevels(levels, names),
    describeRegrade(regrade),
  ]
    .filter(Boolean)
    .join(' ');
}
