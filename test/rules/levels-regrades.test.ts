import {
  completeOf,
  fractionOf,
  ladderOf,
  levelOf,
  levelReached,
  levelScoreOf,
  levelsSchema,
  regradeSchema,
  stepLearner,
  updateMeasure,
  formatIssues,
  type Levels,
  type StepState,
  type StepTemplate,
} from '../../src/rules/index.js';

const levels: Levels = {
  activityId: 'final-exam',
  steps: [
    { id: 'bronze', name: 'Bronze', min: 60 },
    { id: 'silver', name: 'Silver', min: 75 },
    { id: 'gold', name: 'Gold', min: 90 },
  ],
};
const grade = (percent: number, activityId = 'final-exam') => ({
  type: 'activity.grade.updated',
  data: { activityId, percent },
});
const at = (minute: number) => new Date(Date.UTC(2026, 10, 2, 10, minute));
const empty: StepState = { fulfilled: [], fulfilments: [], measure: null };

/** Applies grades in the given order; each is [percent, minute the LMS says it happened]. */
function run(template: StepTemplate, grades: [number, number, string?][], start = empty) {
  let state = start;
  grades.forEach(([percent, minute, activity], i) => {
    state = stepLearner(template, state, grade(percent, activity), {
      eventId: `e${i}`,
      occurredAt: at(minute),
    }).state;
  });
  return state;
}

describe('levels (tiers)', () => {
  const tiered: StepTemplate = { groups: [], penalties: [], levels };

  it('reads the score only from a grade of the measured activity', () => {
    expect(levelScoreOf(levels, grade(80))).toBe(80);
    expect(levelScoreOf(levels, grade(80, 'quiz-1'))).toBeNull();
    expect(
      levelScoreOf(levels, { type: 'activity.completed', data: { activityId: 'final-exam', percent: 80 } }),
    ).toBeNull();
    expect(
      levelScoreOf(levels, {
        type: 'activity.grade.updated',
        data: { activityId: 'final-exam', percent: '80' },
      }),
    ).toBeNull();
    const course: Levels = { ...levels, activityId: null };
    expect(levelScoreOf(course, { type: 'course.grade.updated', data: { percent: 91 } })).toBe(91);
    expect(levelScoreOf(course, grade(91))).toBeNull();
  });

  it.each([
    [59.99, null],
    [60, 'bronze'],
    [74, 'bronze'],
    [75, 'silver'],
    [89.5, 'silver'],
    [90, 'gold'],
    [100, 'gold'],
  ])('a score of %p reaches %p', (score, expected) => {
    expect(levelReached(levels, score)?.id ?? null).toBe(expected);
  });

  it('holds the highest level reached: a lower grade afterwards does not lower it (policy none)', () => {
    const state = run(tiered, [
      [65, 1],
      [92, 2],
      [70, 3],
    ]);
    expect(state.measure).toEqual({ best: 92, latest: 70, latestAt: at(3).toISOString() });
    expect(levelOf(tiered, state.measure)?.id).toBe('gold');
    expect(completeOf(tiered, state.fulfilled, state.measure)).toBe(true);
  });

  it('with regrades counted, the level follows the grade the LMS gave last, whatever the delivery order', () => {
    const counted: StepTemplate = { ...tiered, regrade: { policy: 'fallback', graceDays: 0 } };
    const inOrder = run(counted, [
      [92, 1],
      [70, 5],
    ]);
    // The 92 of minute 1 delivered after the 70 of minute 5: the 70, given last, decides.
    const reordered = run(counted, [
      [70, 5],
      [92, 1],
    ]);
    expect(levelOf(counted, inOrder.measure)?.id).toBe('bronze');
    expect(levelOf(counted, reordered.measure)?.id).toBe('bronze');
    expect(reordered.measure).toEqual(inOrder.measure);
  });

  it('counts the same event delivered twice once', () => {
    const once = updateMeasure(null, 80, at(1).toISOString());
    expect(updateMeasure(once, 80, at(1).toISOString())).toEqual(once);
  });

  it('is not earned before the first level; progress is the way to it', () => {
    const state = run(tiered, [[30, 1]]);
    expect(completeOf(tiered, state.fulfilled, state.measure)).toBe(false);
    expect(fractionOf(tiered, state.fulfilled, state.measure)).toBeCloseTo(0.5);
  });

  it('with groups, needs them met as well as a level', () => {
    const both: StepTemplate = {
      groups: [{ requirements: [{ id: 'done', event: 'course.completed', rules: [] }] }],
      penalties: [],
      levels,
    };
    const graded = run(both, [[95, 1]]);
    expect(completeOf(both, graded.fulfilled, graded.measure)).toBe(false);
    expect(fractionOf(both, graded.fulfilled, graded.measure)).toBe(0.5);
    const completed = stepLearner(
      both,
      graded,
      { type: 'course.completed' },
      { eventId: 'c', occurredAt: at(9) },
    ).state;
    expect(completeOf(both, completed.fulfilled, completed.measure)).toBe(true);
  });

  it('shows the ladder highest first with where the learner stands', () => {
    expect(ladderOf(levels, 'silver', 80)).toEqual([
      { id: 'gold', name: 'Gold', min: 90, state: 'next' },
      { id: 'silver', name: 'Silver', min: 75, state: 'held' },
      { id: 'bronze', name: 'Bronze', min: 60, state: 'reached' },
    ]);
    expect(ladderOf(levels, null, 10).map((r) => r.state)).toEqual(['ahead', 'ahead', 'next']);
  });
});

