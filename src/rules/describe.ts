/**
 * Plain-language summaries of a template's requirements for learners and instructors,
 * who should never have to read event names or rule paths. Common shapes get a natural
 * phrase ("Quiz 3 ≥ 80%"); anything else falls back to a readable but literal one
 * ("activity graded where data.attempt > 2") rather than hiding a rule.
 */
import type {
  ActivityPattern,
  Operator,
  Penalty,
  Requirement,
  RequirementGroup,
  Rule,
  TimeWindow,
} from './types.js';
import { neededIn } from './types.js';
import { isBadgeRequirement } from './types.js';

type Lookup = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

/** What the caller knows about the ids a template mentions. */
export interface DescribeContext {
  /** Activity titles by `data.activityId`. */
  activityTitles?: Lookup;
  /** Badge template names by template id. */
  badgeNames?: Lookup;
  /** The template's requirements by id, to name the one an "after" points to (filled by the describers of a whole rule). */
  requirementsById?: ReadonlyMap<string, Requirement>;
  /** The course's end date, when Laurel knows it ("before the course ends on 12 June 2027"). */
  courseEndsAt?: Date | null;
}

function lookup(table: Lookup | undefined, key: string): string | undefined {
  if (table === undefined) return undefined;
  if (table instanceof Map) return table.get(key);
  // Own properties only: an activity called "constructor" must not find Object's.
  const record = table as Readonly<Record<string, string>>;
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

function activityName(id: string, ctx: DescribeContext): string {
  return lookup(ctx.activityTitles, id) ?? `activity “${id}”`;
}

function badgePhrase(templateId: string, ctx: DescribeContext): string {
  return `badge “${lookup(ctx.badgeNames, templateId) ?? templateId}” earned`;
}

const SYMBOLS: Partial<Record<Operator, string>> = { eq: '=', ne: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤' };
const THRESHOLD_OPS: readonly Operator[] = ['eq', 'gt', 'gte', 'lt', 'lte'];

const EVENT_PHRASES: Readonly<Record<string, string>> = {
  'course.completed': 'course completed',
  'course.grade.updated': 'course graded',
  'activity.completed': 'activity completed',
  'activity.grade.updated': 'activity graded',
  'enrollment.created': 'enrolled in the course',
  'enrollment.deleted': 'unenrolled from the course',
  'badge.awarded': 'a badge earned',
};

function eventPhrase(event: string): string {
  return Object.prototype.hasOwnProperty.call(EVENT_PHRASES, event)
    ? EVENT_PHRASES[event]
    : `event “${event}”`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return `“${value}”`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** One rule, literally: "data.attempt > 2", "data.late is absent", "data.role is one of “a”, “b”". */
export function describeRuleClause(rule: Rule): string {
  const symbol = SYMBOLS[rule.op];
  if (symbol !== undefined) return `${rule.path} ${symbol} ${formatValue(rule.value)}`;
  if (rule.op === 'in') {
    const values = Array.isArray(rule.value)
      ? rule.value.map(formatValue).join(', ')
      : formatValue(rule.value);
    return `${rule.path} is one of ${values}`;
  }
  if (rule.op === 'exists') return `${rule.path} ${rule.value === false ? 'is absent' : 'is present'}`;
  return `${rule.path} ${String(rule.op)} ${formatValue(rule.value)}`;
}

/** "≥ 80%" / "≥ 12 points" for a numeric threshold on data.percent or data.score, else null. */
function threshold(rule: Rule): string | null {
  const symbol = SYMBOLS[rule.op];
  if (!THRESHOLD_OPS.includes(rule.op) || symbol === undefined || typeof rule.value !== 'number') return null;
  if (rule.path === 'data.percent') return `${symbol} ${rule.value}%`;
  if (rule.path === 'data.score') return `${symbol} ${rule.value} ${rule.value === 1 ? 'point' : 'points'}`;
  return null;
}

function isIdRule(rule: Rule, path: string): boolean {
  return rule.path === path && rule.op === 'eq' && typeof rule.value === 'string';
}

/** An event type plus rules (a requirement's or a penalty's condition) in plain language. */
export function describeCondition(event: string, rules: readonly Rule[], ctx: DescribeContext = {}): string {
  const activityRule = rules.find((r) => isIdRule(r, 'data.activityId'));
  const others = rules.filter((r) => r !== activityRule);
  const title = activityRule ? activityName(activityRule.value as string, ctx) : undefined;
  const only = others.length === 1 ? threshold(others[0]) : null;

  if (event === 'activity.grade.updated' && title !== undefined && only !== null) return `${title} ${only}`;
  if (event === 'activity.completed' && title !== undefined && others.length === 0)
    return `${title} completed`;
  if (event === 'course.grade.updated' && title === undefined && only !== null) return `Course grade ${only}`;
  if (event === 'course.completed' && rules.length === 0) return 'course completed';
  if (event === 'badge.awarded' && rules.length === 1 && isIdRule(rules[0], 'data.templateId')) {
    return badgePhrase(rules[0].value as string, ctx);
  }

  // Fallback: say which event, then every rule literally. A named activity becomes the subject.
  let subject = eventPhrase(event);
  let clauses = rules;
  if (title !== undefined && event === 'activity.grade.updated')
    [subject, clauses] = [`${title} graded`, others];
  if (title !== undefined && event === 'activity.completed')
    [subject, clauses] = [`${title} completed`, others];
  if (clauses.length === 0) return subject;
  return `${subject} where ${clauses.map(describeRuleClause).join(' and ')}`;
}

/** One requirement. A label the admin wrote wins over the generated phrase. */
export function describeRequirement(req: Requirement, ctx: DescribeContext = {}): string {
  if (req.label !== undefined && req.label.trim() !== '') return req.label.trim();
  if (isBadgeRequirement(req)) return badgePhrase(req.badge, ctx);
  const base = req.activities
    ? describeCount(req.event, req.rules ?? [], req.activities)
    : describeCondition(req.event, req.rules ?? [], ctx);
  return `${base}${describeTiming(req, ctx, 'instructor')}`;
}

// ---------------------------------------------------------------------------------------------
// Counts and time ("3 activities whose name contains “lab” ≥ 70%, within 30 days of enrolment").

/** "whose name contains “lab”", "named like “Lab *”", "of kind “assign”", "tagged “lab”". */
export function activitiesPhrase(pattern: Omit<ActivityPattern, 'atLeast'>): string {
  const parts: string[] = [];
  if (pattern.kind) parts.push(`of kind “${pattern.kind}”`);
  if (pattern.tag) parts.push(`tagged “${pattern.tag}”`);
  if (pattern.name)
    parts.push(
      /[*?]/.test(pattern.name) ? `named like “${pattern.name}”` : `whose name contains “${pattern.name}”`,
    );
  return parts.join(' ');
}

const activitiesNoun = (n: number) => (n === 1 ? 'activity' : 'activities');

/** The instructor's words for a count of activities. */
function describeCount(event: string, rules: readonly Rule[], pattern: ActivityPattern): string {
  const subject = `${pattern.atLeast} ${activitiesNoun(pattern.atLeast)} ${activitiesPhrase(pattern)}`;
  const only = rules.length === 1 ? threshold(rules[0]) : null;
  if (event === 'activity.grade.updated' && only !== null) return `${subject}, each ${only}`;
  if (event === 'activity.grade.updated' && rules.length === 0) return `${subject} graded`;
  if (event === 'activity.completed' && rules.length === 0) return `${subject} completed`;
  const verb = event === 'activity.completed' ? 'completed' : 'graded';
  return `${subject} ${verb}${rules.length ? ` where ${rules.map(describeRuleClause).join(' and ')}` : ''}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "1 Mar 2027", with the time (UTC) when it is not midnight. */
function formatInstant(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const date = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  const midnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
  return midnight ? date : `${date}, ${d.toISOString().slice(11, 16)} UTC`;
}

const LONG_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * A course's end as people say it: "12 June 2027" for an end at midnight UTC (the course runs to the
 * end of 12 June), else the day and time, "12 June 2027, 17:00 UTC".
 */
export function formatCourseEnd(end: Date): string {
  if (Number.isNaN(end.getTime())) return 'an unknown date';
  const midnight = end.getTime() % (24 * 60 * 60 * 1000) === 0;
  const d = midnight ? new Date(end.getTime() - 24 * 60 * 60 * 1000) : end;
  const date = `${d.getUTCDate()} ${LONG_MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  return midnight ? date : `${date}, ${end.toISOString().slice(11, 16)} UTC`;
}

/** A window's end as people say it: an end at midnight is "by the end of" the day before. */
function formatEnd(iso: string): string {
  const d = new Date(iso);
  const midnight =
    !Number.isNaN(d.getTime()) && d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
  return midnight
    ? `the end of ${formatInstant(new Date(d.getTime() - 24 * 60 * 60 * 1000).toISOString())}`
    : formatInstant(iso);
}

/** ", between 1 Mar 2027 and the end of 31 Mar 2027, within 14 days of enrolment, after “Quiz 1 ≥ 50%”". */
function describeTiming(
  req: { window?: TimeWindow; after?: string },
  ctx: DescribeContext,
  who: 'instructor' | 'learner',
): string {
  const parts: string[] = [];
  const w = req.window;
  if (w) {
    if (w.from !== undefined && w.until !== undefined)
      parts.push(`between ${formatInstant(w.from)} and ${formatEnd(w.until)}`);
    else if (w.from !== undefined) parts.push(`from ${formatInstant(w.from)} on`);
    else if (w.until !== undefined) parts.push(`by ${formatEnd(w.until)}`);
    if (w.daysAfterEnrolment !== undefined)
      parts.push(
        `within ${w.daysAfterEnrolment} ${w.daysAfterEnrolment === 1 ? 'day' : 'days'} of ${who === 'learner' ? 'enrolling' : 'enrolment'}`,
      );
    if (w.beforeCourseEnd)
      parts.push(
        ctx.courseEndsAt
          ? `before the course ends on ${formatCourseEnd(ctx.courseEndsAt)}`
          : 'before the course ends',
      );
  }
  if (req.after !== undefined) {
    const first = ctx.requirementsById?.get(req.after);
    if (who === 'learner')
      parts.push(
        first ? `after ${learnerPhrase({ ...first, label: first.label }, ctx)}` : 'after an earlier step',
      );
    else
      parts.push(first ? `after “${describeRequirement(first, ctx)}”` : `after requirement “${req.after}”`);
  }
  return parts.length ? `, ${parts.join(', ')}` : '';
}

/** The context with the template's requirements by id, so that an "after" can name its requirement. */
function withRequirements(groups: readonly RequirementGroup[], ctx: DescribeContext): DescribeContext {
  if (ctx.requirementsById) return ctx;
  return { ...ctx, requirementsById: new Map(groups.flatMap((g) => g.requirements).map((r) => [r.id, r])) };
}

/** One group: a single requirement bare, alternatives as "(A OR B)". */
export function describeGroup(group: RequirementGroup, ctx: DescribeContext = {}): string {
  const parts = group.requirements.map((req) => describeRequirement(req, ctx));
  if (parts.length === 0) return '(nothing, so this group cannot be met)';
  const needed = neededIn(group);
  if (needed > 1) return `${needed === parts.length ? 'all' : needed} of (${parts.join(', ')})`;
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

/** The whole template: "Earned when: Quiz 3 ≥ 80% AND (course completed OR Final exam ≥ 70%)". */
export function describeRule(groups: readonly RequirementGroup[], ctx: DescribeContext = {}): string {
  if (groups.length === 0) return 'No requirements yet, so this badge cannot be earned.';
  const named = withRequirements(groups, ctx);
  return `Earned when: ${groups.map((group) => describeGroup(group, named)).join(' AND ')}`;
}

function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * A penalty: "If Quiz 3 < 50%, progress on “Quiz 3 ≥ 80%” is undone." Pass the template's
 * groups to name the requirements it resets; without them (or for an unknown id) the id is shown.
 */
export function describePenalty(
  penalty: Penalty,
  ctx: DescribeContext = {},
  groups: readonly RequirementGroup[] = [],
): string {
  const byId = new Map<string, Requirement>();
  for (const group of groups) for (const req of group.requirements) byId.set(req.id, req);
  const targets = penalty.resets.map((id) => {
    const req = byId.get(id);
    return req ? `“${describeRequirement(req, ctx)}”` : `requirement “${id}”`;
  });
  return `If ${describeCondition(penalty.event, penalty.rules ?? [], ctx)}, progress on ${joinAnd(targets)} is undone.`;
}

// ---------------------------------------------------------------------------------------------
// Learners' words. A learner reads a sentence, never logic notation, rule paths or raw ids:
// "Earn this badge by: scoring 80% or more on Quiz 3, and completing the course". An activity whose
// title Laurel does not know is "an activity of this course"; a badge it may not name, "another badge".

/** What a threshold requirement compares, so a learner's best result can be shown beside it. */
export interface RequirementTarget {
  scope: 'activity' | 'course';
  /** The activity's id, for `scope: 'activity'`. */
  activityId: string | null;
  unit: 'percent' | 'points';
  op: 'eq' | 'gt' | 'gte' | 'lt' | 'lte';
  value: number;
}

const TARGET_EVENTS: Readonly<Record<string, RequirementTarget['scope']>> = {
  'activity.grade.updated': 'activity',
  'course.grade.updated': 'course',
};

/** The grade a requirement asks for ("80% or more on quiz-3"), or null when it asks for no grade. */
export function requirementTarget(req: Requirement): RequirementTarget | null {
  if (isBadgeRequirement(req)) return null;
  const scope = Object.prototype.hasOwnProperty.call(TARGET_EVENTS, req.event)
    ? TARGET_EVENTS[req.event]
    : undefined;
  if (!scope) return null;
  const rules = req.rules ?? [];
  const activityRule = rules.find((r) => isIdRule(r, 'data.activityId'));
  const others = rules.filter((r) => r !== activityRule);
  if ((scope === 'activity') !== (activityRule !== undefined) || others.length !== 1) return null;
  const [rule] = others;
  if (rule.path !== 'data.percent' && rule.path !== 'data.score') return null;
  if (!THRESHOLD_OPS.includes(rule.op) || typeof rule.value !== 'number') return null;
  return {
    scope,
    activityId: activityRule ? (activityRule.value as string) : null,
    unit: rule.path === 'data.percent' ? 'percent' : 'points',
    op: rule.op as RequirementTarget['op'],
    value: rule.value,
  };
}

/** "80%", "12 points", "1 point". */
export function formatAmount(value: number, unit: RequirementTarget['unit']): string {
  return unit === 'percent' ? `${value}%` : `${value} ${value === 1 ? 'point' : 'points'}`;
}

/** "80% or more", "more than 80%", "exactly 12 points", … */
function amountPhrase(target: Pick<RequirementTarget, 'op' | 'value' | 'unit'>): string {
  const amount = formatAmount(target.value, target.unit);
  switch (target.op) {
    case 'gte':
      return `${amount} or more`;
    case 'gt':
      return `more than ${amount}`;
    case 'eq':
      return `exactly ${amount}`;
    case 'lte':
      return `${amount} or less`;
    case 'lt':
      return `less than ${amount}`;
  }
}

function learnerActivity(id: string, ctx: DescribeContext): string {
  return lookup(ctx.activityTitles, id) ?? 'an activity of this course';
}

/** One requirement as a learner reads it, a phrase that follows "Earn this badge by:". */
export function learnerPhrase(req: Requirement, ctx: DescribeContext = {}): string {
  if (req.label !== undefined && req.label.trim() !== '') return req.label.trim();
  if (isBadgeRequirement(req)) {
    const name = lookup(ctx.badgeNames, req.badge);
    return name === undefined ? 'earning another badge' : `earning the “${name}” badge`;
  }
  const timing = describeTiming(req, ctx, 'learner').replace(/^, /, ' ');
  if (req.activities) return `${learnerCount(req.event, req.rules ?? [], req.activities)}${timing}`;
  return `${learnerEventPhrase(req, ctx)}${timing}`;
}

/** "scoring 70% or more on any 3 activities whose name contains “lab”", "completing any 2 activities of kind “quiz”". */
function learnerCount(event: string, rules: readonly Rule[], pattern: ActivityPattern): string {
  const which = `${pattern.atLeast === 1 ? 'an activity' : `any ${pattern.atLeast} activities`} ${activitiesPhrase(pattern)}`;
  const extra =
    rules.length > (event === 'activity.grade.updated' ? 1 : 0) ? ', as your instructor set out' : '';
  const rule = rules.length === 1 ? rules[0] : undefined;
  const target =
    rule &&
    (rule.path === 'data.percent' || rule.path === 'data.score') &&
    THRESHOLD_OPS.includes(rule.op) &&
    typeof rule.value === 'number'
      ? amountPhrase({
          op: rule.op as RequirementTarget['op'],
          value: rule.value,
          unit: rule.path === 'data.percent' ? 'percent' : 'points',
        })
      : null;
  if (event === 'activity.grade.updated' && target) return `scoring ${target} on ${which}`;
  if (event === 'activity.completed') return `completing ${which}${extra}`;
  return `getting a grade on ${which}${extra}`;
}

function learnerEventPhrase(req: Exclude<Requirement, { badge: string }>, ctx: DescribeContext): string {
  const target = requirementTarget(req);
  if (target?.scope === 'activity')
    return `scoring ${amountPhrase(target)} on ${learnerActivity(target.activityId!, ctx)}`;
  if (target?.scope === 'course') return `getting a course grade of ${amountPhrase(target)}`;
  const rules = req.rules ?? [];
  const activityRule = rules.find((r) => isIdRule(r, 'data.activityId'));
  const activity = activityRule ? learnerActivity(activityRule.value as string, ctx) : null;
  const extra = rules.length > (activityRule ? 1 : 0) ? ', as your instructor set out' : '';
  if (req.event === 'activity.completed' && activity) return `completing ${activity}${extra}`;
  if (req.event === 'activity.grade.updated' && activity) return `getting a grade on ${activity}${extra}`;
  if (req.event === 'course.completed') return `completing the course${extra}`;
  if (req.event === 'course.grade.updated') return `getting a course grade${extra}`;
  if (req.event === 'enrollment.created') return `enrolling in the course${extra}`;
  if (req.event === 'badge.awarded') return `earning another badge${extra}`;
  return 'a step your instructor set out';
}

/** "A", "A or B", "A, B or C". */
function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** One group for a learner: its one requirement, or its alternatives ("either A or B"). */
export function learnerGroupPhrase(group: RequirementGroup, ctx: DescribeContext = {}): string {
  const parts = group.requirements.map((req) => learnerPhrase(req, ctx));
  if (parts.length === 0) return 'a step that cannot be met yet';
  if (parts.length === 1) return parts[0];
  const needed = neededIn(group);
  if (needed === parts.length) return `all of ${joinAnd(parts)}`;
  if (needed > 1) return `any ${needed} of ${joinAnd(parts)}`;
  return `${parts.length === 2 ? 'either' : 'any one of'} ${joinOr(parts)}`;
}

/** The whole badge for a learner: "Earn this badge by: scoring 80% or more on Quiz 3, and completing the course". */
export function describeForLearner(groups: readonly RequirementGroup[], ctx: DescribeContext = {}): string {
  if (groups.length === 0) return 'Your instructor has not said yet how to earn this badge.';
  const named = withRequirements(groups, ctx);
  const parts = groups.map((group) => learnerGroupPhrase(group, named));
  const sentence =
    parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')}, and ${parts[parts.length - 1]}`;
  return `Earn this badge by: ${sentence}`;
}

/** "Scoring 80% or more on Quiz 3": a phrase standing alone, as in a checklist. */
export function capitalise(phrase: string): string {
  return phrase.charAt(0).toUpperCase() + phrase.slice(1);
}

/**
 * A learner's best result beside a requirement: "your best: 79%, needs 80%" while it is unmet,
 * "your best: 85%" once met. `best` is in the target's unit.
 */
export function describeBest(best: number, target: RequirementTarget, met: boolean): string {
  const mine = `your best: ${formatAmount(Math.round(best * 100) / 100, target.unit)}`;
  const needs = target.op === 'gte' ? formatAmount(target.value, target.unit) : amountPhrase(target);
  return met ? mine : `${mine}, needs ${needs}`;
}

// ---------------------------------------------------------------------------------------------
// The noun of a count: "2 of 3 labs", "1 of 2 quizzes", "0 of 1 essay".

/** Nouns for the LMS's own kinds of activity, singular and plural. */
const KIND_NOUNS: Readonly<Record<string, readonly [string, string]>> = {
  quiz: ['quiz', 'quizzes'],
  online_quiz: ['quiz', 'quizzes'],
  assign: ['assignment', 'assignments'],
  assignment: ['assignment', 'assignments'],
  forum: ['forum', 'forums'],
  discussion_topic: ['discussion', 'discussions'],
  lesson: ['lesson', 'lessons'],
  workshop: ['workshop', 'workshops'],
  scorm: ['SCORM package', 'SCORM packages'],
  h5pactivity: ['H5P activity', 'H5P activities'],
  lti: ['external tool', 'external tools'],
  manual: ['grade item', 'grade items'],
};

/** English plural of a noun, by the common spelling rules. */
function plural(word: string): string {
  if (/ss$/i.test(word) || /(x|ch|sh)$/i.test(word)) return `${word}es`;
  if (/s$/i.test(word)) return word;
  if (/z$/i.test(word)) return `${word}zes`;
  if (/[^aeiou]y$/i.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

/** English singular of a noun that may be plural already ("labs" → "lab"). */
function singular(word: string): string {
  if (/[^aeiou]ies$/i.test(word)) return `${word.slice(0, -3)}y`;
  if (/(x|ch|sh|ss)es$/i.test(word)) return word.slice(0, -2);
  if (/[^s]s$/i.test(word)) return word.slice(0, -1);
  return word;
}

/**
 * A word a person typed (a tag, a name, a label) as a noun, or null when it does not read as one:
 * one or two words of letters (wildcards and spaces around them dropped); the last one is put in the
 * plural or singular. "Lab *" → "labs", "Peer review" → "peer reviews", "Week 3" → null.
 */
function nounFrom(text: string | undefined, n: number): string | null {
  if (!text) return null;
  const words = text.replace(/[*?]/g, ' ').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || words.length > 2 || !words.every((w) => /^\p{L}[\p{L}'-]*$/u.test(w)))
    return null;
  // An acronym or a name ("SQL", "McKay") keeps its case; an ordinary word is lower-cased.
  const cased = words.map((w) => (/\p{Lu}/u.test(w.slice(1)) ? w : w.toLowerCase()));
  const last = cased.pop()!;
  return [...cased, n === 1 ? singular(last) : plural(last)].join(' ');
}

/**
 * The noun of what a count of activities counts, for "2 of 3 labs": the requirement's label when it
 * is a short noun ("Labs"), else its tag, its name pattern ("Lab *": labs), its LMS kind (assign:
 * assignments), and "activities" when none reads as a noun. Singular when `n` is 1.
 */
export function countNoun(pattern: Omit<ActivityPattern, 'atLeast'>, n: number, label?: string): string {
  const kind = pattern.kind?.toLowerCase();
  const kindNoun =
    kind && Object.prototype.hasOwnProperty.call(KIND_NOUNS, kind)
      ? KIND_NOUNS[kind]![n === 1 ? 0 : 1]
      : null;
  return (
    nounFrom(label, n) ??
    nounFrom(pattern.tag, n) ??
    nounFrom(pattern.name, n) ??
    kindNoun ??
    (n === 1 ? 'activity' : 'activities')
  );
}

/** "2 of 3 labs": a count's progress in a learner's words. */
export function countProgressText(pattern: ActivityPattern, done: number, label?: string): string {
  return `${done} of ${pattern.atLeast} ${countNoun(pattern, pattern.atLeast, label)}`;
}
