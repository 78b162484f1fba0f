import type { TemplateDoc } from '../../db/models/template.js';
import type { ConditionRow } from '../../templates/builder.js';
import type { ActivityOption } from '../../courses/activities.js';
import { describeRequirement, formatCourseEnd, isBadgeRequirement } from '../../rules/index.js';
import {
  blankRow,
  CONDITION_KINDS,
  PENALTY_KINDS,
  type BadgeFormValues,
  type FieldErrors,
} from './badgeForm.js';

/** "Quiz 3 · Quiz · id 42": what the activity list shows, so a name, a kind and an id can be searched. */
export function activityLabel(a: ActivityOption): string {
  return [a.title, a.kind, `id ${a.id}`].filter(Boolean).join(' · ');
}

/**
 * The badge form's view model: option lists with the chosen one marked and each error beside its
 * field, because Handlebars templates hold no logic. The groups are exactly the posted or stored
 * ones (a new badge starts with one empty condition); the form's "add" and "remove" buttons change
 * them, in the page with JavaScript or through the server without it, so nothing grows by itself.
 * `unknownActivities`: ids no source names, shown with a warning and a checkbox to confirm each.
 */
export function badgeFormLocals(
  values: BadgeFormValues,
  errors: FieldErrors,
  known: {
    activities: ActivityOption[];
    badges: { id: string; name: string }[];
    template: TemplateDoc | null;
    unknownActivities?: string[];
    /** The course's end date as Laurel knows it (null: none), for "before the course ends". */
    courseEnd?: { endsAt: Date | null; source: 'lms' | 'instructor' | null; settingsLink: string | null };
  },
) {
  const groups = values.groups.length ? values.groups : [[blankRow()]];
  const unknown = new Set(known.unknownActivities ?? []);
  const customText = new Map(
    (known.template?.groups ?? []).flatMap((g) => g.requirements).map((r) => [r.id, JSON.stringify(r)]),
  );
  const requirementIds = (known.template?.groups ?? []).flatMap((g) => g.requirements.map((r) => r.id));
  // What the field names: the same words badge-builder.js shows as one types.
  const byId = new Map(known.activities.map((a) => [a.id, a]));
  const hintOf = (id: string) => {
    const a = id ? byId.get(id) : undefined;
    return a ? `${a.title ?? 'Unnamed activity'}${a.kind ? ` (${a.kind})` : ''}, id ${a.id}` : null;
  };
  const number = (i: number | string) => (typeof i === 'number' ? i + 1 : '');
  // Counts by kind: the LMS's own kinds of this course's activities, in a person's words.
  const lmsKinds = [
    ...new Map(
      known.activities.filter((a) => a.lmsKind).map((a) => [a.lmsKind!, a.kind ?? a.lmsKind!] as const),
    ),
  ].sort((a, b) => a[1].localeCompare(b[1]));
  // "Only after": the saved conditions of this badge other than a badge earned, by what they say.
  const titles = Object.fromEntries(known.activities.filter((a) => a.title).map((a) => [a.id, a.title!]));
  const saved = (known.template?.groups ?? [])
    .flatMap((g) => g.requirements)
    .filter((r) => !isBadgeRequirement(r));
  const timingLocals = (row: ConditionRow, err: (name: string) => string | null) => {
    const hasTiming = Boolean(row.from || row.until || row.days || row.after || row.beforeEnd);
    return {
      timingOpen:
        hasTiming || Boolean(err('from') || err('until') || err('days') || err('after') || err('beforeEnd')),
      beforeEndChecked: row.beforeEnd === 'on',
      patternKinds: [
        { value: '', label: 'any kind', selected: !row.patternKind },
        ...lmsKinds.map(([value, label]) => ({ value, label, selected: value === row.patternKind })),
        // A kind no activity has now (or typed through the API) stays chosen.
        ...(row.patternKind && !lmsKinds.some(([v]) => v === row.patternKind)
          ? [{ value: row.patternKind, label: row.patternKind, selected: true }]
          : []),
      ],
      afterOptions: [
        { id: '', label: '— any time —', selected: !row.after },
        ...saved
          .filter((r) => r.id !== row.id)
          .map((r) => ({
            id: r.id,
            label: describeRequirement(r, { activityTitles: titles }),
            selected: r.id === row.after,
          })),
      ],
    };
  };
  const groupLocals = <R>(g: number | string, rows: R[]) => ({
    index: g,
    number: number(g),
    atLeast: {
      name: `groups[${g}][atLeast]`,
      id: `g${g}-at-least`,
      value: (typeof g === 'number' ? values.atLeast?.[g] : undefined) || '1',
      error: errors[`groups.${g}.atLeast`] ?? null,
    },
    addRow: `add-row:${g}`,
    removeGroup: `remove-group:${g}`,
    rows,
  });
  const rowLocals = (row: ConditionRow, g: number | string, r: number | string) => {
    const field = (name: string) => `groups[${g}][${r}][${name}]`;
    const err = (name: string) => errors[`groups.${g}.${r}.${name}`] ?? null;
    return {
      index: r,
      number: number(r),
      groupNumber: number(g),
      remove: `remove-row:${g}:${r}`,
      unknownActivity: unknown.has((row.activityId ?? '').trim()) && /^activity-/.test(row.kind ?? ''),
      activityHint: hintOf((row.activityId ?? '').trim()),
      custom: row.kind === 'custom',
      customText: row.kind === 'custom' ? (customText.get(row.id ?? '') ?? '') : '',
      idBase: `g${g}r${r}`,
      names: {
        kind: field('kind'),
        activityId: field('activityId'),
        threshold: field('threshold'),
        unit: field('unit'),
        templateId: field('templateId'),
        id: field('id'),
        pattern: field('pattern'),
        patternKind: field('patternKind'),
        patternTag: field('patternTag'),
        count: field('count'),
        from: field('from'),
        until: field('until'),
        days: field('days'),
        after: field('after'),
        beforeEnd: field('beforeEnd'),
      },
      ...timingLocals(row, err),
      values: row,
      errors: {
        kind: err('kind'),
        activityId: err('activityId'),
        threshold: err('threshold'),
        templateId: err('templateId'),
        pattern: err('pattern'),
        patternKind: err('patternKind'),
        patternTag: err('patternTag'),
        count: err('count'),
        from: err('from'),
        until: err('until'),
        days: err('days'),
        after: err('after'),
        beforeEnd: err('beforeEnd'),
      },
      kinds: [{ kind: '', label: '— nothing —' }, ...CONDITION_KINDS].map((k) => ({
        ...k,
        selected: k.kind === (row.kind ?? ''),
      })),
      units: [
        { value: 'percent', label: '%', selected: row.unit !== 'points' },
        { value: 'points', label: 'points', selected: row.unit === 'points' },
      ],
      badges: known.badges.map((b) => ({ ...b, selected: b.id === row.templateId })),
    };
  };
  const end = known.courseEnd ?? { endsAt: null, source: null, settingsLink: null };
  return {
    values,
    errors,
    // "Before the course ends": which date that is, or that Laurel knows none (it then limits nothing).
    courseEndHint: end.endsAt
      ? `The course ends on ${formatCourseEnd(end.endsAt)} (${end.source === 'instructor' ? 'set in Laurel' : 'as the LMS says'}).`
      : 'Laurel knows no end date for this course yet, so this limits nothing until one is set in the course settings or the LMS sends one.',
    courseEndKnown: Boolean(end.endsAt),
    courseSettingsLink: end.settingsLink,
    // The tags the course's activities carry, for the "tagged" field's list.
    knownTags: [...new Set(known.activities.flatMap((a) => a.tags ?? []))].sort((a, b) => a.localeCompare(b)),
    expiryNone: values.expiry === 'none',
    expiryDays: values.expiry === 'days',
    expiryDate: values.expiry === 'date',
    activities: known.activities.map((a) => ({
      id: a.id,
      label: activityLabel(a),
      name: a.title ?? '',
      kind: a.kind ?? '',
    })),
    // A name typed where the id belongs ("Quiz 3" for 42) is the usual slip: say which id it is.
    unknownActivities: [...unknown].map((id, i) => {
      const named = known.activities.find((a) => a.title?.trim().toLowerCase() === id.toLowerCase());
      return {
        id,
        inputId: `confirm-activity-${i}`,
        suggestion: named ? { id: named.id, label: activityLabel(named) } : null,
      };
    }),
    groupsError: errors.groups ?? null,
    groups: groups.map((rows, g) =>
      groupLocals(
        g,
        rows.map((row, r) => rowLocals(row, g, r)),
      ),
    ),
    // Blank ones for the page's script to copy; it puts new indexes where __G__ and __R__ are.
    blankGroup: groupLocals('__G__', [rowLocals(blankRow(), '__G__', '__R__')]),
    blankRow: rowLocals(blankRow(), '__G__', '__R__'),
    // One blank penalty row after the chosen ones (a blank one posted back is not kept, so none pile up).
    penalties: [
      ...values.penalties.filter((p) => p.kind),
      { kind: '', activityId: '', threshold: '', unit: 'percent', resets: 'all' },
    ].map((row, p) => ({
      index: p,
      idBase: `p${p}`,
      custom: row.kind === 'custom',
      names: {
        kind: `penalties[${p}][kind]`,
        activityId: `penalties[${p}][activityId]`,
        threshold: `penalties[${p}][threshold]`,
        unit: `penalties[${p}][unit]`,
        resets: `penalties[${p}][resets]`,
      },
      values: row,
      errors: {
        kind: errors[`penalties.${p}.kind`] ?? null,
        activityId: errors[`penalties.${p}.activityId`] ?? null,
        threshold: errors[`penalties.${p}.threshold`] ?? null,
      },
      kinds: [{ kind: '', label: '— no penalty —' }, ...PENALTY_KINDS].map((k) => ({
        ...k,
        selected: k.kind === (row.kind ?? ''),
      })),
      units: [
        { value: 'percent', label: '%', selected: row.unit !== 'points' },
        { value: 'points', label: 'points', selected: row.unit === 'points' },
      ],
      resets: [
        { id: 'all', label: 'everything earned so far' },
        ...requirementIds.map((id, i) => ({ id, label: `condition ${i + 1}` })),
      ].map((o) => ({ ...o, selected: o.id === (row.resets || 'all') })),
    })),
  };
}
