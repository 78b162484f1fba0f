/**
 * Regrades, pure: whether a grade event takes back a requirement it (or an earlier grade of the
 * same thing) once met. A requirement's `eq`, `in` and `exists` rules say *what* is graded (the
 * activity, the course); its `gt gte lt lte ne` rules say *how well*. An event of the requirement's
 * type on which every "what" rule holds but a "how well" rule fails is a regrade of it.
 */
import { readPath } from './path.js';
import { requirementMatches, ruleHolds } from './evaluate.js';
import type { EventRequirement, LearningEventLike, Requirement, RequirementGroup, Rule } from './types.js';
import { isBadgeRequirement } from './types.js';

const IDENTITY_OPS = new Set(['eq', 'in', 'exists']);

const identityRules = (req: EventRequirement): Rule[] =>
  (req.rules ?? []).filter((r) => IDENTITY_OPS.has(r.op));
const scoreRules = (req: EventRequirement): Rule[] =>
  (req.rules ?? []).filter((r) => !IDENTITY_OPS.has(r.op));

/**
 * What an event says it grades, for one requirement: the values at the requirement's "what" paths
 * (for `in`, which of the listed activities). Two events with the same subject grade the same thing.
 */
export function subjectOf(req: Requirement, event: LearningEventLike): string {
  if (isBadgeRequirement(req)) return '';
  const values = identityRules(req).map((r) => {
    const found = readPath(event, r.path);
    return found.found ? found.value : null;
  });
  return JSON.stringify(values);
}

/** Whether `event` grades the same thing as `req` but no longer well enough. */
export function isRegradeOf(req: Requirement, event: LearningEventLike): boolean {
  if (isBadgeRequirement(req)) return false;
  const r = req as EventRequirement;
  if (event.type !== r.event || scoreRules(r).length === 0) return false;
  if (!identityRules(r).every((rule) => ruleHolds(rule, event))) return false;
  return !requirementMatches(r, event);
}

export type RegradeFulfilment = {
  requirementId: string;
  at: Date;
  /** What the fulfilling event graded (subjectOf); absent on fulfilments stored before regrades. */
  subject?: string;
  /** The LMS's time of the latest event that still met it. */
  confirmedAt?: Date;
};

/**
 * The fulfilled requirements `event` takes back: those it regrades, of the same subject, given
 * no earlier (by the LMS's time) than the grade that last met them, so a late delivery of an older
 * grade never undoes a newer one.
 */
export function regradedBy(
  groups: readonly RequirementGroup[],
  fulfilments: readonly RegradeFulfilment[],
  event: LearningEventLike,
  occurredAt: Date,
): string[] {
  const byId = new Map(fulfilments.map((f) => [f.requirementId, f]));
  const out: string[] = [];
  for (const group of groups)
    for (const req of group.requirements) {
      const held = byId.get(req.id);
      if (!held || !isRegradeOf(req, event)) continue;
      if (held.subject !== undefined && held.subject !== subjectOf(req, event)) continue;
      if (occurredAt.getTime() < (held.confirmedAt ?? held.at).getTime()) continue;
      out.push(req.id);
    }
  return out;
}

/** The fulfilled requirements `event` meets again (to move their `confirmedAt`). */
export function confirmedBy(
  groups: readonly RequirementGroup[],
  fulfilled: readonly string[],
  event: LearningEventLike,
): string[] {
  const done = new Set(fulfilled);
  return groups.flatMap((g) =>
    g.requirements.filter((req) => done.has(req.id) && requirementMatches(req, event)).map((req) => req.id),
  );
}