describe('regrades', () => {
  const quiz = {
    groups: [
      {
        requirements: [
          {
            id: 'q3',
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq' as const, value: 'quiz-3' },
              { path: 'data.percent', op: 'gte' as const, value: 80 },
            ],
          },
        ],
      },
    ],
    penalties: [],
  };
  const q3 = (percent: number) => grade(percent, 'quiz-3');
  const apply = (template: StepTemplate, grades: [number, number][]) => {
    let state = empty;
    const regraded: string[] = [];
    for (const [percent, minute] of grades) {
      const step = stepLearner(template, state, q3(percent), {
        eventId: `m${minute}`,
        occurredAt: at(minute),
      });
      regraded.push(...step.regraded);
      state = step.state;
    }
    return { state, regraded };
  };

  it('policy none (the default): a met requirement stays met after a lower grade', () => {
    const { state, regraded } = apply(quiz, [
      [85, 1],
      [50, 2],
    ]);
    expect(state.fulfilled).toEqual(['q3']);
    expect(regraded).toEqual([]);
  });

  it.each(['fallback', 'revoke'] as const)(
    'policy %s: a lower grade of the same quiz takes it back',
    (policy) => {
      const { state, regraded } = apply({ ...quiz, regrade: { policy, graceDays: 1 } }, [
        [85, 1],
        [50, 2],
      ]);
      expect(state.fulfilled).toEqual([]);
      expect(regraded).toEqual(['q3']);
    },
  );

  it('a grade of another activity is no regrade', () => {
    const template = { ...quiz, regrade: { policy: 'fallback' as const, graceDays: 0 } };
    let state = apply(template, [[85, 1]]).state;
    state = stepLearner(template, state, grade(10, 'quiz-1'), { eventId: 'x', occurredAt: at(3) }).state;
    expect(state.fulfilled).toEqual(['q3']);
  });

  it('a late delivery of an older low grade does not undo a newer pass', () => {
    const { state } = apply({ ...quiz, regrade: { policy: 'fallback', graceDays: 0 } }, [
      [85, 5],
      [50, 2],
    ]);
    expect(state.fulfilled).toEqual(['q3']);
  });

  it('a pass confirmed after the low grade (delivered late) keeps it met', () => {
    // 85 at minute 1, 90 at minute 4, then the 50 of minute 3 arrives: the 90 is newer.
    const { state } = apply({ ...quiz, regrade: { policy: 'fallback', graceDays: 0 } }, [
      [85, 1],
      [90, 4],
      [50, 3],
    ]);
    expect(state.fulfilled).toEqual(['q3']);
  });

  it('the grade coming back meets it again', () => {
    const { state } = apply({ ...quiz, regrade: { policy: 'revoke', graceDays: 2 } }, [
      [85, 1],
      [50, 2],
      [88, 3],
    ]);
    expect(state.fulfilled).toEqual(['q3']);
    expect(state.fulfilments).toMatchObject([{ requirementId: 'q3', eventId: 'm3' }]);
  });

  it('the same regrade delivered twice undoes once and changes nothing the second time', () => {
    const template: StepTemplate = { ...quiz, regrade: { policy: 'fallback', graceDays: 0 } };
    const first = apply(template, [
      [85, 1],
      [50, 2],
    ]).state;
    const again = stepLearner(template, first, q3(50), { eventId: 'm2', occurredAt: at(2) });
    expect(again.changed).toBe(false);
    expect(again.state.fulfilled).toEqual([]);
  });
});

