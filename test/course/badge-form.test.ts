import { Types } from 'mongoose';
import type { TemplateDoc } from '../../src/db/models/template.js';
import { badgeInputOf, formValuesOf, readBadgeForm } from '../../src/web/course/badgeForm.js';

const stored = (over: Partial<TemplateDoc> = {}): TemplateDoc =>
  ({
    _id: new Types.ObjectId(),
    platformId: new Types.ObjectId(),
    courseId: '101',
    courseRef: new Types.ObjectId(),
    name: 'Stored',
    description: '',
    criteria: '',
    tags: ['a', 'b'],
    expiresAfterDays: 30,
    expiresAt: null,
    allowReEarn: false,
    state: 'draft',
    groups: [
      {
        requirements: [
          {
            id: 'q3',
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
              { path: 'data.percent', op: 'gte', value: 80 },
            ],
          },
          {
            id: 'odd',
            event: 'activity.grade.updated',
            rules: [{ path: 'data.attempt', op: 'gt', value: 2 }],
          },
        ],
      },
    ],
    penalties: [],
    ...over,
  }) as unknown as TemplateDoc;

describe('the badge form', () => {
  it('reads nested builder rows as qs parses them, arrays or objects', () => {
    const values = readBadgeForm({
      name: ' Star ',
      tags: 'x, y',
      expiry: 'days',
      expiresAfterDays: '10',
      groups: {
        '0': { '0': { kind: 'course-completed' } },
        '1': [{ kind: 'activity-completed', activityId: 'lab' }],
      },
    });
    expect(values.name).toBe('Star');
    expect(values.groups).toEqual([
      [{ kind: 'course-completed', activityId: '', threshold: '', unit: '', templateId: '', id: '' }],
      [{ kind: 'activity-completed', activityId: 'lab', threshold: '', unit: '', templateId: '', id: '' }],
    ]);
  });

  it('shows a stored template as form values, keeping hand-made requirements by id', () => {
    const values = formValuesOf(stored());
    expect(values.tags).toBe('a, b');
    expect(values.expiry).toBe('days');
    expect(values.groups[0]).toEqual([
      {
        id: 'q3',
        kind: 'activity-grade',
        activityId: 'quiz-3',
        threshold: '80',
        unit: 'percent',
        templateId: '',
      },
      { kind: 'custom', id: 'odd' },
    ]);
  });

  it('saves the builder rows and puts the untouched hand-made requirement back in its group', () => {
    const template = stored();
    const values = formValuesOf(template);
    values.groups[0]![0]!.threshold = '90';
    const result = badgeInputOf(values, template);
    if (!('input' in result)) throw new Error(JSON.stringify(result));
    expect(result.input.groups).toEqual([
      {
        requirements: [
          {
            id: 'q3',
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
              { path: 'data.percent', op: 'gte', value: 90 },
            ],
          },
          {
            id: 'odd',
            event: 'activity.grade.updated',
            rules: [{ path: 'data.attempt', op: 'gt', value: 2 }],
          },
        ],
      },
    ]);
    expect(result.input.expiresAfterDays).toBe(30);
  });

  it('turns a penalty that undoes everything into the ids of every requirement', () => {
    const values = readBadgeForm({
      name: 'P',
      groups: [[{ kind: 'course-completed' }], [{ kind: 'activity-completed', activityId: 'lab' }]],
      penalties: [{ kind: 'course-grade-below', threshold: '40', unit: 'percent', resets: 'all' }],
    });
    const result = badgeInputOf(values, null);
    if (!('input' in result)) throw new Error(JSON.stringify(result));
    const ids = result.input.groups.flatMap((g) => g.requirements.map((r) => r.id));
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(result.input.penalties[0]!.resets).toEqual(ids);
    expect(result.input.penalties[0]!.rules).toEqual([{ path: 'data.percent', op: 'lt', value: 40 }]);
  });

  it('names each bad field by its form name', () => {
    const result = badgeInputOf(
      readBadgeForm({
        name: '',
        expiry: 'date',
        expiresAt: '2001-01-01',
        groups: [[{ kind: 'activity-grade', activityId: '', threshold: '' }]],
        penalties: [{ kind: 'activity-grade-below', threshold: 'x' }],
      }),
      null,
    );
    expect(result).toEqual({
      errors: {
        name: 'Give the badge a name.',
        expiresAt: 'The date has passed; choose one in the future.',
        'groups.0.0.activityId': 'Choose an activity or type its id.',
        'groups.0.0.threshold': 'Give a number, such as 80.',
        'penalties.0.threshold': 'Give a number, such as 50.',
      },
    });
  });
});
