import { evaluateLearner, standingOf, type StoredEvent } from '../../src/progress/recalculate.js';
import type { Penalty, RequirementGroup } from '../../src/rules/index.js';

const groups: RequirementGroup[] = [
  {
    requirements: [
      {
        id: 'quiz',
        event: 'activity.grade.updated',
        rules: [
          { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
          { path: 'data.percent', op: 'gte', value: 80 },
        ],
      },
    ],
  },
  {
    requirements: [
      { id: 'done', event: 'course.completed', rules: [] },
      { id: 'other', badge: 'b1' },
    ],
  },
];
const penalties: Penalty[] = [
  {
    id: 'low',
    event: 'activity.grade.updated',
    rules: [
      { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
      { path: 'data.percent', op: 'lt', value: 50 },
    ],
    resets: ['quiz'],
  },
];

let n = 0;
function stored(
  type: string,
  data: Record<string, unknown>,
  occurred: string,
  received = occurred,
): StoredEvent {
  n++;
  return {
    event: { id: `e${n}`, type, occurredAt: occurred, platform: 'p', user: { id: 'u' }, data },
    eventId: `e${n}`,
    occurredAt: new Date(occurred),
    receivedAt: new Date(received),
  };
}
const quiz = (percent: number, at: string, received?: string) =>
  stored('activity.grade.updated', { activityId: 'quiz-3', percent }, at, received);
const completed = (at: string) => stored('course.completed', {}, at);

describe('recalculating one learner from stored events', () => {
  it('applies events in the order they happened, not the order they arrived', () => {
    // A 90 then a 30 (penalty) happened in that order, though the 30 arrived first: the penalty wins.
    const events = [
      quiz(30, '2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z'),
      quiz(90, '2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z'),
    ];
    expect(evaluateLearner({ groups, penalties }, events, new Set()).fulfilled).toEqual([]);
    // The other way round, the later 90 fulfils the quiz again.
    const later = [quiz(30, '2026-01-01T00:00:00Z'), quiz(90, '2026-01-02T00:00:00Z')];
    const result = evaluateLearner({ groups, penalties }, later, new Set());
    expect(result.fulfilled).toEqual(['quiz']);
    expect(result.fulfilments).toEqual([
      { requirementId: 'quiz', at: new Date('2026-01-02T00:00:00Z'), eventId: later[1]!.eventId },
    ]);
    expect(result.fraction).toBe(0.5);
    expect(result.complete).toBe(false);
  });

  it('completes with a held required badge, and not with an award event of a badge no longer held', () => {
    const events = [
      quiz(85, '2026-01-01T00:00:00Z'),
      stored('badge.awarded', { templateId: 'b1' }, '2026-01-01T00:00:00Z'),
    ];
    expect(evaluateLearner({ groups, penalties }, events, new Set()).complete).toBe(false);
    const held = evaluateLearner({ groups, penalties }, events, new Set(['b1']));
    expect(held.fulfilled.sort()).toEqual(['other', 'quiz']);
    expect(held.complete).toBe(true);
  });

  it('leaves out what arrived before the learner’s last revocation or expiry', () => {
    const events = [quiz(85, '2026-01-01T00:00:00Z'), completed('2026-01-05T00:00:00Z')];
    const all = evaluateLearner({ groups, penalties }, events, new Set());
    expect(all.complete).toBe(true);
    const since = evaluateLearner({ groups, penalties }, events, new Set(), new Date('2026-01-03T00:00:00Z'));
    expect(since.fulfilled).toEqual(['done']);
    expect(since.complete).toBe(false);
  });

  it('places a learner for a dry run', () => {
    expect(standingOf({ complete: true, fraction: 1 }, true, true)).toBe('holds');
    expect(standingOf({ complete: true, fraction: 1 }, false, true)).toBe('would-earn');
    expect(standingOf({ complete: true, fraction: 1 }, false, false)).toBe('blocked');
    expect(standingOf({ complete: false, fraction: 0.5 }, false, true)).toBe('close');
    expect(standingOf({ complete: false, fraction: 0.34 }, false, true)).toBe('far');
  });
});
