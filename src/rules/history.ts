/**
 * Requirements that need a learner's whole history rather than one event: time windows ("between
 * two dates", "within 30 days of enrolment", "before the course ends"), order ("A before B") and
 * counts of activities by name ("any 3 labs at 70% or more"). Everything is judged by the time the
 * LMS says each thing happened (`occurredAt`), over the learner's events sorted by it, so the same
 * events give the same result whatever order (and however late, or how many times) they arrived.
 * Pure: the caller reads the events and stores the result.
 */
import { penaltyMatches, requirementMatches } from './evaluate.js';
import { readPath } from './path.js';
import type {
  ActivityPattern,
  EventRequirement,
  LearningEventLike,
  Penalty,
  RequirementGroup,
  TimeWindow,
} from './types.js';
import { isBadgeRequirement } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** One stored event with the LMS's time and Laurel's. */
export interface TimedEvent {
  event: LearningEventLike;
  eventId: string;
  occurredAt: Date;
  receivedAt: Date;
}

/** What the LMS told Laurel about an activity (its feed, its gradebook). */
export interface ActivityInfo {
  name?: string | null;
  kind?: string | null;
  /** Its tags: the LMS's (Moodle's tags, Canvas's assignment group) and the instructor's. */
  tags?: readonly string[] | null;
}

/** What the rules may know beyond the learner's own events. */
export interface HistoryEnvironment {
  /** The course's end date, when Laurel knows it (a template of one course). */
  courseEndsAt?: Date | null;
  /**
   * The end date of the course an event names (by the event's `course.id`), for a template of every
   * course of a platform; wins over `courseEndsAt` when it answers a date.
   */
  courseEndFor?: (courseId: string) => Date | null | undefined;
  /** Activities by id, for names and kinds the events themselves do not carry. */
  activity?: (id: string) => ActivityInfo | undefined;
}

export interface HistoryFulfilment {
  requirementId: string;
  at: Date;
  eventId: string | null;
}

export interface HistoryResult {
  fulfilled: string[];
  fulfilments: HistoryFulfilment[];
  /** Per counting requirement: the activity ids counted so far, in the order they counted. */
  counted: Record<string, string[]>;
  /** When the learner first enrolled (the earliest `enrollment.created`), if an event says. */
  enrolledAt: Date | null;
}

/**
 * Whether `text` matches a wildcard `pattern` (`*` any run, `?` one character), both already
 * folded. Linear in practice and at worst |pattern| × |text| steps, with no backtracking blow-up:
 * only the last `*` is ever returned to (the classic greedy wildcard match), so no name or pattern
 * can make it slow, unlike a regular expression built from user input.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  let pi = 0;
  let ti = 0;
  let star = -1;
  let resume = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === t[ti]))) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++resume;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

const folded = new Map<string, string>();

/** Case- and width-insensitive form of a name ("Lab 1" and "LAB 1" are the same); remembered, as names repeat. */
export function foldName(s: string): string {
  let f = folded.get(s);
  if (f === undefined) {
    f = s.normalize('NFKC').toLocaleLowerCase('und').trim();
    // A bounded memo: a course has a few hundred names, and patterns fewer.
    if (folded.size >= 5000) folded.clear();
    folded.set(s, f);
  }
  return f;
}

/** Whether a pattern's name test is a wildcard (`*`, `?`) rather than "contains". */
export const isWildcard = (name: string): boolean => /[*?]/.test(name);

/**
 * Whether an activity matches the pattern: its name contains the pattern's text (or matches its
 * wildcard), and its kind is the pattern's, case-insensitively. A name or kind the pattern asks
 * about and Laurel does not know never matches.
 */
export function activityMatches(pattern: Omit<ActivityPattern, 'atLeast'>, activity: ActivityInfo): boolean {
  if (pattern.name !== undefined && pattern.name.trim() !== '') {
    if (!activity.name) return false;
    const name = foldName(activity.name);
    const wanted = foldName(pattern.name);
    if (isWildcard(wanted) ? !wildcardMatch(wanted, name) : !name.includes(wanted)) return false;
  }
  if (pattern.kind !== undefined && pattern.kind.trim() !== '') {
    if (!activity.kind || foldName(activity.kind) !== foldName(pattern.kind)) return false;
  }
  if (pattern.tag !== undefined && pattern.tag.trim() !== '') {
    const wanted = foldName(pattern.tag);
    if (!activity.tags?.some((t) => foldName(t) === wanted)) return false;
  }
  return true;
}

/** What is known of the event's activity: the event's own name for it, else the environment's. */
function activityOf(
  event: LearningEventLike,
  env: HistoryEnvironment,
): { id: string; info: ActivityInfo } | null {
  const id = readPath(event, 'data.activityId');
  if (!id.found || typeof id.value !== 'string') return null;
  const known = env.activity?.(id.value) ?? {};
  const named = ['data.activityName', 'data.activityTitle']
    .map((p) => readPath(event, p))
    .find((r) => r.found && typeof r.value === 'string' && r.value !== '');
  const kind = readPath(event, 'data.activityKind');
  return {
    id: id.value,
    info: {
      name: (named?.value as string | undefined) ?? known.name ?? null,
      kind: known.kind ?? (kind.found && typeof kind.value === 'string' ? kind.value : null),
      tags: known.tags ?? null,
    },
  };
}

