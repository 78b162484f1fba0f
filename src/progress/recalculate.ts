import {
  completeOf,
  fractionOf,
  isBadgeRequirement,
  levelOf,
  partialShares,
  progressFraction,
  replayHistory,
  usesHistory,
  type HistoryEnvironment,
  type LearningEventLike,
  type LevelMeasure,
  type Levels,
  type Penalty,
  type Regrade,
  type RequirementGroup,
  type StepState,
  stepLearner,
} from '../rules/index.js';

/**
 * Recalculation, the pure part: one learner's progress on one badge computed afresh from the
 * stored events of its scope, in the order they happened. The I/O around it (reading events in
 * batches, writing progress, awarding) lives in recalculation.ts.
 */

export type StoredEvent = {
  event: LearningEventLike;
  eventId: string;
  occurredAt: Date;
  receivedAt: Date;
};

export type Fulfilment = {
  requirementId: string;
  at: Date;
  eventId: string | null;
  subject?: string;
  confirmedAt?: Date;
};

export type LearnerResult = {
  fulfilled: string[];
  fulfilments: Fulfilment[];
  /** Counts of activities: per counting requirement, the activity ids counted (history.ts). */
  counted: Record<string, string[]>;
  /** Met groups ÷ all groups, 0 to 1. */
  fraction: number;
  complete: boolean;
  /** A badge with levels: the score on its measure, and the step it reaches (null: none). */
  measure: LevelMeasure | null;
  level: string | null;
};

type Rules = {
  groups: RequirementGroup[];
  penalties: Penalty[];
  levels?: Levels | null;
  regrade?: Regrade | null;
};

/** A learner this close to a badge (met groups ÷ groups) is listed as "close" by a dry run. */
export const CLOSE_FRACTION = 0.5;

/**
 * Applies a learner's events to an empty state, oldest first (by when they happened, then when
 * they arrived), exactly as the live pipeline applies them one by one. Events received before
 * `since` (the learner's last revocation or expiry of this badge) are left out: those started the
 * learner again from nothing. Badge requirements hold while the learner holds a live credential of
 * the required badge (`heldBadges`, template ids), as in the live pipeline, whatever the
 * `badge.awarded` events say (a required badge may have been revoked since).
 */
export function evaluateLearner(
  rules: Rules,
  events: readonly StoredEvent[],
  heldBadges: ReadonlySet<string>,
  since: Date | null = null,
  /** What counts and windows may need beyond the events: activity names and kinds, the course's end. */
  env: HistoryEnvironment = {},
): LearnerResult {
  const ordered = events
    .filter((e) => e.event.type !== 'badge.awarded')
    .filter((e) => !since || e.receivedAt > since)
    .sort(
      (a, b) =>
        a.occurredAt.getTime() - b.occurredAt.getTime() || a.receivedAt.getTime() - b.receivedAt.getTime(),
    );
  let fulfilled: string[] = [];
  let fulfilments: Fulfilment[] = [];
  let measure: LevelMeasure | null = null;
  let counted: Record<string, string[]> = {};
  if (rules.groups.some((g) => g.requirements.some(usesHistory))) {
    // Counts, windows and order: judged over the whole history by when things happened.
    const history = replayHistory(rules, ordered, env);
    fulfilled = history.fulfilled;
    fulfilments = history.fulfilments;
    counted = history.counted;
  } else {
    let state: StepState = { fulfilled: [], fulfilments: [], measure: null };
    for (const stored of ordered)
      state = stepLearner(rules, state, stored.event, {
        eventId: stored.eventId,
        occurredAt: stored.occurredAt,
      }).state;
    fulfilled = state.fulfilled;
    measure = state.measure;
    fulfilments = [...state.fulfilments];
  }
  const latest = ordered.at(-1)?.occurredAt ?? null;
  for (const group of rules.groups)
    for (const req of group.requirements)
      if (isBadgeRequirement(req) && heldBadges.has(req.badge) && !fulfilled.includes(req.id)) {
        fulfilled.push(req.id);
        fulfilments.push({ requirementId: req.id, at: latest ?? new Date(0), eventId: null });
      }
  return {
    fulfilled,
    fulfilments,
    counted,
    fraction:
      Object.keys(counted).length && !rules.levels
        ? progressFraction(rules.groups, fulfilled, partialShares(rules.groups, counted))
        : fractionOf(rules, fulfilled, measure),
    complete: completeOf(rules, fulfilled, measure),
    measure,
    level: levelOf(rules, measure)?.id ?? null,
  };
}

export type Standing = 'holds' | 'would-earn' | 'blocked' | 'close' | 'far';

/**
 * Where a learner stands for a dry run: already holds the badge; would earn it now; has met it but
 * may not earn it again (revoked, re-earning not allowed); close (at least CLOSE_FRACTION of the
 * groups met); or further away.
 */
export function standingOf(
  result: Pick<LearnerResult, 'complete' | 'fraction'>,
  holds: boolean,
  mayEarn: boolean,
): Standing {
  if (holds) return 'holds';
  if (result.complete) return mayEarn ? 'would-earn' : 'blocked';
  return result.fraction >= CLOSE_FRACTION ? 'close' : 'far';
}
