import { eventTimeProblem, normaliseEvent } from '../../src/events/normalise.js';

const NOW = new Date('2026-11-02T10:00:00Z');
const HOUR = 3600 * 1000;

const base = (over: Record<string, unknown> = {}) => ({
  id: 'lms-42-7781',
  type: 'activity.grade.updated',
  occurredAt: '2026-11-02T09:00:00Z',
  platform: 'https://moodle.example.edu',
  course: { id: '101', title: 'Chemistry 101' },
  user: { id: '57', email: 'ada@example.edu', name: 'Ada Lovelace' },
  data: { activityId: 'quiz-3', activityName: 'Quiz 3', score: 87, maxScore: 100 },
  ...over,
});

const errorOf = (input: unknown) => {
  const result = normaliseEvent(input, NOW);
  return result.ok ? undefined : result.error;
};

describe('event times', () => {
  it('accepts times from 2000-01-01 to a day ahead of now, in any offset', () => {
    for (const occurredAt of [
      '2000-01-01T00:00:00Z',
      '2000-01-01T01:00:00+01:00',
      '2026-11-02T10:00:00Z',
      new Date(NOW.getTime() + 24 * HOUR).toISOString(),
      '2026-11-03T12:00:00+03:00', // 09:00Z the next day: 23 h ahead
    ])
      expect(errorOf(base({ occurredAt }))).toBeUndefined();
  });

  it('refuses times before 2000 or more than a day ahead, saying which bound', () => {
    expect(errorOf(base({ occurredAt: '1999-12-31T23:59:59Z' }))).toBe(
      'occurredAt: must not be before 2000-01-01T00:00:00Z',
    );
    expect(errorOf(base({ occurredAt: '2000-01-01T00:30:00+01:00' }))).toMatch(/before 2000-01-01/);
    expect(errorOf(base({ occurredAt: '1970-01-01T00:00:00Z' }))).toMatch(/before 2000-01-01/);
    expect(errorOf(base({ occurredAt: new Date(NOW.getTime() + 24 * HOUR + 1000).toISOString() }))).toBe(
      "occurredAt: must not be more than a day ahead of now (2026-11-02T10:00:00.000Z); check the sender's clock",
    );
    expect(errorOf(base({ occurredAt: '9999-12-31T23:59:59Z' }))).toMatch(/more than a day ahead/);
  });

  it('reports the range beside the other problems of an event, and a malformed time once', () => {
    const both = normaliseEvent(base({ occurredAt: '1990-01-01T00:00:00Z', user: { id: '' } }), NOW);
    expect(both.ok).toBe(false);
    expect(!both.ok && both.details.map((d) => d.path).sort()).toEqual(['occurredAt', 'user.id']);
    expect(errorOf(base({ occurredAt: 'yesterday' }))).toBe(
      'occurredAt: must be an ISO 8601 date-time such as 2026-11-02T10:00:00Z',
    );
  });

  it('eventTimeProblem is pure and takes the time it is given', () => {
    expect(eventTimeProblem(new Date('2030-01-01T00:00:00Z'), NOW)).toMatch(/more than a day ahead/);
    expect(
      eventTimeProblem(new Date('2030-01-01T00:00:00Z'), new Date('2029-12-31T12:00:00Z')),
    ).toBeUndefined();
    expect(eventTimeProblem(new Date('nonsense'), NOW)).toBe('is not a date');
  });
});

describe('names and ids', () => {
  const fields: [string, (bad: string) => Record<string, unknown>][] = [
    ['id', (bad) => ({ id: bad })],
    ['platform', (bad) => ({ platform: bad })],
    ['course.id', (bad) => ({ course: { id: bad } })],
    ['course.title', (bad) => ({ course: { id: '101', title: bad } })],
    ['user.id', (bad) => ({ user: { id: bad } })],
    ['user.name', (bad) => ({ user: { id: '57', name: bad } })],
    ['user.email', (bad) => ({ user: { id: '57', email: bad } })],
    ['data.activityId', (bad) => ({ data: { activityId: bad } })],
    ['data.activityName', (bad) => ({ data: { activityId: 'quiz-3', activityName: bad } })],
  ];
  const unsafe: [string, RegExp][] = [
    ['ada\u0000x', /NUL|e-mail/],
    ['ada\ud800x', /lone surrogate|e-mail/],
    ['ada\udfffx', /lone surrogate|e-mail/],
    ['ada\u0007x', /control character|e-mail/],
  ];
  for (const [path, place] of fields)
    it(`refuses NUL, lone surrogates and control characters in ${path}`, () => {
      for (const [bad, why] of unsafe) {
        const error = errorOf(base(place(path === 'user.email' ? `${bad}@example.edu` : bad)));
        expect(error).toBeDefined();
        expect(error).toContain(`${path}: `);
        expect(error).toMatch(why);
      }
    });

  it('refuses NUL in the e-mail address with a reason, not only as "not an address"', () => {
    expect(errorOf(base({ user: { id: '57', email: 'ada@example.edu\u0000' } }))).toMatch(/^user\.email: /);
  });

  it('accepts what people are called: accents, other scripts, emoji (surrogate pairs), tabs', () => {
    const result = normaliseEvent(
      base({
        user: { id: 'ü-57', name: 'Zoë Ñúñez 李雷 🎓' },
        course: { id: '101', title: 'Chimie\t101 🧪' },
        data: { activityId: 'quiz-🎯', activityName: 'Контрольная 3' },
      }),
      NOW,
    );
    expect(result.ok).toBe(true);
  });

  it('refuses a non-string activity name, and a data field name with NUL (MongoDB cannot store it)', () => {
    expect(errorOf(base({ data: { activityId: 'q', activityName: 42 } }))).toBe(
      'data.activityName: must be a string',
    );
    expect(errorOf(base({ data: { activityId: 'q', 'a\u0000b': 1 } }))).toBe(
      'data.a\u0000b: field names must not contain NUL characters',
    );
  });

  it('refuses a badge.awarded templateId with unsafe characters', () => {
    const event = base({ type: 'badge.awarded', data: { templateId: 'abc\u0000' } });
    expect(errorOf(event)).toBe('data.templateId: must not contain NUL characters');
  });
});

describe('activity ids', () => {
  it('names one problem per field: missing, not a string, or too long', () => {
    expect(errorOf(base({ data: {} }))).toBe('data.activityId: must be a non-empty string');
    expect(errorOf(base({ data: { activityId: 7 } }))).toBe('data.activityId: must be a non-empty string');
    expect(errorOf(base({ data: { activityId: 'q'.repeat(201) } }))).toBe(
      'data.activityId: at most 200 characters',
    );
    expect(errorOf(base({ type: 'course.completed', data: { activityId: 7 } }))).toBe(
      'data.activityId: must be a string',
    );
  });
});
