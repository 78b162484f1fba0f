import type { LearningEventLike, Operator, Rule } from '../../src/rules/index.js';
import { deepEqual, ruleHolds } from '../../src/rules/index.js';

const event: LearningEventLike = {
  id: 'lms-42-7781',
  type: 'activity.grade.updated',
  occurredAt: '2026-11-02T10:00:00Z',
  course: { id: '101' },
  user: { id: '57', email: 'ada@example.edu' },
  data: {
    activityId: 'quiz-3',
    percent: 87,
    score: 8.7,
    scoreText: '87',
    passed: true,
    nothing: null,
    tags: ['a', 'b'],
    meta: { level: 2, kind: 'exam' },
  },
};

const holds = (path: string, op: Operator, value: unknown) => ruleHolds({ path, op, value }, event);

describe('eq / ne', () => {
  it('compares primitives strictly', () => {
    expect(holds('data.activityId', 'eq', 'quiz-3')).toBe(true);
    expect(holds('data.activityId', 'eq', 'quiz-4')).toBe(false);
    expect(holds('data.percent', 'eq', 87)).toBe(true);
    expect(holds('data.passed', 'eq', true)).toBe(true);
    expect(holds('data.nothing', 'eq', null)).toBe(true);
    expect(holds('course.id', 'eq', '101')).toBe(true);
  });

  it('refuses type coercion', () => {
    expect(holds('data.percent', 'eq', '87')).toBe(false);
    expect(holds('data.scoreText', 'eq', 87)).toBe(false);
    expect(holds('course.id', 'eq', 101)).toBe(false);
    expect(holds('data.passed', 'eq', 'true')).toBe(false);
    expect(holds('data.passed', 'eq', 1)).toBe(false);
    expect(holds('data.nothing', 'eq', false)).toBe(false);
    expect(holds('data.percent', 'ne', '87')).toBe(true);
  });

  it('compares arrays and objects deeply', () => {
    expect(holds('data.tags', 'eq', ['a', 'b'])).toBe(true);
    expect(holds('data.tags', 'eq', ['b', 'a'])).toBe(false);
    expect(holds('data.tags', 'eq', ['a'])).toBe(false);
    expect(holds('data.meta', 'eq', { kind: 'exam', level: 2 })).toBe(true);
    expect(holds('data.meta', 'eq', { kind: 'exam', level: '2' })).toBe(false);
    expect(holds('data.meta', 'eq', { kind: 'exam' })).toBe(false);
    expect(holds('data.meta', 'eq', { kind: 'exam', level: 2, extra: 1 })).toBe(false);
    expect(holds('data.tags', 'ne', ['a', 'b'])).toBe(false);
    expect(holds('data.meta', 'ne', { kind: 'exam' })).toBe(true);
  });

  it('ne holds for a different value', () => {
    expect(holds('data.activityId', 'ne', 'quiz-4')).toBe(true);
    expect(holds('data.activityId', 'ne', 'quiz-3')).toBe(false);
  });
});

describe('gt / gte / lt / lte', () => {
  it('compares numbers', () => {
    expect(holds('data.percent', 'gt', 86)).toBe(true);
    expect(holds('data.percent', 'gt', 87)).toBe(false);
    expect(holds('data.percent', 'gte', 87)).toBe(true);
    expect(holds('data.percent', 'gte', 87.01)).toBe(false);
    expect(holds('data.percent', 'lt', 88)).toBe(true);
    expect(holds('data.percent', 'lt', 87)).toBe(false);
    expect(holds('data.percent', 'lte', 87)).toBe(true);
    expect(holds('data.percent', 'lte', 86.99)).toBe(false);
    expect(holds('data.score', 'gte', 8.7)).toBe(true);
  });

  it('compares strings lexically, so ISO timestamps compare in time order', () => {
    expect(holds('occurredAt', 'gte', '2026-11-01T00:00:00Z')).toBe(true);
    expect(holds('occurredAt', 'lt', '2026-11-01T00:00:00Z')).toBe(false);
    expect(holds('data.activityId', 'gt', 'quiz-10')).toBe(true);
    expect(holds('data.activityId', 'lte', 'quiz-3')).toBe(true);
  });

  it('never holds for mixed or non-comparable types', () => {
    expect(holds('data.percent', 'gte', '80')).toBe(false);
    expect(holds('data.percent', 'lt', '90')).toBe(false);
    expect(holds('data.scoreText', 'gte', 80)).toBe(false);
    expect(holds('data.scoreText', 'lte', 90)).toBe(false);
    expect(holds('data.passed', 'gte', false)).toBe(false);
    expect(holds('data.nothing', 'lte', 0)).toBe(false);
    expect(holds('data.tags', 'gt', 0)).toBe(false);
  });
});

