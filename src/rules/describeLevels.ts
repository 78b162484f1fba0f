/**
 * Levels and regrade policies in words, for the builder's summary and the learner page. Pure.
 */
import type { DescribeContext } from './describe.js';
import type { Levels, Regrade } from './types.js';

const pct = (n: number) => `${Math.round(n * 100) / 100}%`;

/** What the levels are measured on: "Final exam" (its title when known) or "the course grade". */
export function levelsMeasureName(
  levels: Levels,
  ctx: DescribeContext = {},
  unknown = 'an activity of this course',
): string {
  if (levels.activityId === null) return 'the course grade';
  const titles = ctx.activityTitles;
  const title =
    titles instanceof Map
      ? titles.get(levels.activityId)
      : titles && Object.prototype.hasOwnProperty.call(titles, levels.activityId)
        ? (titles as Record<string, string>)[levels.activityId]
        : undefined;
  return title ?? unknown;
}

const ladder = (levels: Levels) => levels.steps.map((s) => `${s.name} at ${pct(s.min)} or more`).join(', ');

/** "Levels by the score on Final exam: Bronze at 60% or more, Silver at 75% or more; the highest reached is held." */
export function describeLevels(levels: Levels | null | undefined, ctx: DescribeContext = {}): string | null {
  if (!levels?.steps.length) return null;
  const on = levelsMeasureName(levels, ctx, `activity “${levels.activityId ?? ''}”`);
  return `Levels by the score on ${on}: ${ladder(levels)}; each level is its own badge, and a learner holds the highest reached (a lower one is marked superseded, not revoked).`;
}

/** The learner's words: "Levels by your score on Final exam: Bronze at 60% or more, …". */
export function describeLevelsForLearner(
  levels: Levels | null | undefined,
  ctx: DescribeContext = {},
): string | null {
  if (!levels?.steps.length) return null;
  return `Levels by your score on ${levelsMeasureName(levels, ctx)}: ${ladder(levels)}. You keep the highest level you reach.`;
}

const days = (n: number) => (n === 1 ? '1 day' : `${Math.round(n * 100) / 100} days`);

/** What a regrade does, in the instructor's words (null for the default, nothing). */
export function describeRegrade(regrade: Regrade | null | undefined): string | null {
  switch (regrade?.policy ?? 'none') {
    case 'fallback':
      return 'If a grade is lowered so that a condition no longer holds, progress falls back; a badge already awarded stays.';
    case 'revoke':
      return regrade!.graceDays > 0
        ? `If a grade is lowered so that a condition no longer holds, progress falls back, and a badge already awarded is revoked after ${days(regrade!.graceDays)} unless the grade comes back; the learner is told by e-mail, and earns it again when the grade comes back.`
        : 'If a grade is lowered so that a condition no longer holds, progress falls back and a badge already awarded is revoked at once; the learner is told by e-mail, and earns it again when the grade comes back.';
    default:
      return null;
  }
}

/** The same for the learner page. */
export function describeRegradeForLearner(regrade: Regrade | null | undefined): string | null {
  switch (regrade?.policy ?? 'none') {
    case 'fallback':
      return 'If a grade that counts is lowered, your progress goes back; a badge you earned stays.';
    case 'revoke':
      return `If a grade that counts is lowered below what is needed, your badge is revoked${regrade!.graceDays > 0 ? ` after ${days(regrade!.graceDays)}` : ''} unless the grade comes back; you can earn it again.`;
    default:
      return null;
  }
}
