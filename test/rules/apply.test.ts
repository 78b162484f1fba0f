import type { LearningEventLike, Penalty, RequirementGroup } from '../../src/rules/index.js';
import {
  applyEvent,
  groupStatus,
  isComplete,
  penaltyMatches,
  progressFraction,
  requirementMatches,
} from '../../src/rules/index.js';

const grade = (
  activityId: string,
  percent: number,
  extra: Record<string, unknown> = {},
): LearningEventLike => ({
  type: 'activity.grade.updated',
  course: { id: '101' },
  user: { id: '57' },
  data: { activityId, percent, ...extra },
});
const courseCompleted: LearningEventLike = {
  type: 'course.completed',
  course: { id: '101' },
  user: { id: '57' },
};
const unenrolled: LearningEventLike = {
  type: 'enrollment.deleted',
  course: { id: '101' },
  user: { id: '57' },
};
const badgeAwarded = (templateId: string): LearningEventLike => ({
  type: 'badge.awarded',
  user: { id: '57' },
  data: { templateId },
});

// "Quiz 3 ≥ 80% AND (course completed OR Final exam ≥ 70%)"
const groups: RequirementGroup[] = [
  {
    requirements: [
      {
        id: 'quiz3',
        event: 'activity.grade.updated',
        rules: [
          { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
          { path: 'data.percent', op: 'gte', value: 80 },
        ],
      },
    ],
  },
  {
    requirements: [
      { id: 'course', event: 'course.completed', rules: [] },
      {
        id: 'final',
        event: 'activity.grade.updated',
        rules: [
          { path: 'data.activityId', op: 'eq', value: 'final' },
          { path: 'data.percent', op: 'gte', value: 70 },
        ],
      },
    ],
  },
];

describe('requirementMatches', () => {
  it('needs the event type and every rule', () => {
    const quiz3 = groups[0].requirements[0];
    expect(requirementMatches(quiz3, grade('quiz-3', 80))).toBe(true);
    expect(requirementMatches(quiz3, grade('quiz-3', 79.99))).toBe(false);
    expect(requirementMatches(quiz3, grade('quiz-4', 95))).toBe(false);
    expect(requirementMatches(quiz3, { ...grade('quiz-3', 95), type: 'activity.completed' })).toBe(false);
    expect(requirementMatches(quiz3, grade('quiz-3', '95' as unknown as number))).toBe(false);
  });

  it('matches every event of the type when there are no rules', () => {
    expect(requirementMatches(groups[1].requirements[0], courseCompleted)).toBe(true);
    expect(requirementMatches(groups[1].requirements[0], grade('quiz-3', 100))).toBe(false);
  });

  it('matches a badge requirement on badge.awarded of that template only', () => {
    const req = { id: 'needs-basics', badge: 'tpl-basics' };
    expect(requirementMatches(req, badgeAwarded('tpl-basics'))).toBe(true);
    expect(requirementMatches(req, badgeAwarded('tpl-other'))).toBe(false);
    expect(requirementMatches(req, { type: 'badge.awarded', data: {} })).toBe(false);
    expect(requirementMatches(req, { type: 'course.completed', data: { templateId: 'tpl-basics' } })).toBe(
      false,
    );
  });
});

describe('applyEvent: groups', () => {
  const template = { groups, penalties: [] };

  it('fulfils the matching requirement and reports it as new', () => {
    expect(applyEvent(template, [], grade('quiz-3', 85))).toEqual({
      newlyFulfilled: ['quiz3'],
      reset: [],
      fulfilled: ['quiz3'],
      penaltiesApplied: [],
    });
  });

  it('needs every group: one group alone is not complete', () => {
    const after = applyEvent(template, [], grade('quiz-3', 85)).fulfilled;
    expect(isComplete(groups, after)).toBe(false);
    expect(progressFraction(groups, after)).toBe(0.5);
  });

  it('accepts either alternative of a group', () => {
    const viaCourse = applyEvent(template, ['quiz3'], courseCompleted);
    expect(viaCourse.newlyFulfilled).toEqual(['course']);
    expect(isComplete(groups, viaCourse.fulfilled)).toBe(true);

    const viaFinal = applyEvent(template, new Set(['quiz3']), grade('final', 70));
    expect(viaFinal.newlyFulfilled).toEqual(['final']);
    expect(viaFinal.fulfilled).toEqual(['quiz3', 'final']);
    expect(isComplete(groups, viaFinal.fulfilled)).toBe(true);
    expect(progressFraction(groups, viaFinal.fulfilled)).toBe(1);
  });

  it('does not report an already fulfilled requirement again', () => {
    const again = applyEvent(template, ['quiz3'], grade('quiz-3', 99));
    expect(again.newlyFulfilled).toEqual([]);
    expect(again.fulfilled).toEqual(['quiz3']);
  });

  it('keeps a fulfilled requirement when a later event no longer matches it', () => {
    const lower = applyEvent(template, ['quiz3'], grade('quiz-3', 10));
    expect(lower).toEqual({ newlyFulfilled: [], reset: [], fulfilled: ['quiz3'], penaltiesApplied: [] });
  });

  it('leaves progress alone for an unrelated event', () => {
    expect(applyEvent(template, ['final'], unenrolled)).toEqual({
      newlyFulfilled: [],
      reset: [],
      fulfilled: ['final'],
      penaltiesApplied: [],
    });
  });
});

describe('completion and progress', () => {
  it('never completes a template without groups', () => {
    expect(isComplete([], [])).toBe(false);
    expect(isComplete([], ['anything'])).toBe(false);
    expect(progressFraction([], ['anything'])).toBe(0);
  });

  it('ignores fulfilled ids the template does not have', () => {
    expect(isComplete(groups, ['quiz3', 'removed-req'])).toBe(false);
    expect(progressFraction(groups, ['removed-req'])).toBe(0);
  });

  it('a group without requirements can never be met', () => {
    expect(isComplete([{ requirements: [] }], ['x'])).toBe(false);
  });

  it('reports per group whether it is met and by which requirement', () => {
    expect(groupStatus(groups, ['final', 'course'])).toEqual([
      { met: false, needed: 1, metBy: null, fulfilled: [] },
      { met: true, needed: 1, metBy: 'course', fulfilled: ['course', 'final'] },
    ]);
    expect(groupStatus(groups, new Set(['quiz3']))).toEqual([
      { met: true, needed: 1, metBy: 'quiz3', fulfilled: ['quiz3'] },
      { met: false, needed: 1, metBy: null, fulfilled: [] },
    ]);
  });

  it('counts thirds', () => {
    const three: RequirementGroup[] = [
      { requirements: [{ id: 'a', event: 'course.completed', rules: [] }] },
      { requirements: [{ id: 'b', event: 'course.completed', rules: [] }] },
      { requirements: [{ id: 'c', event: 'course.completed', rules: [] }] },
    ];
    expect(progressFraction(three, ['a'])).toBeCloseTo(0.3333, 4);
    expect(progressFraction(three, ['a', 'c'])).toBeCloseTo(0.6667, 4);
  });
});

describe('applyEvent: penalties', () => {
  const lowQuiz: Penalty = {
    id: 'p-low-quiz',
    event: 'activity.grade.updated',
    rules: [
      { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
      { path: 'data.percent', op: 'lt', value: 50 },
    ],
    resets: ['quiz3'],
  };
  const leave: Penalty = {
    id: 'p-leave',
    event: 'enrollment.deleted',
    rules: [],
    resets: ['quiz3', 'course'],
  };
  const template = { groups, penalties: [lowQuiz, leave] };

  it('resets only the listed requirements', () => {
    const result = applyEvent(template, ['quiz3', 'final'], grade('quiz-3', 30));
    expect(result).toEqual({
      newlyFulfilled: [],
      reset: ['quiz3'],
      fulfilled: ['final'],
      penaltiesApplied: ['p-low-quiz'],
    });
  });

  it('resets several requirements and keeps the rest', () => {
    const result = applyEvent(template, ['course', 'final', 'quiz3'], unenrolled);
    expect(result.reset).toEqual(['course', 'quiz3']);
    expect(result.fulfilled).toEqual(['final']);
    expect(result.penaltiesApplied).toEqual(['p-leave']);
  });

  it('fires without resetting anything when nothing it names was fulfilled', () => {
    expect(applyEvent(template, ['final'], grade('quiz-3', 30))).toEqual({
      newlyFulfilled: [],
      reset: [],
      fulfilled: ['final'],
      penaltiesApplied: ['p-low-quiz'],
    });
  });

  it('does not fire when one of its rules fails', () => {
    expect(penaltyMatches(lowQuiz, grade('quiz-3', 50))).toBe(false);
    expect(penaltyMatches(lowQuiz, grade('quiz-2', 10))).toBe(false);
    expect(applyEvent(template, ['quiz3'], grade('quiz-3', 50)).fulfilled).toEqual(['quiz3']);
  });

  it('lets progress be earned again after a reset', () => {
    const reset = applyEvent(template, ['quiz3', 'course'], grade('quiz-3', 20));
    expect(reset.fulfilled).toEqual(['course']);
    const regained = applyEvent(template, reset.fulfilled, grade('quiz-3', 90));
    expect(regained.newlyFulfilled).toEqual(['quiz3']);
    expect(isComplete(groups, regained.fulfilled)).toBe(true);
  });

  it('wins over a requirement that the same event would fulfil', () => {
    // "Quiz 3 graded" (any grade) with a penalty "Quiz 3 below 50% undoes it": a 40% must not count.
    const overlapping = {
      groups: [
        {
          requirements: [
            {
              id: 'graded',
              event: 'activity.grade.updated',
              rules: [{ path: 'data.activityId', op: 'eq' as const, value: 'quiz-3' }],
            },
          ],
        },
      ],
      penalties: [{ ...lowQuiz, resets: ['graded'] }],
    };
    expect(applyEvent(overlapping, [], grade('quiz-3', 40))).toEqual({
      newlyFulfilled: [],
      reset: [],
      fulfilled: [],
      penaltiesApplied: ['p-low-quiz'],
    });
    expect(applyEvent(overlapping, ['graded'], grade('quiz-3', 40))).toEqual({
      newlyFulfilled: [],
      reset: ['graded'],
      fulfilled: [],
      penaltiesApplied: ['p-low-quiz'],
    });
    expect(applyEvent(overlapping, [], grade('quiz-3', 60)).fulfilled).toEqual(['graded']);
  });

  it('does not stop the same event fulfilling a requirement it does not reset', () => {
    const mixed = {
      groups,
      penalties: [{ id: 'p-any-final', event: 'activity.grade.updated', rules: [], resets: ['course'] }],
    };
    const result = applyEvent(mixed, ['course', 'quiz3'], grade('final', 75));
    expect(result.newlyFulfilled).toEqual(['final']);
    expect(result.reset).toEqual(['course']);
    expect(result.fulfilled).toEqual(['quiz3', 'final']);
    expect(isComplete(groups, result.fulfilled)).toBe(true);
  });

  it('works without a penalties list', () => {
    expect(applyEvent({ groups }, [], courseCompleted).fulfilled).toEqual(['course']);
  });
});

describe('badges requiring badges', () => {
  const master: RequirementGroup[] = [
    { requirements: [{ id: 'basics', badge: 'tpl-basics', label: 'Basics badge' }] },
    {
      requirements: [
        { id: 'advanced', badge: 'tpl-advanced' },
        {
          id: 'project',
          event: 'activity.completed',
          rules: [{ path: 'data.activityId', op: 'eq', value: 'cap' }],
        },
      ],
    },
  ];

  it('is fulfilled by the awards of the named templates', () => {
    const first = applyEvent({ groups: master }, [], badgeAwarded('tpl-basics'));
    expect(first.newlyFulfilled).toEqual(['basics']);
    expect(isComplete(master, first.fulfilled)).toBe(false);

    const other = applyEvent({ groups: master }, first.fulfilled, badgeAwarded('tpl-unrelated'));
    expect(other.newlyFulfilled).toEqual([]);

    const second = applyEvent({ groups: master }, first.fulfilled, badgeAwarded('tpl-advanced'));
    expect(second.newlyFulfilled).toEqual(['advanced']);
    expect(isComplete(master, second.fulfilled)).toBe(true);
  });

  it('mixes with event requirements in one group', () => {
    const viaProject = applyEvent({ groups: master }, ['basics'], {
      type: 'activity.completed',
      data: { activityId: 'cap' },
    });
    expect(viaProject.newlyFulfilled).toEqual(['project']);
    expect(groupStatus(master, viaProject.fulfilled)[1]).toEqual({
      met: true,
      needed: 1,
      metBy: 'project',
      fulfilled: ['project'],
    });
  });

  it('can be reset by a penalty like any requirement', () => {
    const penalties: Penalty[] = [{ id: 'p', event: 'enrollment.deleted', rules: [], resets: ['basics'] }];
    const result = applyEvent({ groups: master, penalties }, ['basics', 'advanced'], unenrolled);
    expect(result.reset).toEqual(['basics']);
    expect(result.fulfilled).toEqual(['advanced']);
  });
});
