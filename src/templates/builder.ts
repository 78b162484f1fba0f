import type { PenaltyInput, RequirementGroupInput, RequirementInput, Rule } from '../rules/index.js';
import { isBadgeRequirement } from '../rules/index.js';
import { parseRowTiming } from './builderTiming.js';

/**
 * The requirement builder of the instructor pages speaks in conditions a person picks from a
 * list ("a grade on an activity at or above 80%"), never in event names or rule paths. These
 * pure functions translate between those conditions and the rules the engine evaluates.
 */
export type GradeUnit = 'percent' | 'points';

export type Condition =
  | { kind: 'course-completed' }
  | { kind: 'activity-completed'; activityId: string }
  | { kind: 'activity-grade'; activityId: string; threshold: number; unit: GradeUnit }
  | { kind: 'course-grade'; threshold: number; unit: GradeUnit }
  | { kind: 'badge'; templateId: string }
  | { kind: 'activities-grade'; pattern: ActivityPick; threshold: number; unit: GradeUnit }
  | { kind: 'activities-completed'; pattern: ActivityPick };

/** "Any 3 activities whose name contains “lab”": a name, an LMS kind, a tag (any of them), and how many. */
export type ActivityPick = { name?: string; kind?: string; tag?: string; atLeast: number };

export type ConditionKind = Condition['kind'];

export const CONDITION_KINDS: readonly { kind: ConditionKind; label: string }[] = [
  { kind: 'activity-grade', label: 'A grade on an activity at or above' },
  { kind: 'activity-completed', label: 'An activity completed' },
  { kind: 'course-grade', label: 'The course grade at or above' },
  { kind: 'course-completed', label: 'The course completed' },
  { kind: 'badge', label: 'Another badge earned' },
  { kind: 'activities-grade', label: 'Several activities by name or tag, each at or above' },
  { kind: 'activities-completed', label: 'Several activities by name or tag completed' },
];

/** A penalty as the builder offers it: a grade falling below a mark undoes what it names. */
export type PenaltyCondition =
  | { kind: 'activity-grade-below'; activityId: string; threshold: number; unit: GradeUnit }
  | { kind: 'course-grade-below'; threshold: number; unit: GradeUnit }
  | { kind: 'unenrolled' };

const scorePath = (unit: GradeUnit) => (unit === 'percent' ? 'data.percent' : 'data.score');

export function conditionToRequirement(condition: Condition, id?: string): RequirementInput {
  const withId = <T extends object>(req: T) => (id ? { id, ...req } : req);
  switch (condition.kind) {
    case 'course-completed':
      return withId({ event: 'course.completed', rules: [] as Rule[] });
    case 'activity-completed':
      return withId({
        event: 'activity.completed',
        rules: [{ path: 'data.activityId', op: 'eq', value: condition.activityId }] as Rule[],
      });
    case 'activity-grade':
      return withId({
        event: 'activity.grade.updated',
        rules: [
          { path: 'data.activityId', op: 'eq', value: condition.activityId },
          { path: scorePath(condition.unit), op: 'gte', value: condition.threshold },
        ] as Rule[],
      });
    case 'course-grade':
      return withId({
        event: 'course.grade.updated',
        rules: [{ path: scorePath(condition.unit), op: 'gte', value: condition.threshold }] as Rule[],
      });
    case 'badge':
      return withId({ badge: condition.templateId });
    case 'activities-grade':
      return withId({
        event: 'activity.grade.updated',
        rules: [{ path: scorePath(condition.unit), op: 'gte', value: condition.threshold }] as Rule[],
        activities: { ...condition.pattern },
      });
    case 'activities-completed':
      return withId({
        event: 'activity.completed',
        rules: [] as Rule[],
        activities: { ...condition.pattern },
      });
  }
}

export function penaltyToInput(penalty: PenaltyCondition, resets: string[], id?: string): PenaltyInput {
  const base = id ? { id } : {};
  switch (penalty.kind) {
    case 'activity-grade-below':
      return {
        ...base,
        event: 'activity.grade.updated',
        rules: [
          { path: 'data.activityId', op: 'eq', value: penalty.activityId },
          { path: scorePath(penalty.unit), op: 'lt', value: penalty.threshold },
        ],
        resets,
      };
    case 'course-grade-below':
      return {
        ...base,
        event: 'course.grade.updated',
        rules: [{ path: scorePath(penalty.unit), op: 'lt', value: penalty.threshold }],
        resets,
      };
    case 'unenrolled':
      return { ...base, event: 'enrollment.deleted', rules: [], resets };
  }
}

