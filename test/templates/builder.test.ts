import { describeRule } from '../../src/rules/index.js';
import {
  conditionToRequirement,
  parseConditionRow,
  penaltyToCondition,
  penaltyToInput,
  requirementToCondition,
  rowsToGroups,
  type Condition,
} from '../../src/templates/builder.js';

describe('requirement builder conditions', () => {
  it('turns each condition into the rules the engine evaluates', () => {
    expect(
      conditionToRequirement({
        kind: 'activity-grade',
        activityId: 'quiz-3',
        threshold: 80,
        unit: 'percent',
      }),
    ).toEqual({
      event: 'activity.grade.updated',
      rules: [
        { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
        { path: 'data.percent', op: 'gte', value: 80 },
      ],
    });
    expect(conditionToRequirement({ kind: 'course-grade', threshold: 42, unit: 'points' }, 'cg')).toEqual({
      id: 'cg',
      event: 'course.grade.updated',
      rules: [{ path: 'data.score', op: 'gte', value: 42 }],
    });
    expect(conditionToRequirement({ kind: 'course-completed' })).toEqual({
      event: 'course.completed',
      rules: [],
    });
    expect(conditionToRequirement({ kind: 'badge', templateId: 'abc' })).toEqual({ badge: 'abc' });
  });

  it('reads back every condition it writes', () => {
    const conditions: Condition[] = [
      { kind: 'course-completed' },
      { kind: 'activity-completed', activityId: 'lab-1' },
      { kind: 'activity-grade', activityId: 'quiz-3', threshold: 80, unit: 'percent' },
      { kind: 'activity-grade', activityId: 'essay', threshold: 15, unit: 'points' },
      { kind: 'course-grade', threshold: 70, unit: 'percent' },
      { kind: 'badge', templateId: '0123456789abcdef01234567' },
    ];
    for (const c of conditions) expect(requirementToCondition(conditionToRequirement(c))).toEqual(c);
  });

  it('leaves requirements made by hand through the API to the generic editor', () => {
    expect(
      requirementToCondition({
        event: 'activity.grade.updated',
        rules: [{ path: 'data.attempt', op: 'gt', value: 2 }],
      }),
    ).toBeNull();
    expect(
      requirementToCondition({
        event: 'activity.grade.updated',
        rules: [
          { path: 'data.activityId', op: 'eq', value: 'q' },
          { path: 'data.percent', op: 'gte', value: 80 },
          { path: 'data.attempt', op: 'lt', value: 3 },
        ],
      }),
    ).toBeNull();
  });

  it('writes and reads penalties', () => {
    const input = penaltyToInput(
      { kind: 'activity-grade-below', activityId: 'quiz-3', threshold: 50, unit: 'percent' },
      ['q3'],
    );
    expect(input).toEqual({
      event: 'activity.grade.updated',
      rules: [
        { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
        { path: 'data.percent', op: 'lt', value: 50 },
      ],
      resets: ['q3'],
    });
    expect(penaltyToCondition(input)).toEqual({
      kind: 'activity-grade-below',
      activityId: 'quiz-3',
      threshold: 50,
      unit: 'percent',
    });
    expect(penaltyToCondition(penaltyToInput({ kind: 'unenrolled' }, ['a']))).toEqual({ kind: 'unenrolled' });
  });

  it('summarises built groups in plain language', () => {
    const built = rowsToGroups([
      [{ kind: 'activity-grade', activityId: 'quiz-3', threshold: '80', unit: 'percent' }],
      [
        { kind: 'course-completed' },
        { kind: 'activity-grade', activityId: 'final', threshold: '70', unit: 'percent' },
        { kind: '' },
      ],
      [{ kind: '' }],
    ]);
    if (!('groups' in built)) throw new Error(JSON.stringify(built));
    expect(built.groups).toHaveLength(2);
    const withIds = built.groups.map((g, i) => ({
      requirements: g.requirements.map((r, j) => ({ ...r, id: `r${i}${j}` })),
    }));
    expect(
      describeRule(withIds as never, { activityTitles: { 'quiz-3': 'Quiz 3', final: 'Final exam' } }),
    ).toBe('Earned when: Quiz 3 ≥ 80% AND (course completed OR Final exam ≥ 70%)');
  });
});

describe('reading a posted builder row', () => {
  it('ignores an untouched blank row', () => {
    expect(parseConditionRow({ kind: '', activityId: '', threshold: '' })).toBeNull();
  });

  it('names each missing or wrong field', () => {
    expect(parseConditionRow({ kind: 'activity-grade', activityId: ' ', threshold: 'eighty' })).toEqual({
      errors: [
        { field: 'activityId', message: 'Choose an activity or type its id.' },
        { field: 'threshold', message: 'Give a number, such as 80.' },
      ],
    });
    expect(parseConditionRow({ kind: 'course-grade', threshold: '120', unit: 'percent' })).toEqual({
      errors: [{ field: 'threshold', message: 'A percentage is at most 100.' }],
    });
    expect(parseConditionRow({ kind: 'course-grade', threshold: '120', unit: 'points' })).toEqual({
      condition: { kind: 'course-grade', threshold: 120, unit: 'points' },
    });
    expect(parseConditionRow({ kind: 'badge', templateId: 'x' })).toEqual({
      errors: [{ field: 'templateId', message: 'Choose a badge.' }],
    });
    expect(parseConditionRow({ kind: 'teleport' })).toEqual({
      errors: [{ field: 'kind', message: 'Choose what must happen.' }],
    });
  });

  it('reports row errors with their group and row', () => {
    expect(
      rowsToGroups([[{ kind: 'course-completed' }], [{ kind: '' }, { kind: 'activity-completed' }]]),
    ).toEqual({
      errors: [{ group: 1, row: 1, field: 'activityId', message: 'Choose an activity or type its id.' }],
    });
  });
});
