/**
 * Levels (tiers) of a badge, pure: which score an event gives the levels' measure, which step a
 * score reaches, and the ladder a page shows. No I/O.
 */
import { readPath } from './path.js';
import type { LearningEventLike, LevelMeasure, LevelStep, Levels, Regrade, RegradePolicy } from './types.js';

/** The percentage `event` gives the levels' measure, or null when it is not a grade of it. */
export function levelScoreOf(levels: Levels, event: LearningEventLike): number | null {
  if (levels.activityId === null) {
    if (event.type !== 'course.grade.updated') return null;
  } else {
    if (event.type !== 'activity.grade.updated') return null;
    const activity = readPath(event, 'data.activityId');
    if (!activity.found || activity.value !== levels.activityId) return null;
  }
  const percent = readPath(event, 'data.percent');
  return percent.found && typeof percent.value === 'number' && Number.isFinite(percent.value)
    ? percent.value
    : null;
}

export const EMPTY_MEASURE: LevelMeasure = { best: null, latest: null, latestAt: null };

/**
 * The measure after a grade of `score` given at `at` (the LMS's time): the best keeps the highest
 * ever, the latest the one the LMS gave last, so a late delivery of an older grade changes nothing
 * and the same event twice changes nothing either. Equal times: the one applied last wins.
 */
export function updateMeasure(
  measure: LevelMeasure | null | undefined,
  score: number,
  at: string,
): LevelMeasure {
  const m = measure ?? EMPTY_MEASURE;
  const newer = m.latestAt === null || Date.parse(at) >= Date.parse(m.latestAt);
  return {
    best: m.best === null ? score : Math.max(m.best, score),
    latest: newer ? score : m.latest,
    latestAt: newer ? at : m.latestAt,
  };
}

/**
 * The score levels are judged on: the best ever, unless regrades count (policy `fallback` or
 * `revoke`), where the grade the LMS holds now decides.
 */
export function scoreFor(
  measure: LevelMeasure | null | undefined,
  policy: RegradePolicy = 'none',
): number | null {
  if (!measure) return null;
  return policy === 'none' ? measure.best : measure.latest;
}

/** The highest step `score` reaches, or null. */
export function levelReached(levels: Levels, score: number | null): LevelStep | null {
  if (score === null) return null;
  let reached: LevelStep | null = null;
  for (const step of levels.steps) if (score >= step.min) reached = step;
  return reached;
}

/** A step's place on the ladder (0 = lowest), or -1 for an id the ladder does not have. */
export function levelRank(levels: Levels, id: string | null | undefined): number {
  return id ? levels.steps.findIndex((s) => s.id === id) : -1;
}

/** How far `score` is towards the first step, 0 to 1 (1 once a step is reached). */
export function levelShare(levels: Levels, score: number | null): number {
  const first = levels.steps[0];
  if (!first || score === null) return 0;
  if (score >= first.min) return 1;
  return first.min > 0 ? Math.max(0, score / first.min) : 1;
}

export type LadderRung = {
  id: string;
  name: string;
  min: number;
  /** `held`: the learner's credential; `reached`: below it (or superseded by it); `next`: the next to reach. */
  state: 'held' | 'reached' | 'next' | 'ahead';
};

/**
 * The ladder as a page shows it, highest first: the step whose credential the learner holds, the
 * ones below it, the next one up, and the rest. Without a held credential, the step the score
 * reaches counts as held only if `heldId` is undefined (a preview); otherwise nothing is held.
 */
export function ladderOf(levels: Levels, heldId: string | null, score: number | null): LadderRung[] {
  const held = levelRank(levels, heldId);
  const rungs = levels.steps.map((step, i): LadderRung => ({
    id: step.id,
    name: step.name,
    min: step.min,
    state: i === held ? 'held' : i < held || (score !== null && score >= step.min) ? 'reached' : 'ahead',
  }));
  const next = rungs.find((r) => r.state === 'ahead');
  if (next) next.state = 'next';
  return rungs.reverse();
}

/** The regrade policy a template carries (none when it says nothing). */
export const regradeOf = (regrade: Regrade | null | undefined): Regrade =>
  regrade ?? { policy: 'none', graceDays: 0 };
