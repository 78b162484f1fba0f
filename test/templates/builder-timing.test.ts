import { Types } from 'mongoose';
import type { TemplateDoc } from '../../src/db/models/template.js';
import { requirementToCondition, rowsToGroups } from '../../src/templates/builder.js';
import { parseRowTiming, rowTimingOf } from '../../src/templates/builderTiming.js';
import { badgeInputOf, formValuesOf, readBadgeForm } from '../../src/web/course/badgeForm.js';

/** The builder's counts of activities, time limits and order, both ways (pure). */
describe('builder rows with counts and time limits', () => {
  it('turn a "several activities" row with time limits into the requirement', () => {
    const built = rowsToGroups([
      [
        {
          kind: 'activities-grade',
          pattern: ' Lab * ',
          patternKind: 'assign',
          count: '3',
          threshold: '70',
          unit: 'percent',
          from: '2027-03-01',
          until: '2027-03-31',
          days: '30',
          id: 'labs',
        },
        { kind: 'activities-completed', pattern: 'reading', count: '2', after: 'labs', id: 'reads' },
      ],
    ]);
    expect(built).toEqual({
      groups: [
        {
          requirements: [
            {
              id: 'labs',
              event: 'activity.grade.updated',
              rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
              activities: { name: 'Lab *', kind: 'assign', atLeast: 3 },
              // "Until 31 March" includes the whole of 31 March (UTC).
              window: {
                from: '2027-03-01T00:00:00Z',
                until: '2027-04-01T00:00:00Z',
                daysAfterEnrolment: 30,
              },
            },
            {
              id: 'reads',
              event: 'activity.completed',
              rules: [],
              activities: { name: 'reading', atLeast: 2 },
              after: 'labs',
            },
          ],
        },
      ],
    });
  });

  it('name each bad field', () => {
    const built = rowsToGroups([
      [
        { kind: 'activities-grade', pattern: '', count: '0', threshold: '70' },
        { kind: 'course-completed', from: '2027-02-30', until: '31/03/2027', days: '1.5' },
        { kind: 'course-completed', from: '2027-04-01', until: '2027-03-01', after: 'x y' },
        { kind: 'badge', templateId: '0123456789abcdef01234567', days: '3' },
      ],
    ]);
    expect(built).toEqual({
      errors: [
        {
          group: 0,
          row: 0,
          field: 'pattern',
          message: 'Give part of the activities’ name, such as “lab”, a tag, or choose a kind.',
        },
        { group: 0, row: 0, field: 'count', message: 'Give a whole number from 1 to 100.' },
        { group: 0, row: 1, field: 'from', message: 'A date such as 2027-03-01.' },
        { group: 0, row: 1, field: 'until', message: 'A date such as 2027-03-31.' },
        { group: 0, row: 1, field: 'days', message: 'A whole number of days from 1 to 3650.' },
        { group: 0, row: 2, field: 'until', message: 'Must not be before the start date.' },
        { group: 0, row: 2, field: 'after', message: 'Choose a condition from the list.' },
        {
          group: 0,
          row: 3,
          field: 'from',
          message: 'Another badge earned takes no time limits: leave them empty.',
        },
      ],
    });
    expect(parseRowTiming({ kind: 'course-completed', id: 'a', after: 'a' }, false)).toEqual({
      errors: [{ field: 'after', message: 'A condition cannot come after itself.' }],
    });
  });

  it('show a stored requirement as the same fields, and keep one the form cannot show exactly', () => {
    const labs = {
      id: 'labs',
      event: 'activity.grade.updated',
      rules: [{ path: 'data.score', op: 'gte' as const, value: 7 }],
      activities: { kind: 'assign', atLeast: 2 },
      window: { until: '2027-04-01T00:00:00Z', daysAfterEnrolment: 5 },
      after: 'intro',
    };
    expect(requirementToCondition(labs)).toEqual({
      kind: 'activities-grade',
      pattern: { kind: 'assign', atLeast: 2 },
      threshold: 7,
      unit: 'points',
    });
    expect(rowTimingOf(labs)).toEqual({ until: '2027-03-31', days: '5', after: 'intro' });
    // A window ending at 14:30 is no whole day: the form would change it, so it keeps it as it is.
    expect(rowTimingOf({ ...labs, window: { until: '2027-04-01T14:30:00Z' } })).toBeNull();
    // "Before the course ends" is a checkbox of its own.
    expect(rowTimingOf({ ...labs, window: { beforeCourseEnd: true } })).toEqual({
      after: 'intro',
      beforeEnd: 'on',
    });
    expect(parseRowTiming({ kind: 'activities-grade', beforeEnd: 'on' }, false)).toEqual({
      timing: { window: { beforeCourseEnd: true } },
    });
    expect(parseRowTiming({ kind: 'badge', beforeEnd: 'on' }, true)).toEqual({
      errors: [{ field: 'from', message: 'Another badge earned takes no time limits: leave them empty.' }],
    });
    const template = {
      _id: new Types.ObjectId(),
      name: 'T',
      description: '',
      criteria: '',
      tags: [],
      expiresAfterDays: null,
      expiresAt: null,
      allowReEarn: false,
      groups: [
        {
          requirements: [
            { id: 'intro', event: 'course.completed', rules: [] },
            labs,
            { ...labs, id: 'odd', window: { from: '2027-01-01T08:00:00Z' } },
          ],
        },
      ],
      penalties: [],
    } as unknown as TemplateDoc;
    const values = formValuesOf(template);
    expect(values.groups[0]).toEqual([
      {
        id: 'intro',
        kind: 'course-completed',
        activityId: '',
        threshold: '',
        unit: 'percent',
        templateId: '',
      },
      {
        id: 'labs',
        kind: 'activities-grade',
        activityId: '',
        threshold: '7',
        unit: 'points',
        templateId: '',
        pattern: '',
        patternKind: 'assign',
        patternTag: '',
        count: '2',
        until: '2027-03-31',
        days: '5',
        after: 'intro',
      },
      { kind: 'custom', id: 'odd' },
    ]);
    // Saved again unchanged, it gives back exactly what was stored.
    const again = badgeInputOf(values, template);
    expect('input' in again && again.input.groups[0]!.requirements).toEqual([
      { id: 'intro', event: 'course.completed', rules: [] },
      labs,
      { ...labs, id: 'odd', window: { from: '2027-01-01T08:00:00Z' } },
    ]);
  });

  it('refuses an "only after" that names a removed condition or makes a loop', () => {
    const template = {
      _id: new Types.ObjectId(),
      groups: [],
      penalties: [],
    } as unknown as TemplateDoc;
    const form = (groups: Record<string, Record<string, string>>) =>
      readBadgeForm({ name: 'Order', expiry: 'none', groups: { '0': groups } });
    const gone = badgeInputOf(
      form({ '0': { kind: 'course-completed', id: 'a', after: 'removed' } }),
      template,
    );
    expect(gone).toEqual({
      errors: {
        'groups.0.0.after': 'That condition is no longer in this badge: choose another, or “any time”.',
      },
    });
    const loop = badgeInputOf(
      form({
        '0': { kind: 'course-completed', id: 'a', after: 'b' },
        '1': { kind: 'course-grade', threshold: '50', id: 'b', after: 'a' },
      }),
      template,
    );
    expect(loop).toEqual({
      errors: {
        'groups.0.0.after': 'These conditions would each wait for the other, so none could be met.',
        'groups.0.1.after': 'These conditions would each wait for the other, so none could be met.',
      },
    });
  });
});

