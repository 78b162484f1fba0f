import { pathSegments, readPath } from '../../src/rules/index.js';

const event = {
  type: 'activity.grade.updated',
  course: { id: '101' },
  user: { id: '57' },
  data: {
    activityId: 'quiz-3',
    percent: 87,
    nothing: null,
    gone: undefined,
    attempts: [{ score: 4 }, { score: 9 }],
    '0': 'zero-key',
  },
};

describe('readPath', () => {
  it('reads top-level and nested values', () => {
    expect(readPath(event, 'type')).toEqual({ found: true, value: 'activity.grade.updated' });
    expect(readPath(event, 'course.id')).toEqual({ found: true, value: '101' });
    expect(readPath(event, 'data.percent')).toEqual({ found: true, value: 87 });
    expect(readPath(event, 'data.attempts')).toEqual({ found: true, value: [{ score: 4 }, { score: 9 }] });
  });

  it('reads array elements by numeric segment', () => {
    expect(readPath(event, 'data.attempts.1.score')).toEqual({ found: true, value: 9 });
    expect(readPath(event, 'data.attempts.0')).toEqual({ found: true, value: { score: 4 } });
  });

  it('does not resolve out-of-range, non-numeric or padded indices on arrays', () => {
    expect(readPath(event, 'data.attempts.2')).toEqual({ found: false });
    expect(readPath(event, 'data.attempts.length')).toEqual({ found: false });
    expect(readPath(event, 'data.attempts.01')).toEqual({ found: false });
    expect(readPath(event, 'data.attempts.-1')).toEqual({ found: false });
  });

  it('treats a numeric segment on an object as an ordinary key', () => {
    expect(readPath(event, 'data.0')).toEqual({ found: true, value: 'zero-key' });
  });

  it('reports missing paths as not found', () => {
    expect(readPath(event, 'data.score')).toEqual({ found: false });
    expect(readPath(event, 'data.percent.value')).toEqual({ found: false });
    expect(readPath(event, 'nope.deeper')).toEqual({ found: false });
    expect(readPath(null, 'a')).toEqual({ found: false });
  });

  it('finds null but not undefined', () => {
    expect(readPath(event, 'data.nothing')).toEqual({ found: true, value: null });
    expect(readPath(event, 'data.gone')).toEqual({ found: false });
  });

  it('refuses empty and malformed paths', () => {
    expect(readPath(event, '')).toEqual({ found: false });
    expect(readPath(event, '.type')).toEqual({ found: false });
    expect(readPath(event, 'data.')).toEqual({ found: false });
    expect(readPath(event, 'data..percent')).toEqual({ found: false });
  });

  it('never reaches the prototype', () => {
    expect(readPath(event, '__proto__')).toEqual({ found: false });
    expect(readPath(event, 'constructor')).toEqual({ found: false });
    expect(readPath(event, 'constructor.prototype')).toEqual({ found: false });
    expect(readPath(event, 'data.__proto__.toString')).toEqual({ found: false });
    expect(readPath(event, 'data.hasOwnProperty')).toEqual({ found: false });
    expect(readPath(event, 'data.toString')).toEqual({ found: false });
    expect(readPath(event, 'type.length')).toEqual({ found: false });
  });

  it('refuses forbidden segments even when they are own properties', () => {
    const tricky = JSON.parse('{"data":{"__proto__":{"x":1},"constructor":"c","prototype":"p"}}');
    expect(readPath(tricky, 'data.__proto__.x')).toEqual({ found: false });
    expect(readPath(tricky, 'data.constructor')).toEqual({ found: false });
    expect(readPath(tricky, 'data.prototype')).toEqual({ found: false });
  });

  it('reads objects without a prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.score = 3;
    expect(readPath({ data: bare }, 'data.score')).toEqual({ found: true, value: 3 });
  });
});

describe('pathSegments', () => {
  it('splits valid paths and rejects invalid ones', () => {
    expect(pathSegments('data.attempts.0.score')).toEqual(['data', 'attempts', '0', 'score']);
    expect(pathSegments('')).toBeNull();
    expect(pathSegments('a..b')).toBeNull();
    expect(pathSegments('a.prototype')).toBeNull();
  });
});
