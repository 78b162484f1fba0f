/**
 * Deciding what one learning event does to a learner's progress on one badge template.
 * Everything here is pure: the caller loads the template and the learner's fulfilled
 * requirement ids, calls `applyEvent`, and stores the result atomically.
 */
import { readPath } from './path.js';
import type {
  EventRequirement,
  LearningEventLike,
  Penalty,
  Requirement,
  RequirementGroup,
  Rule,
  TemplateRules,
} from './types.js';
import { isBadgeRequirement, neededIn } from './types.js';

/** JSON-style deep equality: primitives strictly (no coercion), arrays by order, objects by own keys. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keysA = Object.keys(ra);
  const keysB = Object.keys(rb);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && deepEqual(ra[k], rb[k]));
}

/**
 * Orders two values for gt/gte/lt/lte: both numbers, or both strings (by UTF-16 code
 * units, not locale, so ISO dates in one format compare chronologically). Anything else,
 * including a number against a numeric string, is not comparable.
 */
function compare(actual: unknown, expected: unknown): number | null {
  if (typeof actual === 'number' && typeof expected === 'number') {
    if (Number.isNaN(actual) || Number.isNaN(expected)) return null;
    return actual < expected ? -1 : actual > expected ? 1 : 0;
  }
  if (typeof actual === 'string' && typeof expected === 'string') {
    return actual < expected ? -1 : actual > expected ? 1 : 0;
  }
  return null;
}

/** Whether `rule` holds on `event`. On a missing path only `exists: false` and `ne` hold. */
export function ruleHolds(rule: Rule, event: LearningEventLike): boolean {
  const { found, value: actual } = readPath(event, rule.path);
  if (!found) {
    return rule.op === 'ne' || (rule.op === 'exists' && rule.value === false);
  }
  switch (rule.op) {
    case 'eq':
      return deepEqual(actual, rule.value);
    case 'ne':
      return !deepEqual(actual, rule.value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const c = compare(actual, rule.value);
      if (c === null) return false;
      if (rule.op === 'gt') return c > 0;
      if (rule.op === 'gte') return c >= 0;
      if (rule.op === 'lt') return c < 0;
      return c <= 0;
    }
    case 'in':
      return Array.isArray(rule.value) && rule.value.some((candidate) => deepEqual(actual, candidate));
    case 'exists':
      return rule.value === true;
    default:
      // An operator the engine does not know (stored data older or newer than this code) never holds.
      return false;
  }
}

/** Event type equal and every rule holding; an empty rule list matches every event of the type. */
function conditionMatches(eventType: string, rules: readonly Rule[], event: LearningEventLike): boolean {
  return event.type === eventType && rules.every((rule) => ruleHolds(rule, event));
}

/**
 * Whether `event` fulfils `req`. A badge requirement is fulfilled by the `badge.awarded`
 * event of the named template (the caller makes sure it is the same person's).
 */
export function requirementMatches(req: Requirement, event: LearningEventLike): boolean {
  if (isBadgeRequirement(req)) {
    if (event.type !== 'badge.awarded') return false;
    const templateId = readPath(event, 'data.templateId');
    return templateId.found && templateId.value === req.badge;
  }
  return conditionMatches((req as EventRequirement).event, req.rules ?? [], event);
}

/** Whether `event` triggers `penalty`. */
export function penaltyMatches(penalty: Penalty, event: LearningEventLike): boolean {
  return conditionMatches(penalty.event, penalty.rules ?? [], event);
}

export interface ApplyResult {
  /** Requirement ids this event fulfilled that were not fulfilled before, in template order. */
  newlyFulfilled: string[];
  /** Requirement ids that were fulfilled before and were undone by a penalty. */
  reset: string[];
  /** The learner's fulfilled requirement ids after the event. */
  fulfilled: string[];
  /** Ids of the penalties the event triggered (even if they had nothing to undo), for the audit trail. */
  penaltiesApplied: string[];
}

