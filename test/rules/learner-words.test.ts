import type { DescribeContext, EventRequirement, Requirement, Rule } from '../../src/rules/index.js';
import {
  capitalise,
  describeBest,
  describeForLearner,
  learnerGroupPhrase,
  learnerPhrase,
  requirementTarget,
} from '../../src/rules/index.js';

const ctx: DescribeContext = {
  activityTitles: { 'quiz-3': 'Quiz 3', final: 'Final exam', lab: 'Lab report' },
  badgeNames: { 'tpl-basics': 'Chemistry basics' },
};

const grade = (id: string, rule: Rule): EventRequirement => ({
  id: `r-${id}`,
  event: 'activity.grade.updated',
  rules: [{ path: 'data.activityId', op: 'eq', value: id }, rule],
});
const quiz3 = grade('quiz-3', { path: 'data.percent', op: 'gte', value: 80 });
const final = grade('final', { path: 'data.percent', op: 'gte', value: 70 });
const courseDone: EventRequirement = { id: 'done', event: 'course.completed', rules: [] };
const labDone: EventRequirement = {
  id: 'lab',
  event: 'activity.completed',
  rules: [{ path: 'data.activityId', op: 'eq', value: 'lab' }],
};

describe('what learners read', () => {
  it('says how to earn a badge in one sentence, groups joined by “and”', () => {
    expect(describeForLearner([{ requirements: [quiz3] }, { requirements: [courseDone] }], ctx)).toBe(
      'Earn this badge by: scoring 80% or more on Quiz 3, and completing the course',
    );
    expect(describeForLearner([{ requirements: [labDone] }], ctx)).toBe(
      'Earn this badge by: completing Lab report',
    );
    expect(
      describeForLearner(
        [{ requirements: [quiz3] }, { requirements: [labDone] }, { requirements: [courseDone] }],
        ctx,
      ),
    ).toBe(
      'Earn this badge by: scoring 80% or more on Quiz 3, completing Lab report, and completing the course',
    );
  });

  it('shows alternatives as alternatives, without logic notation', () => {
    expect(describeForLearner([{ requirements: [quiz3] }, { requirements: [courseDone, final] }], ctx)).toBe(
      'Earn this badge by: scoring 80% or more on Quiz 3, and either completing the course or scoring 70% or more on Final exam',
    );
    expect(learnerGroupPhrase({ requirements: [quiz3, final, labDone] }, ctx)).toBe(
      'any one of scoring 80% or more on Quiz 3, scoring 70% or more on Final exam or completing Lab report',
    );
    const sentence = describeForLearner([{ requirements: [quiz3, final] }], ctx);
    expect(sentence).not.toMatch(/AND|OR|≥|\(|data\.|quiz-3/);
  });

  it('never shows a raw id: an unnamed activity or badge is described, not quoted', () => {
    const unknown = grade('cm-4711', { path: 'data.score', op: 'gte', value: 12 });
    expect(learnerPhrase(unknown, ctx)).toBe('scoring 12 points or more on an activity of this course');
    const badge: Requirement = { id: 'b', badge: '64b7f0c2a1b2c3d4e5f60718' };
    expect(learnerPhrase(badge, ctx)).toBe('earning another badge');
    expect(learnerPhrase({ id: 'b2', badge: 'tpl-basics' }, ctx)).toBe(
      'earning the “Chemistry basics” badge',
    );
  });

  it('phrases each kind of threshold and the course grade', () => {
    expect(learnerPhrase(grade('quiz-3', { path: 'data.percent', op: 'gt', value: 50 }), ctx)).toBe(
      'scoring more than 50% on Quiz 3',
    );
    expect(learnerPhrase(grade('quiz-3', { path: 'data.score', op: 'eq', value: 1 }), ctx)).toBe(
      'scoring exactly 1 point on Quiz 3',
    );
    const course: EventRequirement = {
      id: 'c',
      event: 'course.grade.updated',
      rules: [{ path: 'data.percent', op: 'gte', value: 65 }],
    };
    expect(learnerPhrase(course, ctx)).toBe('getting a course grade of 65% or more');
  });

  it('keeps a label the instructor wrote, and says a hand-made rule exists without its notation', () => {
    expect(learnerPhrase({ ...quiz3, label: 'Pass the mid-term' }, ctx)).toBe('Pass the mid-term');
    const odd: EventRequirement = {
      id: 'odd',
      event: 'activity.grade.updated',
      rules: [
        { path: 'data.activityId', op: 'eq', value: 'final' },
        { path: 'data.attempt', op: 'gt', value: 2 },
      ],
    };
    expect(learnerPhrase(odd, ctx)).toBe('getting a grade on Final exam, as your instructor set out');
    expect(learnerPhrase({ id: 'x', event: 'enrollment.deleted', rules: [] }, ctx)).toBe(
      'a step your instructor set out',
    );
  });

  it('says so when a badge has no requirements yet', () => {
    expect(describeForLearner([], ctx)).toBe('Your instructor has not said yet how to earn this badge.');
  });

  it('capitalises a phrase standing alone in a checklist', () => {
    expect(capitalise('scoring 80% or more on Quiz 3')).toBe('Scoring 80% or more on Quiz 3');
  });
});

describe('a learner’s best result beside a condition', () => {
  it('reads what a threshold requirement compares', () => {
    expect(requirementTarget(quiz3)).toEqual({
      scope: 'activity',
      activityId: 'quiz-3',
      unit: 'percent',
      op: 'gte',
      value: 80,
    });
    expect(
      requirementTarget({
        id: 'c',
        event: 'course.grade.updated',
        rules: [{ path: 'data.score', op: 'gt', value: 40 }],
      }),
    ).toEqual({ scope: 'course', activityId: null, unit: 'points', op: 'gt', value: 40 });
    expect(requirementTarget(courseDone)).toBeNull();
    expect(requirementTarget(labDone)).toBeNull();
    expect(requirementTarget({ id: 'b', badge: 'tpl-basics' })).toBeNull();
  });

  it('says the best and what is needed while unmet, the best alone once met', () => {
    const target = requirementTarget(quiz3)!;
    expect(describeBest(79, target, false)).toBe('your best: 79%, needs 80%');
    expect(describeBest(85, target, true)).toBe('your best: 85%');
    expect(describeBest(78.456, target, false)).toBe('your best: 78.46%, needs 80%');
    const points = requirementTarget(grade('final', { path: 'data.score', op: 'gt', value: 15 }))!;
    expect(describeBest(15, points, false)).toBe('your best: 15 points, needs more than 15 points');
  });
});