const ruleAt = (rules: readonly Rule[], path: string, op: Rule['op']) =>
  rules.find((r) => r.path === path && r.op === op);

/** The builder's condition for a stored requirement; null when it was made by hand through the API. */
export function requirementToCondition(req: RequirementInput): Condition | null {
  if (isBadgeRequirement(req as never))
    return { kind: 'badge', templateId: (req as { badge: string }).badge };
  const {
    event,
    rules = [],
    activities,
  } = req as { event: string; rules?: Rule[]; activities?: ActivityPick };
  if (activities) {
    const pattern: ActivityPick = {
      ...(activities.name !== undefined ? { name: activities.name } : {}),
      ...(activities.kind !== undefined ? { kind: activities.kind } : {}),
      ...(activities.tag !== undefined ? { tag: activities.tag } : {}),
      atLeast: activities.atLeast,
    };
    const score = ruleAt(rules, 'data.percent', 'gte') ?? ruleAt(rules, 'data.score', 'gte');
    if (event === 'activity.completed' && rules.length === 0)
      return { kind: 'activities-completed', pattern };
    if (event === 'activity.grade.updated' && score && rules.length === 1 && typeof score.value === 'number')
      return {
        kind: 'activities-grade',
        pattern,
        threshold: score.value,
        unit: score.path === 'data.percent' ? 'percent' : 'points',
      };
    return null;
  }
  const activity = ruleAt(rules, 'data.activityId', 'eq');
  const percent = ruleAt(rules, 'data.percent', 'gte');
  const points = ruleAt(rules, 'data.score', 'gte');
  const threshold = percent ?? points;
  const unit: GradeUnit = percent ? 'percent' : 'points';
  const only = (n: number) => rules.length === n;
  if (event === 'course.completed' && only(0)) return { kind: 'course-completed' };
  if (event === 'activity.completed' && activity && typeof activity.value === 'string' && only(1))
    return { kind: 'activity-completed', activityId: activity.value };
  if (
    event === 'activity.grade.updated' &&
    activity &&
    typeof activity.value === 'string' &&
    threshold &&
    only(2)
  )
    if (typeof threshold.value === 'number')
      return { kind: 'activity-grade', activityId: activity.value, threshold: threshold.value, unit };
  if (event === 'course.grade.updated' && threshold && typeof threshold.value === 'number' && only(1))
    return { kind: 'course-grade', threshold: threshold.value, unit };
  return null;
}

export function penaltyToCondition(penalty: PenaltyInput): PenaltyCondition | null {
  const rules = penalty.rules ?? [];
  const activity = ruleAt(rules, 'data.activityId', 'eq');
  const percent = ruleAt(rules, 'data.percent', 'lt');
  const points = ruleAt(rules, 'data.score', 'lt');
  const threshold = percent ?? points;
  const unit: GradeUnit = percent ? 'percent' : 'points';
  if (penalty.event === 'enrollment.deleted' && rules.length === 0) return { kind: 'unenrolled' };
  if (
    penalty.event === 'activity.grade.updated' &&
    activity &&
    typeof activity.value === 'string' &&
    threshold
  )
    if (typeof threshold.value === 'number' && rules.length === 2)
      return { kind: 'activity-grade-below', activityId: activity.value, threshold: threshold.value, unit };
  if (
    penalty.event === 'course.grade.updated' &&
    threshold &&
    typeof threshold.value === 'number' &&
    rules.length === 1
  )
    return { kind: 'course-grade-below', threshold: threshold.value, unit };
  return null;
}

/** One row of the builder form as posted (strings, possibly empty). */
export type ConditionRow = {
  kind?: string;
  activityId?: string;
  threshold?: string;
  unit?: string;
  templateId?: string;
  id?: string;
  /** Several activities by name: the name (contains, or * and ? wildcards), the LMS kind, how many. */
  pattern?: string;
  patternKind?: string;
  /** A tag the activities carry (the LMS's or the instructor's). */
  patternTag?: string;
  count?: string;
  /** Time limits (builderTiming.ts): dates as YYYY-MM-DD, days after enrolment, order. */
  from?: string;
  until?: string;
  days?: string;
  after?: string;
  /** "on": only before the course's end date. */
  beforeEnd?: string;
};

export type RowError = { field: string; message: string };

/**
 * Reads one posted builder row. Returns null for an untouched empty row (the form always offers
 * a blank one), a condition, or the errors to show beside its fields.
 */
