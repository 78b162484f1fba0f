import type { TemplateDoc } from '../../db/models/template.js';
import type { KnownActivity } from '../../courses/activities.js';
import { CONDITION_KINDS, PENALTY_KINDS, type BadgeFormValues, type FieldErrors } from './badgeForm.js';

/**
 * The badge form's view model: option lists with the chosen one marked and each error beside its
 * field, because Handlebars templates hold no logic. Every group gets one blank row, and one blank
 * group follows, so the builder works without JavaScript (blank rows are ignored on save).
 */
export function badgeFormLocals(
  values: BadgeFormValues,
  errors: FieldErrors,
  known: {
    activities: KnownActivity[];
    badges: { id: string; name: string }[];
    template: TemplateDoc | null;
  },
) {
  const blankRow = { kind: '', activityId: '', threshold: '', unit: 'percent', templateId: '', id: '' };
  // Saved groups get one blank row for another alternative; then blank groups follow, at least
  // one and enough for two groups in all, so "all of these" can be built in one go.
  const saved = values.groups.filter((rows) => rows.length).map((rows) => [...rows, blankRow]);
  const blankGroups = Math.max(1, 2 - saved.length);
  const groups = [...saved, ...Array.from({ length: blankGroups }, () => [blankRow, blankRow])];
  const customText = new Map(
    (known.template?.groups ?? []).flatMap((g) => g.requirements).map((r) => [r.id, JSON.stringify(r)]),
  );
  const requirementIds = (known.template?.groups ?? []).flatMap((g) => g.requirements.map((r) => r.id));
  return {
    values,
    errors,
    expiryNone: values.expiry === 'none',
    expiryDays: values.expiry === 'days',
    expiryDate: values.expiry === 'date',
    activities: known.activities.map((a) => ({ id: a.id, label: a.title ? `${a.title} (${a.id})` : a.id })),
    groupsError: errors.groups ?? null,
    groups: groups.map((rows, g) => ({
      index: g,
      number: g + 1,
      rows: rows.map((row, r) => {
        const field = (name: string) => `groups[${g}][${r}][${name}]`;
        const err = (name: string) => errors[`groups.${g}.${r}.${name}`] ?? null;
        const idBase = `g${g}r${r}`;
        return {
          custom: row.kind === 'custom',
          customText: row.kind === 'custom' ? (customText.get(row.id ?? '') ?? '') : '',
          idBase,
          names: {
            kind: field('kind'),
            activityId: field('activityId'),
            threshold: field('threshold'),
            unit: field('unit'),
            templateId: field('templateId'),
            id: field('id'),
          },
          values: row,
          errors: {
            kind: err('kind'),
            activityId: err('activityId'),
            threshold: err('threshold'),
            templateId: err('templateId'),
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
      }),
    })),
    penalties: [
      ...values.penalties,
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
