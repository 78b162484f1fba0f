import type { DescribeContext, EventRequirement, RequirementGroup } from '../../src/rules/index.js';
import {
  describeForLearner,
  describeRule,
  groupStatus,
  isComplete,
  parseTemplateRules,
  progressFraction,
} from '../../src/rules/index.js';

/** "Any 3 of the 5 labs at 70% or more", and the course completed. */
const lab = (n: number): EventRequirement => ({
  id: `lab-${n}`,
  event: 'activity.grade.updated',
  rules: [
    { path: 'data.activityId', op: 'eq', value: `lab-${n}` },
    { path: 'data.percent', op: 'gte', value: 70 },
  ],
});
const labs: RequirementGroup = { requirements: [1, 2, 3, 4, 5].map(lab), atLeast: 3 };
const done: RequirementGroup = { requirements: [{ id: 'done', event: 'course.completed', rules: [] }] };
const ctx: DescribeContext = {
  activityTitles: {
    'lab-1': 'Lab 1',
    'lab-2': 'Lab 2',
    'lab-3': 'Lab 3',
    'lab-4': 'Lab 4',
    'lab-5': 'Lab 5',
  },
};

describe('groups of "any N of these"', () => {
  it('are met by N of their requirements, not fewer', () => {
    expect(groupStatus([labs], ['lab-1', 'lab-4'])[0]).toMatchObject({ met: false, needed: 3 });
    expect(groupStatus([labs], ['lab-1', 'lab-4', 'lab-5'])[0]).toMatchObject({ met: true, needed: 3 });
    expect(isComplete([labs, done], ['lab-1', 'lab-2', 'done'])).toBe(false);
    expect(isComplete([labs, done], ['lab-1', 'lab-2', 'lab-3', 'done'])).toBe(true);
    // Without atLeast, one requirement meets the group, as before.
    expect(isComplete([{ requirements: labs.requirements }], ['lab-2'])).toBe(true);
  });

  it('count towards progress by the share of N already fulfilled', () => {
    // Two of three labs: two thirds of one group of two.
    expect(progressFraction([labs, done], ['lab-1', 'lab-2'])).toBeCloseTo(1 / 3, 10);
    // More than N counts as N.
    expect(progressFraction([labs, done], ['lab-1', 'lab-2', 'lab-3', 'lab-4'])).toBe(0.5);
    expect(progressFraction([labs, done], ['lab-1', 'lab-2', 'lab-3', 'done'])).toBe(1);
  });

  it('are described for instructors and learners', () => {
    expect(describeRule([labs, done], ctx)).toBe(
      'Earned when: 3 of (activity “lab-1” ≥ 70%, activity “lab-2” ≥ 70%, activity “lab-3” ≥ 70%, activity “lab-4” ≥ 70%, activity “lab-5” ≥ 70%) AND course completed'.replace(
        /activity “(lab-\d)”/g,
        (_m, id: string) => `Lab ${id.slice(4)}`,
      ),
    );
    expect(describeForLearner([labs, done], ctx)).toBe(
      'Earn this badge by: any 3 of scoring 70% or more on Lab 1, scoring 70% or more on Lab 2, scoring 70% or more on Lab 3, scoring 70% or more on Lab 4 and scoring 70% or more on Lab 5, and completing the course',
    );
    expect(describeForLearner([{ ...labs, atLeast: 5 }], ctx)).toMatch(/^Earn this badge by: all of scoring/);
  });

  it('are validated: a whole number from 1 to the number of requirements', () => {
    const tooMany = parseTemplateRules({ groups: [{ ...labs, atLeast: 6 }], penalties: [] });
    expect(tooMany.success).toBe(false);
    expect(JSON.stringify(tooMany)).toContain('atLeast is 6, but the group has only 5 requirement(s)');
    expect(parseTemplateRules({ groups: [{ ...labs, atLeast: 0 }], penalties: [] }).success).toBe(false);
    expect(parseTemplateRules({ groups: [{ ...labs, atLeast: 2.5 }], penalties: [] }).success).toBe(false);
    expect(parseTemplateRules({ groups: [{ ...labs, atLeast: '3' }], penalties: [] }).success).toBe(false);
    expect(parseTemplateRules({ groups: [labs, done], penalties: [] }).success).toBe(true);
  });
});