export function parseConditionRow(
  row: ConditionRow,
): { condition: Condition } | { errors: RowError[] } | null {
  const kind = (row.kind ?? '').trim();
  if (kind === '') return null;
  const errors: RowError[] = [];
  const activityId = (row.activityId ?? '').trim();
  const templateId = (row.templateId ?? '').trim();
  const unit: GradeUnit = row.unit === 'points' ? 'points' : 'percent';
  const thresholdText = (row.threshold ?? '').trim();
  const threshold = Number(thresholdText);
  const needActivity = () => {
    if (!activityId) errors.push({ field: 'activityId', message: 'Choose an activity or type its id.' });
    else if (activityId.length > 200)
      errors.push({ field: 'activityId', message: 'At most 200 characters.' });
  };
  const needThreshold = () => {
    if (thresholdText === '' || !Number.isFinite(threshold))
      errors.push({ field: 'threshold', message: 'Give a number, such as 80.' });
    else if (threshold < 0) errors.push({ field: 'threshold', message: 'Must not be negative.' });
    else if (unit === 'percent' && threshold > 100)
      errors.push({ field: 'threshold', message: 'A percentage is at most 100.' });
  };
  let condition: Condition | undefined;
  switch (kind) {
    case 'course-completed':
      condition = { kind };
      break;
    case 'activity-completed':
      needActivity();
      condition = { kind, activityId };
      break;
    case 'activity-grade':
      needActivity();
      needThreshold();
      condition = { kind, activityId, threshold, unit };
      break;
    case 'course-grade':
      needThreshold();
      condition = { kind, threshold, unit };
      break;
    case 'badge':
      if (!/^[0-9a-f]{24}$/i.test(templateId))
        errors.push({ field: 'templateId', message: 'Choose a badge.' });
      condition = { kind, templateId };
      break;
    case 'activities-grade':
    case 'activities-completed': {
      const pattern = parsePick(row, errors);
      if (kind === 'activities-grade') needThreshold();
      condition = kind === 'activities-grade' ? { kind, pattern, threshold, unit } : { kind, pattern };
      break;
    }
    default:
      errors.push({ field: 'kind', message: 'Choose what must happen.' });
  }
  return errors.length ? { errors } : { condition: condition! };
}

/** The name, kind and count of a "several activities" row, with an error beside each bad field. */
function parsePick(row: ConditionRow, errors: RowError[]): ActivityPick {
  const name = (row.pattern ?? '').trim();
  const kind = (row.patternKind ?? '').trim();
  const tag = (row.patternTag ?? '').trim();
  const countText = (row.count ?? '').trim();
  const atLeast = Number(countText);
  if (!name && !kind && !tag)
    errors.push({
      field: 'pattern',
      message: 'Give part of the activities’ name, such as “lab”, a tag, or choose a kind.',
    });
  else if (name.length > 100) errors.push({ field: 'pattern', message: 'At most 100 characters.' });
  if (kind && !/^[A-Za-z0-9_-]{1,50}$/.test(kind))
    errors.push({ field: 'patternKind', message: 'Choose a kind of activity from the list.' });
  if (tag.length > 50) errors.push({ field: 'patternTag', message: 'A tag has at most 50 characters.' });
  else if ([...tag].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    errors.push({ field: 'patternTag', message: 'Type the tag as plain text.' });
  if (countText === '' || !Number.isInteger(atLeast) || atLeast < 1 || atLeast > 100)
    errors.push({ field: 'count', message: 'Give a whole number from 1 to 100.' });
  return { ...(name ? { name } : {}), ...(kind ? { kind } : {}), ...(tag ? { tag } : {}), atLeast };
}

/** Groups of posted rows → the API's `groups`, dropping empty rows and empty groups. */
export function rowsToGroups(
  groups: ConditionRow[][],
):
  | { groups: RequirementGroupInput[] }
  | { errors: { group: number; row: number; field: string; message: string }[] } {
  const out: RequirementGroupInput[] = [];
  const errors: { group: number; row: number; field: string; message: string }[] = [];
  groups.forEach((rows, g) => {
    const requirements: RequirementInput[] = [];
    rows.forEach((row, r) => {
      const parsed = parseConditionRow(row);
      if (parsed === null) return;
      const timing = parseRowTiming(
        row,
        parsed !== null && 'condition' in parsed && parsed.condition.kind === 'badge',
      );
      if ('errors' in timing) timing.errors.forEach((e) => errors.push({ group: g, row: r, ...e }));
      if ('errors' in parsed) parsed.errors.forEach((e) => errors.push({ group: g, row: r, ...e }));
      else if (!('errors' in timing))
        requirements.push({
          ...conditionToRequirement(parsed.condition, row.id?.trim() || undefined),
          ...timing.timing,
        } as RequirementInput);
    });
    if (requirements.length) out.push({ requirements });
  });
  return errors.length ? { errors } : { groups: out };
}
