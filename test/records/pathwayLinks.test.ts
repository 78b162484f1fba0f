/** Issue 24: what a learner's pathways add to their CLR, as a pure function. */
import { pathwayLinks, stepCriteria, type PathwayForRecord } from '../../src/records/pathwayLinks.js';

const ids = {
  pathway: (p: string) => `https://laurel.test/pathways/${p}`,
  step: (p: string, s: string) => `https://laurel.test/pathways/${p}/steps/${s}`,
};
const names: Record<string, string> = { t1: 'Lab 1', t2: 'Lab 2', t3: 'Lab 3', t9: 'Technician' };
const badgeName = (id: string) => names[id] ?? '?';

const labs: PathwayForRecord = {
  id: 'p1',
  name: 'Labs',
  description: 'Lab work',
  badgeTemplateId: 't9',
  steps: [
    {
      id: 'a',
      name: 'Any two labs',
      description: '',
      templateIds: ['t1', 't2', 't3'],
      atLeast: 2,
      prerequisites: [],
      optional: false,
    },
    {
      id: 'b',
      name: 'Extra',
      description: 'Anything extra.',
      templateIds: ['t3'],
      atLeast: null,
      prerequisites: ['a', 'gone'],
      optional: true,
    },
  ],
};

describe('pathwayLinks', () => {
  it('words a step’s criteria as all of, any N of, or one badge', () => {
    expect(stepCriteria(labs.steps[0]!, badgeName)).toBe('Earn any 2 of: Lab 1, Lab 2, Lab 3.');
    expect(stepCriteria(labs.steps[1]!, badgeName)).toBe('Earn Lab 3.');
    expect(stepCriteria({ ...labs.steps[0]!, atLeast: null }, badgeName)).toBe(
      'Earn Lab 1, Lab 2 and Lab 3.',
    );
    expect(stepCriteria({ ...labs.steps[0]!, atLeast: 9 }, badgeName)).toBe('Earn Lab 1, Lab 2 and Lab 3.');
  });

  it('lists the pathway and its steps, and links badges, steps, prerequisites and the pathway’s badge', () => {
    const links = pathwayLinks(
      [labs],
      [
        { templateId: 't3', achievementId: 'ach:t3' },
        { templateId: 't9', achievementId: 'ach:t9' },
      ],
      badgeName,
      ids,
    );
    expect(links.achievements.map((a) => [a.id, a.achievementType ?? null, a.description])).toEqual([
      [ids.pathway('p1'), 'LearningProgram', 'Lab work'],
      [ids.step('p1', 'a'), null, 'Step 1 of 2 of Labs.'],
      [ids.step('p1', 'b'), null, 'Anything extra.'],
    ]);
    expect(links.achievements[0]!.criteria).toBe('Complete the required steps: Any two labs.');
    expect(links.associations).toEqual([
      { associationType: 'isRelatedTo', sourceId: 'ach:t9', targetId: ids.pathway('p1') },
      { associationType: 'isChildOf', sourceId: ids.step('p1', 'a'), targetId: ids.pathway('p1') },
      { associationType: 'isChildOf', sourceId: 'ach:t3', targetId: ids.step('p1', 'a') },
      { associationType: 'isChildOf', sourceId: ids.step('p1', 'b'), targetId: ids.pathway('p1') },
      // The prerequisite that no longer exists ('gone') is left out.
      { associationType: 'precedes', sourceId: ids.step('p1', 'a'), targetId: ids.step('p1', 'b') },
      { associationType: 'isChildOf', sourceId: 'ach:t3', targetId: ids.step('p1', 'b') },
    ]);
  });

  it('leaves out a pathway none of whose badges the record holds (a shared record that left them out)', () => {
    expect(pathwayLinks([labs], [{ templateId: 'elsewhere', achievementId: 'x' }], badgeName, ids)).toEqual({
      achievements: [],
      associations: [],
    });
  });

  it('links one badge once even when the record names its achievement twice', () => {
    const twice = [
      { templateId: 't1', achievementId: 'ach:t1' },
      { templateId: 't1', achievementId: 'ach:t1' },
    ];
    const links = pathwayLinks([labs], twice, badgeName, ids);
    expect(links.associations.filter((a) => a.sourceId === 'ach:t1')).toHaveLength(1);
  });
});