describe('builder rows counting activities by tag', () => {
  const posted = (over: Record<string, string>) =>
    readBadgeForm({
      name: 'Labs',
      groups: [[{ kind: 'activities-grade', threshold: '70', count: '2', ...over }]],
    });

  it('save "2 activities tagged lab at 70% or more", and show it again as the same fields', () => {
    const built = badgeInputOf(posted({ patternTag: ' Lab ' }), null);
    expect('input' in built && built.input.groups[0]!.requirements[0]).toEqual({
      event: 'activity.grade.updated',
      rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
      activities: { tag: 'Lab', atLeast: 2 },
    });
    const template = {
      _id: new Types.ObjectId(),
      name: 'Labs',
      description: '',
      criteria: '',
      tags: [],
      expiresAfterDays: null,
      expiresAt: null,
      allowReEarn: false,
      groups: [
        {
          requirements: [{ id: 'labs', ...('input' in built ? built.input.groups[0]!.requirements[0] : {}) }],
        },
      ],
      penalties: [],
    } as unknown as TemplateDoc;
    expect(formValuesOf(template).groups[0]![0]).toMatchObject({
      kind: 'activities-grade',
      pattern: '',
      patternKind: '',
      patternTag: 'Lab',
      count: '2',
      threshold: '70',
    });
  });

  it('refuse a row with neither name, kind nor tag, and a tag too long, beside the field', () => {
    const none = badgeInputOf(posted({}), null);
    expect('errors' in none && none.errors['groups.0.0.pattern']).toBe(
      'Give part of the activities’ name, such as “lab”, a tag, or choose a kind.',
    );
    const long = badgeInputOf(posted({ patternTag: 'x'.repeat(51) }), null);
    expect('errors' in long && long.errors['groups.0.0.patternTag']).toBe('A tag has at most 50 characters.');
  });
});
