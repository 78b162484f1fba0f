/**
 * One event applied to one learner's state on one badge, with everything a badge may carry beyond
 * its groups: penalties, regrades (by the template's policy) and levels. Pure; the live pipeline
 * (src/progress/processBatch.ts) and the recalculation (src/progress/recalculate.ts) both use it,
 * so stored events recounted give what the live pipeline gave.
 */
import { applyEvent, groupStatus, isComplete } from './evaluate.js';
import { levelReached, levelScoreOf, levelShare, regradeOf, scoreFor, updateMeasure } from './levels.js';
import { confirmedBy, regradedBy, subjectOf } from './regrade.js';
import type { LearningEventLike, LevelMeasure, LevelStep, Levels, Regrade, TemplateRules } from './types.js';

export type StepTemplate = TemplateRules & { levels?: Levels | null; regrade?: Regrade | null };

export type StepFulfilment = {
  requirementId: string;
  at: Date;
  eventId: string | null;
  subject?: string;
  confirmedAt?: Date;
};

export type StepState = {
  fulfilled: string[];
  fulfilments: StepFulfilment[];
  measure: LevelMeasure | null;
};

export type StepResult = {
  state: StepState;
  newlyFulfilled: string[];
  /** Undone by a penalty or, when the policy counts regrades, by a lower grade. */
  reset: string[];
  /** The part of `reset` a regrade undid. */
  regraded: string[];
  /** Anything stored moved (a fulfilment, a confirmation, the measure). */
  changed: boolean;
};

const hasLevels = (t: StepTemplate): t is StepTemplate & { levels: Levels } =>
  Boolean(t.levels && t.levels.steps.length > 0);

/**
 * Applies `event` (given at `occurredAt` by the LMS). `alsoMet`: requirements met from outside the
 * event (a held required badge), added unless the event undid them.
 */
export function stepLearner(
  template: StepTemplate,
  state: StepState,
  event: LearningEventLike,
  meta: { eventId: string | null; occurredAt: Date },
  alsoMet: readonly string[] = [],
): StepResult {
  const policy = regradeOf(template.regrade).policy;
  const base = applyEvent(template, state.fulfilled, event);
  const regraded =
    policy === 'none'
      ? []
      : regradedBy(template.groups, state.fulfilments, event, meta.occurredAt).filter(
          (id) => !base.reset.includes(id),
        );
  const reset = [...base.reset, ...regraded];
  const newly = [
    ...base.newlyFulfilled,
    ...alsoMet.filter(
      (id) => !state.fulfilled.includes(id) && !reset.includes(id) && !base.newlyFulfilled.includes(id),
    ),
  ];
  let fulfilments = state.fulfilments.filter((f) => !reset.includes(f.requirementId));
  const requirement = (id: string) => template.groups.flatMap((g) => g.requirements).find((r) => r.id === id);
  let changed = reset.length > 0 || newly.length > 0;
  if (policy !== 'none') {
    // A met requirement met again later: a lower grade before this one no longer undoes it.
    const again = confirmedBy(template.groups, state.fulfilled, event).filter((id) => !reset.includes(id));
    fulfilments = fulfilments.map((f) => {
      if (!again.includes(f.requirementId)) return f;
      const last = (f.confirmedAt ?? f.at).getTime();
      if (meta.occurredAt.getTime() <= last) return f;
      changed = true;
      return { ...f, confirmedAt: meta.occurredAt, subject: subjectOf(requirement(f.requirementId)!, event) };
    });
  }
  for (const requirementId of newly) {
    const req = requirement(requirementId);
    fulfilments.push({
      requirementId,
      at: meta.occurredAt,
      eventId: meta.eventId,
      ...(policy !== 'none' && req ? { subject: subjectOf(req, event) } : {}),
    });
  }
  let measure = state.measure;
  if (hasLevels(template)) {
    const score = levelScoreOf(template.levels, event);
    if (score !== null) {
      const next = updateMeasure(measure, score, meta.occurredAt.toISOString());
      if (JSON.stringify(next) !== JSON.stringify(measure)) changed = true;
      measure = next;
    }
  }
  const fulfilled = [...state.fulfilled.filter((id) => !reset.includes(id)), ...newly];
  return {
    state: { fulfilled, fulfilments, measure },
    newlyFulfilled: newly,
    reset: reset.filter((id) => state.fulfilled.includes(id)),
    regraded: regraded.filter((id) => state.fulfilled.includes(id)),
    changed,
  };
}

/** The step the learner's score reaches now, or null (also for a badge without levels). */
export function levelOf(template: StepTemplate, measure: LevelMeasure | null | undefined): LevelStep | null {
  if (!hasLevels(template)) return null;
  return levelReached(template.levels, scoreFor(measure, regradeOf(template.regrade).policy));
}

/**
 * Earned: every group met and, with levels, a step reached. A badge of levels alone (no groups)
 * is earned by reaching its first step; a badge with neither is never earned.
 */
export function completeOf(
  template: StepTemplate,
  fulfilled: readonly string[],
  measure: LevelMeasure | null | undefined,
): boolean {
  if (!hasLevels(template)) return isComplete(template.groups, fulfilled);
  const groupsMet = template.groups.length === 0 || isComplete(template.groups, fulfilled);
  return groupsMet && levelOf(template, measure) !== null;
}

/**
 * How far the learner is, 0 to 1: each group counts equally (an "any N" group by its share of N)
 * and, with levels, the way to the first step counts as one more group.
 */
export function fractionOf(
  template: StepTemplate,
  fulfilled: readonly string[],
  measure: LevelMeasure | null | undefined,
): number {
  const shares = groupStatus(template.groups, fulfilled).map(
    (g) => Math.min(g.fulfilled.length, g.needed) / g.needed,
  );
  if (hasLevels(template))
    shares.push(levelShare(template.levels, scoreFor(measure, regradeOf(template.regrade).policy)));
  return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : 0;
}
