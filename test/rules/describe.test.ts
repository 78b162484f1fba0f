import type {
  DescribeContext,
  EventRequirement,
  Penalty,
  RequirementGroup,
  Rule,
} from '../../src/rules/index.js';
import {
  describeCondition,
  describeGroup,
  describePenalty,
  describeRequirement,
  describeRule,
  describeRuleClause,
} from '../../src/rules/index.js';

const ctx: DescribeContext = {
  activityTitles: { 'quiz-3': 'Quiz 3', final: 'Final exam', essay: 'Essay' },
  badgeNames: new Map([['tpl-basics', 'Chemistry basics']]),
};

const activityGrade = (id: string, rule: Rule): EventRequirement => ({
  id: `r-${id}`,
  event: 'activity.grade.updated',
  rules: [{ path: 'data.activityId', op: 'eq', value: id }, rule],
});

const quiz3 = activityGrade('quiz-3', { path: 'data.percent', op: 'gte', value: 80 });
const final = activityGrade('final', { path: 'data.percent', op: 'gte', value: 70 });
const courseDone: EventRequirement = { id: 'r-course', event: 'course.completed', rules: [] };

describe('describeRule', () => {
  it('reads the example from the brief', () => {
    const groups: RequirementGroup[] = [{ requirements: [quiz3] }, { requirements: [courseDone, final] }];
    expect(describeRule(groups, ctx)).toBe(
      'Earned when: Quiz 3 ≥ 80% AND (course completed OR Final exam ≥ 70%)',
    );
  });

  it('has no parentheses for single-requirement groups', () => {
    expect(describeRule([{ requirements: [courseDone] }, { requirements: [final] }], ctx)).toBe(
      'Earned when: course completed AND Final exam ≥ 70%',
    );
  });

  it('says when there is nothing to earn', () => {
    expect(describeRule([], ctx)).toBe('No requirements yet, so this badge cannot be earned.');
    expect(describeGroup({ requirements: [] }, ctx)).toBe('(nothing, so this group cannot be met)');
  });
});

describe('describeRequirement: common shapes', () => {
  it('activity grade in percent and points, in any rule order', () => {
    expect(describeRequirement(quiz3, ctx)).toBe('Quiz 3 ≥ 80%');
    const reversed: EventRequirement = { ...quiz3, rules: [...quiz3.rules].reverse() };
    expect(describeRequirement(reversed, ctx)).toBe('Quiz 3 ≥ 80%');
    expect(
      describeRequirement(activityGrade('essay', { path: 'data.score', op: 'gte', value: 12 }), ctx),
    ).toBe('Essay ≥ 12 points');
    expect(describeRequirement(activityGrade('essay', { path: 'data.score', op: 'gt', value: 1 }), ctx)).toBe(
      'Essay > 1 point',
    );
    expect(
      describeRequirement(activityGrade('final', { path: 'data.percent', op: 'lt', value: 50 }), ctx),
    ).toBe('Final exam < 50%');
  });

  it('names an activity without a known title by its id', () => {
    expect(
      describeRequirement(activityGrade('lab-2', { path: 'data.percent', op: 'gte', value: 60 }), ctx),
    ).toBe('activity “lab-2” ≥ 60%');
    expect(
      describeRequirement(activityGrade('constructor', { path: 'data.percent', op: 'gte', value: 1 }), ctx),
    ).toBe('activity “constructor” ≥ 1%');
  });

  it('course grade, activity and course completion', () => {
    const courseGrade: EventRequirement = {
      id: 'g',
      event: 'course.grade.updated',
      rules: [{ path: 'data.percent', op: 'gte', value: 75 }],
    };
    expect(describeRequirement(courseGrade, ctx)).toBe('Course grade ≥ 75%');
    const coursePoints: EventRequirement = {
      id: 'g',
      event: 'course.grade.updated',
      rules: [{ path: 'data.score', op: 'gte', value: 300 }],
    };
    expect(describeRequirement(coursePoints, ctx)).toBe('Course grade ≥ 300 points');
    const essayDone: EventRequirement = {
      id: 'e',
      event: 'activity.completed',
      rules: [{ path: 'data.activityId', op: 'eq', value: 'essay' }],
    };
    expect(describeRequirement(essayDone, ctx)).toBe('Essay completed');
    expect(describeRequirement(courseDone, ctx)).toBe('course completed');
  });

  it('badge requirements by name, or by id when the name is unknown', () => {
    expect(describeRequirement({ id: 'b', badge: 'tpl-basics' }, ctx)).toBe(
      'badge “Chemistry basics” earned',
    );
    expect(describeRequirement({ id: 'b', badge: 'tpl-9' }, ctx)).toBe('badge “tpl-9” earned');
    expect(describeRequirement({ id: 'b', badge: 'tpl-9' })).toBe('badge “tpl-9” earned');
  });

  it('prefers the label an admin wrote', () => {
    expect(describeRequirement({ ...quiz3, label: '  Pass the lab safety quiz ' }, ctx)).toBe(
      'Pass the lab safety quiz',
    );
    expect(describeRequirement({ ...quiz3, label: '   ' }, ctx)).toBe('Quiz 3 ≥ 80%');
  });
});

