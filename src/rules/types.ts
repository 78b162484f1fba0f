/**
 * Shapes the rule engine works on. They mirror what the admin API stores for a badge
 * template (see ARCHITECTURE.md, "Badges and credentials"), minus everything that is
 * not needed to decide whether an event fulfils or undoes a requirement.
 */

/** Comparison operators a rule may use. */
export type Operator = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'exists';

export const OPERATORS: readonly Operator[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'exists'];

/** Event types a requirement or penalty may name (the generic learning event's types). */
export const EVENT_TYPES = [
  'course.completed',
  'course.grade.updated',
  'activity.completed',
  'activity.grade.updated',
  'enrollment.created',
  'enrollment.deleted',
  'badge.awarded',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** One condition on an event: the value at `path` (dotted, from the event root) compared with `value`. */
export interface Rule {
  path: string;
  op: Operator;
  value: unknown;
}

/**
 * When the thing must have happened for a requirement to count, by the LMS's time (the event's
 * `occurredAt`), never by when Laurel received it. Every bound given must hold.
 */
export interface TimeWindow {
  /** On or after this instant (ISO 8601 with a time zone). */
  from?: string;
  /** Before this instant (ISO 8601 with a time zone). */
  until?: string;
  /** Within this many days of the learner's enrolment (their first `enrollment.created` in scope). */
  daysAfterEnrolment?: number;
  /**
   * Before the course's end date (the LMS's, or the instructor's in Laurel); no limit while Laurel
   * knows none.
   */
  beforeCourseEnd?: boolean;
}

/**
 * "N activities named like X": the requirement counts the different activities whose events meet
 * its rules and whose name (and kind, when given) match, and is fulfilled at `atLeast` of them.
 */
export interface ActivityPattern {
  /** Case-insensitive: "lab" = names containing "lab"; with `*` or `?`, a wildcard over the whole name. */
  name?: string;
  /** The LMS's kind of activity (`assign`, `quiz`, …), when the LMS says it. */
  kind?: string;
  /**
   * A tag the activity carries, case-insensitively: Moodle's course-module tags, Canvas's
   * assignment group, or one the instructor gave it in Laurel.
   */
  tag?: string;
  atLeast: number;
}

/** Fulfilled by an event of type `event` on which every rule holds (no rules: any event of that type). */
export interface EventRequirement {
  id: string;
  event: string;
  rules: Rule[];
  label?: string;
  /** Only what happened within this window counts. */
  window?: TimeWindow;
  /** Only what happened after this other requirement (its id) was first met counts: "A before B". */
  after?: string;
  /** Count activities by name or kind instead of one event ("any 3 labs at 70% or more"). */
  activities?: ActivityPattern;
}

/** Whether a requirement uses time or counting, which needs all of a learner's events (replay.ts). */
export function usesHistory(req: Requirement): boolean {
  const e = req as Partial<EventRequirement>;
  return e.window !== undefined || e.after !== undefined || e.activities !== undefined;
}

/** Fulfilled by a live credential of template `badge` for the same person (seen as a `badge.awarded` event). */
export interface BadgeRequirement {
  id: string;
  badge: string;
  label?: string;
}

export type Requirement = EventRequirement | BadgeRequirement;

/**
 * Any one requirement fulfils its group (or any `atLeast` of them: "any 3 of the 5 labs");
 * every group must be fulfilled.
 */
export interface RequirementGroup {
  requirements: Requirement[];
  /** How many of the requirements fulfil the group: 1 (the default) up to all of them. */
  atLeast?: number;
}

/** How many requirements a group needs (1 unless it says more, never more than it has). */
export const neededIn = (group: RequirementGroup): number =>
  Math.max(1, Math.min(group.atLeast ?? 1, group.requirements.length || 1));

/** When an event matches `event` + `rules`, the requirements listed in `resets` lose their fulfilment. */
export interface Penalty {
  id: string;
  event: string;
  rules: Rule[];
  resets: string[];
}

/** The parts of a badge template the engine reads. */
export interface TemplateRules {
  groups: readonly RequirementGroup[];
  penalties?: readonly Penalty[];
}

/**
 * A stored learning event as a plain object. Rule paths start here: `type`, `course.id`,
 * `user.id`, `data.activityId`, `data.percent`, …
 */
export interface LearningEventLike {
  type: string;
  id?: string;
  occurredAt?: string;
  platform?: string;
  course?: { id: string; [key: string]: unknown };
  user?: { id?: string; email?: string; name?: string; [key: string]: unknown };
  data?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A requirement as the admin API takes it: the id is optional until `assignRequirementIds`. */
export type RequirementInput =
  | {
      id?: string;
      event: string;
      rules: Rule[];
      label?: string;
      window?: TimeWindow;
      after?: string;
      activities?: ActivityPattern;
    }
  | { id?: string; badge: string; label?: string };

export interface RequirementGroupInput {
  requirements: RequirementInput[];
  atLeast?: number;
}

export interface PenaltyInput {
  id?: string;
  event: string;
  rules: Rule[];
  resets: string[];
}

export function isBadgeRequirement(req: Requirement): req is BadgeRequirement {
  return typeof (req as Partial<BadgeRequirement>).badge === 'string';
}

/**
 * Levels (tiers) of one badge: "Bronze at 60%, Silver at 75%, Gold at 90% on the final exam". Each
 * step is its own achievement; a learner holds the highest step reached. The score is the
 * `data.percent` of the activity's grade events (`activity.grade.updated` with that
 * `data.activityId`), or of the course grade (`course.grade.updated`) when `activityId` is null.
 */
export interface LevelStep {
  id: string;
  name: string;
  /** The lowest percentage that reaches this step. */
  min: number;
  /** Its own picture; the badge's picture when absent. */
  imageId?: string | null;
}

export interface Levels {
  activityId: string | null;
  /** Lowest first; each `min` higher than the one before. */
  steps: LevelStep[];
}

/**
 * What a regrade that makes a met requirement fail does: nothing (a met requirement stays met),
 * progress falls back, or progress falls back and a live credential is revoked after `graceDays`
 * unless the grade comes back first.
 */
export type RegradePolicy = 'none' | 'fallback' | 'revoke';
export const REGRADE_POLICIES: readonly RegradePolicy[] = ['none', 'fallback', 'revoke'];

export interface Regrade {
  policy: RegradePolicy;
  /** Days between the fall-back and the revocation (policy `revoke`); may be fractional. */
  graceDays: number;
}

/** A learner's score on the levels' measure: the best, and the latest by the LMS's time. */
export interface LevelMeasure {
  best: number | null;
  latest: number | null;
  latestAt: string | null;
}