describe('in', () => {
  it('holds when the value is one of the array', () => {
    expect(holds('data.activityId', 'in', ['quiz-1', 'quiz-3'])).toBe(true);
    expect(holds('data.activityId', 'in', ['quiz-1', 'quiz-2'])).toBe(false);
    expect(holds('data.meta', 'in', [{ level: 2, kind: 'exam' }])).toBe(true);
  });

  it('refuses coercion and non-array values', () => {
    expect(holds('data.percent', 'in', ['87', 88])).toBe(false);
    expect(holds('data.activityId', 'in', 'quiz-3')).toBe(false);
    expect(holds('data.activityId', 'in', [])).toBe(false);
  });
});

describe('exists', () => {
  it('distinguishes present and missing paths', () => {
    expect(holds('data.percent', 'exists', true)).toBe(true);
    expect(holds('data.percent', 'exists', false)).toBe(false);
    expect(holds('data.attempt', 'exists', true)).toBe(false);
    expect(holds('data.attempt', 'exists', false)).toBe(true);
  });

  it('counts null as present', () => {
    expect(holds('data.nothing', 'exists', true)).toBe(true);
    expect(holds('data.nothing', 'exists', false)).toBe(false);
  });

  it('needs a real boolean', () => {
    expect(holds('data.percent', 'exists', 'true')).toBe(false);
    expect(holds('data.attempt', 'exists', 0)).toBe(false);
  });
});

describe('missing paths', () => {
  it('hold only for ne and exists: false', () => {
    const missing: [Operator, unknown, boolean][] = [
      ['eq', 1, false],
      ['eq', null, false],
      ['ne', 1, true],
      ['ne', null, true],
      ['gt', 0, false],
      ['gte', 0, false],
      ['lt', 100, false],
      ['lte', 100, false],
      ['in', [null, 1], false],
      ['exists', true, false],
      ['exists', false, true],
    ];
    for (const [op, value, expected] of missing) {
      expect([op, holds('data.grade', op, value)]).toEqual([op, expected]);
    }
  });

  it('treats prototype paths as missing', () => {
    expect(holds('constructor', 'exists', true)).toBe(false);
    expect(holds('data.__proto__', 'exists', false)).toBe(true);
    expect(holds('data.constructor.name', 'eq', 'Object')).toBe(false);
    expect(holds('data.toString', 'exists', true)).toBe(false);
  });
});

describe('unknown operators', () => {
  it('never hold', () => {
    expect(ruleHolds({ path: 'data.percent', op: 'regex', value: '8' } as unknown as Rule, event)).toBe(
      false,
    );
  });
});

describe('deepEqual', () => {
  it('does not equate arrays with array-like objects', () => {
    expect(deepEqual(['a'], { 0: 'a' })).toBe(false);
    expect(deepEqual({ 0: 'a' }, ['a'])).toBe(false);
    expect(deepEqual([[1, 2], { a: [3] }], [[1, 2], { a: [3] }])).toBe(true);
    expect(deepEqual({ a: undefined }, { b: undefined })).toBe(false);
  });
});