describe('validation of levels and regrade policies', () => {
  const issues = (schema: typeof levelsSchema | typeof regradeSchema, input: unknown) => {
    const result = schema.safeParse(input);
    return result.success ? [] : formatIssues(result.error);
  };

  it('names the level whose threshold is not above the one below', () => {
    expect(
      issues(levelsSchema, {
        activityId: 'final-exam',
        steps: [
          { name: 'Bronze', min: 60 },
          { name: 'Silver', min: 60 },
        ],
      }),
    ).toEqual([
      {
        path: 'steps.1.min',
        message: 'min must be higher than the level below (Bronze: 60); list levels lowest first',
      },
    ]);
  });

  it('names a missing name, a threshold past 100 and a repeated name', () => {
    expect(
      issues(levelsSchema, { activityId: null, steps: [{ min: 50 }, { name: 'Gold', min: 101 }] }).map(
        (d) => d.path,
      ),
    ).toEqual(['steps.0.name', 'steps.1.min']);
    expect(
      issues(levelsSchema, {
        activityId: null,
        steps: [
          { name: 'Gold', min: 50 },
          { name: 'gold', min: 70 },
        ],
      }),
    ).toEqual([{ path: 'steps.1.name', message: 'two levels are named "gold"' }]);
  });

  it('gives levels ids from their names', () => {
    const parsed = levelsSchema.parse({
      steps: [
        { name: 'Gold star', min: 50 },
        { name: '***', min: 70 },
      ],
    });
    expect(parsed).toEqual({
      activityId: null,
      steps: [
        { id: 'gold-star', name: 'Gold star', min: 50, imageId: null },
        { id: 'level-2', name: '***', min: 70, imageId: null },
      ],
    });
  });

  it('refuses an unknown policy and a grace period for a policy that revokes nothing', () => {
    expect(issues(regradeSchema, { policy: 'punish' })).toEqual([
      { path: 'policy', message: 'unknown policy "punish"; expected one of none, fallback, revoke' },
    ]);
    expect(issues(regradeSchema, { policy: 'fallback', graceDays: 3 })).toEqual([
      { path: 'graceDays', message: 'graceDays applies only to the policy "revoke"' },
    ]);
    expect(regradeSchema.parse({ policy: 'revoke' })).toEqual({ policy: 'revoke', graceDays: 7 });
  });
});

describe('recalculation and dry run of stored events (evaluateLearner)', () => {
  const stored = (percent: number, minute: number, received: number, activityId = 'final-exam') => ({
    event: { type: 'activity.grade.updated', data: { activityId, percent } },
    eventId: `s${minute}-${received}`,
    occurredAt: at(minute),
    receivedAt: at(received),
  });

  it('gives the level the live pipeline gives, from events in any order of arrival', async () => {
    const { evaluateLearner } = await import('../../src/progress/recalculate.js');
    const rules = { groups: [], penalties: [], levels };
    const result = evaluateLearner(
      rules,
      [stored(95, 3, 10), stored(65, 1, 11), stored(80, 2, 12)],
      new Set(),
    );
    expect(result).toMatchObject({ complete: true, level: 'gold', fraction: 1 });
    expect(result.measure).toEqual({ best: 95, latest: 95, latestAt: at(3).toISOString() });
  });

  it('counts a regrade by the LMS’s time under policy fallback, and not under none', async () => {
    const { evaluateLearner } = await import('../../src/progress/recalculate.js');
    const requirement = {
      id: 'q3',
      event: 'activity.grade.updated',
      rules: [
        { path: 'data.activityId', op: 'eq' as const, value: 'quiz-3' },
        { path: 'data.percent', op: 'gte' as const, value: 80 },
      ],
    };
    const events = [stored(40, 5, 6, 'quiz-3'), stored(90, 1, 7, 'quiz-3')];
    const none = evaluateLearner(
      { groups: [{ requirements: [requirement] }], penalties: [] },
      events,
      new Set(),
    );
    const fallback = evaluateLearner(
      {
        groups: [{ requirements: [requirement] }],
        penalties: [],
        regrade: { policy: 'fallback', graceDays: 0 },
      },
      events,
      new Set(),
    );
    expect(none.complete).toBe(true);
    expect(fallback).toMatchObject({ complete: false, fulfilled: [] });
  });
});
