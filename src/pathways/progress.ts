/**
 * A learner's progress on a pathway, pure: from the pathway's steps, the badge templates the learner
 * holds, and the steps already recorded as done. No I/O, no clock.
 *
 * A step is done when it was recorded done before (achievements stay, whatever an edit or a
 * revocation changed since), or when the learner holds enough of its badges (all, or any N) and every
 * prerequisite step is done. Steps are evaluated in order and prerequisites are earlier steps, so one
 * pass settles everything and the answer does not depend on the order in which badges arrived.
 */

export type StepInput = {
  id: string;
  templateIds: readonly string[];
  /** null = all of its badges. */
  atLeast: number | null;
  prerequisites: readonly string[];
  optional: boolean;
};

export type StepState = 'done' | 'available' | 'locked';

export type StepProgress = {
  id: string;
  state: StepState;
  /** How many of the step's badges the learner holds, and how many the step needs, of how many. */
  held: number;
  needed: number;
  total: number;
  /** The step's badges the learner holds. */
  heldTemplateIds: string[];
  /** When the step was recorded done (null while it is not, or when it is done only in this answer). */
  doneAt: Date | null;
  /** Prerequisites not done yet (what keeps a locked step locked). */
  waitingFor: string[];
  optional: boolean;
  /** The learner's badges already meet the step; only prerequisites hold it back. */
  metButLocked: boolean;
};

export type PathwayProgress = {
  steps: StepProgress[];
  requiredDone: number;
  requiredTotal: number;
  /** Required steps done, in percent (rounded down, 100 only when complete). */
  percent: number;
  complete: boolean;
  /** The step to work on next: the first available required step, else the first available optional one. */
  next: string | null;
  /** Steps done in this answer that were not recorded yet (to be recorded with the time). */
  newlyDone: string[];
};

/** How many of a step's badges it needs. */
export const neededOf = (step: Pick<StepInput, 'templateIds' | 'atLeast'>): number =>
  step.atLeast === null ? step.templateIds.length : Math.min(step.atLeast, step.templateIds.length);

export function pathwayProgress(
  steps: readonly StepInput[],
  held: ReadonlySet<string>,
  recorded: ReadonlyMap<string, Date>,
): PathwayProgress {
  const done = new Set<string>();
  const out: StepProgress[] = [];
  const newlyDone: string[] = [];
  for (const step of steps) {
    const heldTemplateIds = [...new Set(step.templateIds)].filter((id) => held.has(id));
    const needed = neededOf(step);
    const met = heldTemplateIds.length >= needed;
    // Only steps that exist (and come earlier) can hold a step back: a removed prerequisite frees it.
    const waitingFor = step.prerequisites.filter(
      (p) => !done.has(p) && out.some((earlier) => earlier.id === p),
    );
    const doneAt = recorded.get(step.id) ?? null;
    let state: StepState;
    if (doneAt || (met && waitingFor.length === 0)) {
      state = 'done';
      done.add(step.id);
      if (!doneAt) newlyDone.push(step.id);
    } else state = waitingFor.length ? 'locked' : 'available';
    out.push({
      id: step.id,
      state,
      held: heldTemplateIds.length,
      needed,
      total: step.templateIds.length,
      heldTemplateIds,
      doneAt,
      waitingFor: state === 'done' ? [] : waitingFor,
      optional: step.optional,
      metButLocked: state === 'locked' && met,
    });
  }
  const required = out.filter((s) => !s.optional);
  const requiredDone = required.filter((s) => s.state === 'done').length;
  const complete = required.length > 0 && requiredDone === required.length;
  const next =
    required.find((s) => s.state === 'available')?.id ??
    out.find((s) => s.optional && s.state === 'available')?.id ??
    null;
  return {
    steps: out,
    requiredDone,
    requiredTotal: required.length,
    percent: complete ? 100 : required.length ? Math.floor((100 * requiredDone) / required.length) : 0,
    complete,
    next,
    newlyDone,
  };
}

/**
 * Where a learner stands, for the instructor's count per step: the first required step not done
 * (available or locked), or 'done' once every required step is.
 */
export function currentStepOf(progress: PathwayProgress): string {
  if (progress.complete) return 'done';
  return progress.steps.find((s) => !s.optional && s.state !== 'done')?.id ?? 'done';
}