describe('describeRequirement: fallbacks', () => {
  it('lists the event and every rule', () => {
    const attempts: EventRequirement = {
      id: 'a',
      event: 'activity.grade.updated',
      rules: [{ path: 'data.attempt', op: 'gt', value: 2 }],
    };
    expect(describeRequirement(attempts, ctx)).toBe('activity graded where data.attempt > 2');
  });

  it('uses the activity title as the subject when the shape is otherwise unusual', () => {
    const unusual = activityGrade('quiz-3', { path: 'data.attempt', op: 'lte', value: 1 });
    expect(describeRequirement(unusual, ctx)).toBe('Quiz 3 graded where data.attempt ≤ 1');
    const twoRules: EventRequirement = {
      ...quiz3,
      rules: [...quiz3.rules, { path: 'data.late', op: 'exists', value: false }],
    };
    expect(describeRequirement(twoRules, ctx)).toBe(
      'Quiz 3 graded where data.percent ≥ 80 and data.late is absent',
    );
  });

  it('falls back for course grades compared with ne or with a non-numeric threshold', () => {
    const ne: EventRequirement = {
      id: 'n',
      event: 'course.grade.updated',
      rules: [{ path: 'data.percent', op: 'ne', value: 0 }],
    };
    expect(describeRequirement(ne, ctx)).toBe('course graded where data.percent ≠ 0');
    const text: EventRequirement = {
      id: 't',
      event: 'course.grade.updated',
      rules: [{ path: 'data.percent', op: 'gte', value: '80' }],
    };
    expect(describeRequirement(text, ctx)).toBe('course graded where data.percent ≥ “80”');
  });

  it('phrases the other event types and operators', () => {
    const enrolled: EventRequirement = {
      id: 'e',
      event: 'enrollment.created',
      rules: [
        { path: 'data.role', op: 'in', value: ['student', 'auditor'] },
        { path: 'data.section', op: 'exists', value: true },
        { path: 'data.paid', op: 'eq', value: true },
      ],
    };
    expect(describeRequirement(enrolled, ctx)).toBe(
      'enrolled in the course where data.role is one of “student”, “auditor” and data.section is present and data.paid = true',
    );
    expect(describeRequirement({ id: 'x', event: 'enrollment.deleted', rules: [] }, ctx)).toBe(
      'unenrolled from the course',
    );
    expect(describeRequirement({ id: 'x', event: 'activity.completed', rules: [] }, ctx)).toBe(
      'activity completed',
    );
    expect(
      describeRequirement(
        { id: 'x', event: 'course.completed', rules: [{ path: 'course.id', op: 'eq', value: '101' }] },
        ctx,
      ),
    ).toBe('course completed where course.id = “101”');
    expect(describeRequirement({ id: 'x', event: 'lesson.viewed', rules: [] }, ctx)).toBe(
      'event “lesson.viewed”',
    );
  });

  it('recognises a badge.awarded event requirement naming a template', () => {
    expect(
      describeCondition('badge.awarded', [{ path: 'data.templateId', op: 'eq', value: 'tpl-basics' }], ctx),
    ).toBe('badge “Chemistry basics” earned');
    expect(describeCondition('badge.awarded', [], ctx)).toBe('a badge earned');
  });

  it('formats single rules literally', () => {
    expect(describeRuleClause({ path: 'data.meta', op: 'eq', value: { a: 1 } })).toBe('data.meta = {"a":1}');
    expect(describeRuleClause({ path: 'data.x', op: 'ne', value: null })).toBe('data.x ≠ null');
    expect(describeRuleClause({ path: 'data.n', op: 'in', value: [1, 2] })).toBe('data.n is one of 1, 2');
  });
});

describe('describePenalty', () => {
  const groups: RequirementGroup[] = [{ requirements: [quiz3] }, { requirements: [courseDone, final] }];

  it('names the condition and the requirements it undoes', () => {
    const low: Penalty = {
      id: 'p1',
      event: 'activity.grade.updated',
      rules: [
        { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
        { path: 'data.percent', op: 'lt', value: 50 },
      ],
      resets: ['r-quiz-3'],
    };
    expect(describePenalty(low, ctx, groups)).toBe('If Quiz 3 < 50%, progress on “Quiz 3 ≥ 80%” is undone.');
  });

  it('joins several requirements and shows unknown ids as ids', () => {
    const leave: Penalty = {
      id: 'p2',
      event: 'enrollment.deleted',
      rules: [],
      resets: ['r-quiz-3', 'r-course', 'gone'],
    };
    expect(describePenalty(leave, ctx, groups)).toBe(
      'If unenrolled from the course, progress on “Quiz 3 ≥ 80%”, “course completed” and requirement “gone” is undone.',
    );
    expect(describePenalty({ ...leave, resets: ['r-course'] }, ctx)).toBe(
      'If unenrolled from the course, progress on requirement “r-course” is undone.',
    );
  });
});