/** The end date of the course an event happened in, as far as Laurel knows it (null: none). */
export function courseEndOf(event: LearningEventLike | undefined, env: HistoryEnvironment): Date | null {
  const courseId = event?.course?.id;
  const own = typeof courseId === 'string' && env.courseEndFor ? env.courseEndFor(courseId) : undefined;
  return own ?? env.courseEndsAt ?? null;
}

/**
 * Whether a moment falls inside the window. The start is inclusive, the end exclusive. A window
 * relative to enrolment needs the enrolment: without one it does not hold (nothing to count from).
 * "Before the course ends" holds strictly before the end date of the event's course (`event`, or
 * the environment's one course); a course end Laurel does not know limits nothing.
 */
export function windowHolds(
  window: TimeWindow | undefined,
  at: Date,
  enrolledAt: Date | null,
  env: HistoryEnvironment = {},
  event?: LearningEventLike,
): boolean {
  if (!window) return true;
  const t = at.getTime();
  if (window.from !== undefined && t < Date.parse(window.from)) return false;
  if (window.until !== undefined && t >= Date.parse(window.until)) return false;
  if (window.daysAfterEnrolment !== undefined) {
    if (!enrolledAt) return false;
    if (t > enrolledAt.getTime() + window.daysAfterEnrolment * DAY_MS) return false;
  }
  if (window.beforeCourseEnd) {
    const end = courseEndOf(event, env);
    if (end && t >= end.getTime()) return false;
  }
  return true;
}

const byTime = (a: TimedEvent, b: TimedEvent) =>
  a.occurredAt.getTime() - b.occurredAt.getTime() ||
  a.receivedAt.getTime() - b.receivedAt.getTime() ||
  (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);

/**
 * A learner's fulfilled requirements from their events, replayed in the order they happened.
 *
 * Per event: penalties first mark what they undo (a penalty wins over the same event, as in
 * `applyEvent`); then each requirement not yet met holds when the event matches its type and
 * rules, falls in its window, comes strictly after the first fulfilment of the requirement it must
 * follow, and, for a count, names a new matching activity, the requirement being met at the N-th.
 * The same event id twice counts once. Badge requirements are left to the caller, as the live
 * pipeline decides them by the credentials a learner holds.
 */
export function replayHistory(
  rules: { groups: readonly RequirementGroup[]; penalties?: readonly Penalty[] },
  events: readonly TimedEvent[],
  env: HistoryEnvironment = {},
): HistoryResult {
  const seen = new Set<string>();
  const ordered = [...events].sort(byTime).filter((e) => !seen.has(e.eventId) && seen.add(e.eventId));
  const enrolment = ordered.find((e) => e.event.type === 'enrollment.created');
  const enrolledAt = enrolment?.occurredAt ?? null;

  const requirements = rules.groups
    .flatMap((g) => g.requirements)
    .filter((r): r is EventRequirement => !isBadgeRequirement(r));
  const firstMet = new Map<string, HistoryFulfilment>();
  const counted = new Map<string, string[]>();

  for (const stored of ordered) {
    const undone = new Set<string>();
    for (const penalty of rules.penalties ?? [])
      if (penaltyMatches(penalty, stored.event)) for (const id of penalty.resets) undone.add(id);
    for (const id of undone) {
      firstMet.delete(id);
      counted.delete(id);
    }
    const metNow: HistoryFulfilment[] = [];
    for (const req of requirements) {
      if (firstMet.has(req.id) || undone.has(req.id)) continue;
      if (!requirementMatches(req, stored.event)) continue;
      if (!windowHolds(req.window, stored.occurredAt, enrolledAt, env, stored.event)) continue;
      if (req.after !== undefined) {
        const before = firstMet.get(req.after);
        if (!before || before.at.getTime() >= stored.occurredAt.getTime()) continue;
      }
      if (req.activities) {
        const activity = activityOf(stored.event, env);
        if (!activity || !activityMatches(req.activities, activity.info)) continue;
        const list = counted.get(req.id) ?? [];
        if (!list.includes(activity.id)) list.push(activity.id);
        counted.set(req.id, list);
        if (list.length < req.activities.atLeast) continue;
      }
      metNow.push({ requirementId: req.id, at: stored.occurredAt, eventId: stored.eventId });
    }
    // Met by this event: visible to the next events only, so "after" is strictly after.
    for (const f of metNow) firstMet.set(f.requirementId, f);
  }

  const fulfilments = [...firstMet.values()].sort((a, b) => a.at.getTime() - b.at.getTime());
  return {
    fulfilled: fulfilments.map((f) => f.requirementId),
    fulfilments,
    counted: Object.fromEntries(counted),
    enrolledAt,
  };
}

/** Per counting requirement not yet met: the share of its N counted (for progress bars). */
export function partialShares(
  groups: readonly RequirementGroup[],
  counted: Readonly<Record<string, readonly string[]>>,
): Record<string, number> {
  const shares: Record<string, number> = {};
  for (const group of groups)
    for (const req of group.requirements) {
      const pattern = (req as Partial<EventRequirement>).activities;
      const list = Object.prototype.hasOwnProperty.call(counted, req.id) ? counted[req.id] : undefined;
      if (pattern && list) shares[req.id] = Math.min(list.length, pattern.atLeast) / pattern.atLeast;
    }
  return shares;
}