/**
 * What `event` does to the fulfilled set of one learner on one template.
 *
 * Order: when the same event both fulfils a requirement and triggers a penalty that
 * resets it, the penalty wins and the requirement ends (or stays) unfulfilled. This is
 * the same outcome as evaluating requirements first and penalties after (Open edX's
 * order). Applying penalties first would let the very event an admin marked as
 * "undo this" re-fulfil the requirement, e.g. requirement "Quiz 3 graded" with penalty
 * "Quiz 3 below 50% resets it": a 40% would then count as progress and could even
 * complete the badge. Penalties and requirements that touch different ids do not
 * interact, so the order only matters in that overlap.
 *
 * Ids in `fulfilled` that the template no longer has are kept as they are: dropping
 * data is the caller's decision, and `isComplete` ignores them anyway.
 */
export function applyEvent(
  template: TemplateRules,
  fulfilled: ReadonlySet<string> | readonly string[],
  event: LearningEventLike,
): ApplyResult {
  const before = [...new Set(fulfilled)];
  const beforeSet = new Set(before);

  const penaltiesApplied: string[] = [];
  const undone = new Set<string>();
  for (const penalty of template.penalties ?? []) {
    if (!penaltyMatches(penalty, event)) continue;
    penaltiesApplied.push(penalty.id);
    for (const id of penalty.resets) undone.add(id);
  }

  const newlyFulfilled: string[] = [];
  for (const group of template.groups) {
    for (const req of group.requirements) {
      if (beforeSet.has(req.id) || undone.has(req.id) || newlyFulfilled.includes(req.id)) continue;
      if (requirementMatches(req, event)) newlyFulfilled.push(req.id);
    }
  }

  const reset = before.filter((id) => undone.has(id));
  const after = [...before.filter((id) => !undone.has(id)), ...newlyFulfilled];
  return { newlyFulfilled, reset, fulfilled: after, penaltiesApplied };
}

function asSet(fulfilled: ReadonlySet<string> | readonly string[]): ReadonlySet<string> {
  return fulfilled instanceof Set ? fulfilled : new Set(fulfilled as readonly string[]);
}

export interface GroupStatus {
  met: boolean;
  /** How many fulfilled requirements the group needs (`atLeast`, 1 by default). */
  needed: number;
  /** The first fulfilled requirement of the group, in the group's order, or null. */
  metBy: string | null;
  /** Every fulfilled requirement of the group, in the group's order. */
  fulfilled: string[];
}

/** Per group: whether it is met and by which requirement (for progress pages). */
export function groupStatus(
  groups: readonly RequirementGroup[],
  fulfilled: ReadonlySet<string> | readonly string[],
): GroupStatus[] {
  const done = asSet(fulfilled);
  return groups.map((group) => {
    const ids = group.requirements.map((r) => r.id).filter((id) => done.has(id));
    const needed = neededIn(group);
    return { met: ids.length >= needed, needed, metBy: ids[0] ?? null, fulfilled: ids };
  });
}

/** Every group has a fulfilled requirement. A template without groups is never complete. */
export function isComplete(
  groups: readonly RequirementGroup[],
  fulfilled: ReadonlySet<string> | readonly string[],
): boolean {
  return groups.length > 0 && groupStatus(groups, fulfilled).every((g) => g.met);
}

/**
 * How far the learner is, from 0 to 1 (0 for a template without groups): each group counts equally,
 * a group of "any N" by the share of its N already fulfilled ("2 of 3 labs" is two thirds of it).
 */
export function progressFraction(
  groups: readonly RequirementGroup[],
  fulfilled: ReadonlySet<string> | readonly string[],
  /** Shares (0 to 1) of requirements part-way met, such as 2 of 3 labs counted (history.ts). */
  partial: Readonly<Record<string, number>> = {},
): number {
  if (groups.length === 0) return 0;
  const shares = groupStatus(groups, fulfilled).map((g, i) => {
    const part = groups[i]!.requirements.filter(
      (r) => !g.fulfilled.includes(r.id) && Object.prototype.hasOwnProperty.call(partial, r.id),
    ).reduce((sum, r) => sum + Math.max(0, Math.min(1, partial[r.id]!)), 0);
    return Math.min(g.fulfilled.length + part, g.needed) / g.needed;
  });
  return shares.reduce((a, b) => a + b, 0) / groups.length;
}
