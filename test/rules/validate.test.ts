import type { PenaltyInput, RequirementGroupInput } from '../../src/rules/index.js';
import {
  assignRequirementIds,
  parseTemplateRules,
  refineTemplateRules,
  ruleSchema,
  templateRulesShape,
} from '../../src/rules/index.js';
import { z } from 'zod';

/** One event requirement holding `rules`, in one group: the smallest template to test a rule with. */
const withRules = (rules: unknown[]) => ({
  groups: [{ requirements: [{ event: 'activity.grade.updated', rules }] }],
});

const details = (input: unknown) => {
  const result = parseTemplateRules(input);
  if (result.success) throw new Error('expected validation to fail');
  return result.details;
};

describe('parseTemplateRules: valid input', () => {
  it('accepts the ARCHITECTURE.md example and keeps the shapes', () => {
    const result = parseTemplateRules({
      groups: [
        {
          requirements: [
            {
              event: 'activity.grade.updated',
              rules: [
                { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
                { path: 'data.percent', op: 'gte', value: 80 },
              ],
            },
          ],
        },
      ],
      penalties: [],
    });
    expect(result).toEqual({
      success: true,
      data: {
        groups: [
          {
            requirements: [
              {
                event: 'activity.grade.updated',
                rules: [
                  { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
                  { path: 'data.percent', op: 'gte', value: 80 },
                ],
              },
            ],
          },
        ],
        penalties: [],
      },
    });
  });

  it('accepts every operator with a fitting value, badge requirements, ids, labels and penalties', () => {
    const result = parseTemplateRules({
      groups: [
        {
          requirements: [
            {
              id: 'r1',
              label: 'Quiz 3 done well',
              event: 'activity.grade.updated',
              rules: [
                { path: 'data.activityId', op: 'ne', value: null },
                { path: 'data.percent', op: 'gt', value: 0 },
                { path: 'data.score', op: 'lte', value: 10.5 },
                { path: 'occurredAt', op: 'lt', value: '2027-01-01T00:00:00Z' },
                { path: 'data.kind', op: 'in', value: ['quiz', 'exam'] },
                { path: 'data.attempts.0.late', op: 'exists', value: false },
              ],
            },
            { id: 'r2', badge: 'tpl-basics' },
          ],
        },
        { requirements: [{ event: 'course.completed' }] },
      ],
      penalties: [{ event: 'enrollment.deleted', resets: ['r1', 'r2'] }],
    });
    expect(result.success).toBe(true);
    if (!result.success) return;
    expect(result.data.groups[0].requirements[1]).toEqual({ id: 'r2', badge: 'tpl-basics' });
    expect(result.data.groups[1].requirements[0]).toEqual({ event: 'course.completed', rules: [] });
    expect(result.data.penalties).toEqual([{ event: 'enrollment.deleted', rules: [], resets: ['r1', 'r2'] }]);
  });

  it('defaults missing groups and penalties to empty lists', () => {
    expect(parseTemplateRules({})).toEqual({ success: true, data: { groups: [], penalties: [] } });
  });
});

describe('parseTemplateRules: rule errors', () => {
  it('rejects an unknown operator at .op', () => {
    expect(details(withRules([{ path: 'data.percent', op: 'like', value: 80 }]))).toEqual([
      {
        path: 'groups.0.requirements.0.rules.0.op',
        message: 'unknown operator "like"; expected one of eq, ne, gt, gte, lt, lte, in, exists',
      },
    ]);
  });

  it('points at the failing rule among several requirements', () => {
    const input = {
      groups: [
        {
          requirements: [
            { event: 'course.completed' },
            {
              event: 'activity.grade.updated',
              rules: [
                { path: 'data.percent', op: 'gte', value: 1 },
                { path: 'data.x', op: 'EQ', value: 1 },
              ],
            },
          ],
        },
      ],
    };
    expect(details(input)).toEqual([
      {
        path: 'groups.0.requirements.1.rules.1.op',
        message: 'unknown operator "EQ"; expected one of eq, ne, gt, gte, lt, lte, in, exists',
      },
    ]);
  });

  it('rejects in without an array, or with an empty one', () => {
    expect(details(withRules([{ path: 'data.kind', op: 'in', value: 'quiz' }]))).toEqual([
      { path: 'groups.0.requirements.0.rules.0.value', message: 'in needs an array value' },
    ]);
    expect(details(withRules([{ path: 'data.kind', op: 'in', value: [] }]))).toEqual([
      { path: 'groups.0.requirements.0.rules.0.value', message: 'in needs at least one value' },
    ]);
  });

  it('rejects exists without a boolean', () => {
    expect(details(withRules([{ path: 'data.x', op: 'exists', value: 'true' }]))).toEqual([
      { path: 'groups.0.requirements.0.rules.0.value', message: 'exists needs true or false' },
    ]);
    expect(details(withRules([{ path: 'data.x', op: 'exists' }]))).toEqual([
      { path: 'groups.0.requirements.0.rules.0.value', message: 'exists needs true or false' },
    ]);
  });

  it('rejects comparisons with a value that is neither a number nor a string', () => {
    const bad = [true, null, [80], { n: 80 }, Number.POSITIVE_INFINITY];
    for (const value of bad) {
      expect(details(withRules([{ path: 'data.percent', op: 'gte', value }]))).toEqual([
        { path: 'groups.0.requirements.0.rules.0.value', message: 'gte needs a number or a string value' },
      ]);
    }
    expect(details(withRules([{ path: 'data.percent', op: 'lt', value: false }]))).toEqual([
      { path: 'groups.0.requirements.0.rules.0.value', message: 'lt needs a number or a string value' },
    ]);
  });

  it('rejects eq without a value', () => {
    expect(details(withRules([{ path: 'data.x', op: 'eq' }]))).toEqual([
      { path: 'groups.0.requirements.0.rules.0.value', message: 'value is required for eq' },
    ]);
  });

  it('rejects empty and malformed paths', () => {
    const cases: [unknown, string][] = [
      ['', 'path must not be empty'],
      [
        'data..percent',
        'path must be dot-separated names of letters, digits, "_" or "-" (e.g. "data.percent")',
      ],
      ['.data', 'path must be dot-separated names of letters, digits, "_" or "-" (e.g. "data.percent")'],
      [
        'data.per cent',
        'path must be dot-separated names of letters, digits, "_" or "-" (e.g. "data.percent")',
      ],
      ['data[0]', 'path must be dot-separated names of letters, digits, "_" or "-" (e.g. "data.percent")'],
      [7, 'path must be a string'],
      [undefined, 'path is required'],
    ];
    for (const [path, message] of cases) {
      expect(details(withRules([{ path, op: 'exists', value: true }]))).toEqual([
        { path: 'groups.0.requirements.0.rules.0.path', message },
      ]);
    }
  });

  it('rejects paths with forbidden segments', () => {
    for (const segment of ['__proto__', 'constructor', 'prototype']) {
      expect(details(withRules([{ path: `data.${segment}.x`, op: 'exists', value: true }]))).toEqual([
        { path: 'groups.0.requirements.0.rules.0.path', message: `path segment "${segment}" is not allowed` },
      ]);
    }
  });

  it('reports unknown fields one by one and non-object rules', () => {
    expect(details(withRules([{ path: 'data.x', op: 'eq', value: 1, opp: 'x', note: 'y' }]))).toEqual([
      { path: 'groups.0.requirements.0.rules.0.opp', message: 'unknown field "opp"' },
      { path: 'groups.0.requirements.0.rules.0.note', message: 'unknown field "note"' },
    ]);
    expect(details(withRules(['data.x = 1']))).toEqual([
      { path: 'groups.0.requirements.0.rules.0', message: 'a rule must be an object { path, op, value }' },
    ]);
  });

  it('reports every bad rule, not just the first', () => {
    expect(
      details(
        withRules([
          { path: 'data.x', op: 'in', value: 1 },
          { path: 'data.constructor', op: 'eq', value: 1 },
        ]),
      ),
    ).toEqual([
      { path: 'groups.0.requirements.0.rules.0.value', message: 'in needs an array value' },
      { path: 'groups.0.requirements.0.rules.1.path', message: 'path segment "constructor" is not allowed' },
    ]);
  });
});

describe('parseTemplateRules: requirement, group and penalty errors', () => {
  it('rejects an unknown event type', () => {
    expect(details({ groups: [{ requirements: [{ event: 'activity.graded' }] }] })).toEqual([
      {
        path: 'groups.0.requirements.0.event',
        message:
          'unknown event type "activity.graded"; expected one of course.completed, course.grade.updated, ' +
          'activity.completed, activity.grade.updated, enrollment.created, enrollment.deleted, badge.awarded',
      },
    ]);
  });

  it('needs exactly one of event and badge, and no rules on a badge requirement', () => {
    expect(details({ groups: [{ requirements: [{ label: 'x' }] }] })).toEqual([
      { path: 'groups.0.requirements.0', message: 'a requirement needs an event or a badge' },
    ]);
    expect(details({ groups: [{ requirements: [{ event: 'course.completed', badge: 't' }] }] })).toEqual([
      { path: 'groups.0.requirements.0.badge', message: 'give either event or badge, not both' },
    ]);
    expect(details({ groups: [{ requirements: [{ badge: 't', rules: [] }] }] })).toEqual([
      { path: 'groups.0.requirements.0.rules', message: 'a badge requirement takes no rules' },
    ]);
    expect(details({ groups: [{ requirements: [{ badge: '' }] }] })).toEqual([
      { path: 'groups.0.requirements.0.badge', message: 'badge must not be empty' },
    ]);
  });

  it('rejects empty groups and malformed ids', () => {
    expect(details({ groups: [{ requirements: [] }] })).toEqual([
      { path: 'groups.0.requirements', message: 'a group needs at least one requirement' },
    ]);
    expect(details({ groups: [{}] })).toEqual([
      { path: 'groups.0.requirements', message: 'requirements is required' },
    ]);
    expect(details({ groups: [{ requirements: [{ id: 'has space', event: 'course.completed' }] }] })).toEqual(
      [{ path: 'groups.0.requirements.0.id', message: 'id must be 1-64 letters, digits, "_" or "-"' }],
    );
    expect(details({ groups: 'all' })).toEqual([{ path: 'groups', message: 'groups must be an array' }]);
  });

  it('rejects a penalty resetting an id that is not a requirement of the template', () => {
    const input = {
      groups: [{ requirements: [{ id: 'quiz3', event: 'course.completed' }] }],
      penalties: [
        { event: 'enrollment.deleted', resets: ['quiz3'] },
        { event: 'enrollment.deleted', resets: ['quiz3', 'quiz4'] },
      ],
    };
    expect(details(input)).toEqual([
      { path: 'penalties.1.resets.1', message: '"quiz4" is not a requirement of this template' },
    ]);
  });

  it('rejects penalties with bad shapes', () => {
    expect(details({ penalties: [{ event: 'enrollment.deleted', resets: [] }] })).toEqual([
      { path: 'penalties.0.resets', message: 'a penalty must reset at least one requirement' },
    ]);
    expect(details({ penalties: [{ event: 'enrollment.deleted' }] })).toEqual([
      { path: 'penalties.0.resets', message: 'resets is required' },
    ]);
    expect(
      details({
        groups: [{ requirements: [{ id: 'a', event: 'course.completed' }] }],
        penalties: [
          {
            event: 'course.grade.updated',
            rules: [{ path: 'data.percent', op: 'lt', value: [50] }],
            resets: ['a'],
          },
        ],
      }),
    ).toEqual([{ path: 'penalties.0.rules.0.value', message: 'lt needs a number or a string value' }]);
    expect(details({ penalties: [{ resets: ['a'] }] })).toEqual([
      { path: 'penalties.0.event', message: 'event is required' },
    ]);
  });

  it('rejects duplicate requirement and penalty ids', () => {
    const input = {
      groups: [
        { requirements: [{ id: 'a', event: 'course.completed' }] },
        {
          requirements: [
            { id: 'b', badge: 't' },
            { id: 'a', event: 'enrollment.created' },
          ],
        },
      ],
      penalties: [
        { id: 'p', event: 'enrollment.deleted', resets: ['a'] },
        { id: 'p', event: 'enrollment.deleted', resets: ['b'] },
      ],
    };
    expect(details(input)).toEqual([
      { path: 'groups.1.requirements.1.id', message: 'requirement id "a" is used twice' },
      { path: 'penalties.1.id', message: 'penalty id "p" is used twice' },
    ]);
  });

  it('rejects input that is not an object', () => {
    expect(details('groups')).toEqual([{ path: '', message: 'expected an object { groups, penalties }' }]);
  });
});

describe('composing into a larger schema', () => {
  it('lets the API add its own fields and keeps the cross-checks', () => {
    const schema = z.object({ name: z.string(), ...templateRulesShape }).superRefine(refineTemplateRules);
    const bad = schema.safeParse({
      name: 'Quiz champion',
      groups: [{ requirements: [{ id: 'x', event: 'course.completed' }] }],
      penalties: [{ event: 'enrollment.deleted', resets: ['y'] }],
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['penalties.0.resets.0']);
    expect(ruleSchema.safeParse({ path: 'type', op: 'eq', value: 'course.completed' }).success).toBe(true);
  });
});

describe('assignRequirementIds', () => {
  it('fills missing ids and keeps the given ones', () => {
    const groups: RequirementGroupInput[] = [
      { requirements: [{ id: 'keep', event: 'course.completed', rules: [] }, { badge: 'tpl-b' }] },
      { requirements: [{ event: 'enrollment.created', rules: [], label: 'Enrolled' }] },
    ];
    const penalties: PenaltyInput[] = [
      { event: 'enrollment.deleted', rules: [], resets: ['keep'] },
      { id: 'p-given', event: 'enrollment.deleted', rules: [], resets: ['keep'] },
    ];
    const ids = ['n1', 'n2', 'n3'];
    const result = assignRequirementIds(groups, penalties, () => ids.shift() as string);
    expect(result).toEqual({
      groups: [
        {
          requirements: [
            { id: 'keep', event: 'course.completed', rules: [] },
            { id: 'n1', badge: 'tpl-b' },
          ],
        },
        { requirements: [{ id: 'n2', event: 'enrollment.created', rules: [], label: 'Enrolled' }] },
      ],
      penalties: [
        { id: 'n3', event: 'enrollment.deleted', rules: [], resets: ['keep'] },
        { id: 'p-given', event: 'enrollment.deleted', rules: [], resets: ['keep'] },
      ],
    });
    expect(groups[0].requirements[1]).toEqual({ badge: 'tpl-b' });
  });

  it('draws again when a generated id is already in use', () => {
    const ids = ['keep', 'n1', 'n1', 'n2'];
    const result = assignRequirementIds(
      [
        {
          requirements: [
            { id: 'keep', event: 'course.completed', rules: [] },
            { badge: 'a' },
            { badge: 'b' },
          ],
        },
      ],
      [],
      () => ids.shift() as string,
    );
    expect(result.groups[0].requirements.map((r) => r.id)).toEqual(['keep', 'n1', 'n2']);
  });

  it('gives up on a generator that only repeats itself', () => {
    expect(() =>
      assignRequirementIds(
        [{ requirements: [{ id: 'same', badge: 'a' }, { badge: 'b' }] }],
        [],
        () => 'same',
      ),
    ).toThrow('newId() kept returning ids already in use');
  });
});
