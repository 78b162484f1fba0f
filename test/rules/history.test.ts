import type {
  EventRequirement,
  LearningEventLike,
  Penalty,
  RequirementGroup,
  TimedEvent,
} from '../../src/rules/index.js';
import {
  activityMatches,
  describeForLearner,
  describeRule,
  parseTemplateRules,
  partialShares,
  progressFraction,
  replayHistory,
  wildcardMatch,
} from '../../src/rules/index.js';

/** Counts of activities by name, time windows and order, judged by when things happened (history.ts). */

let seq = 0;
/** A stored event: `at` is when the LMS says it happened, `received` when Laurel got it. */
function stored(
  at: string,
  event: Partial<LearningEventLike> & { type: string },
  received?: string,
): TimedEvent {
  seq++;
  return {
    event: { course: { id: '101' }, user: { id: '7' }, ...event },
    eventId: event.id ?? `e${seq}`,
    occurredAt: new Date(at),
    receivedAt: new Date(received ?? at),
  };
}
const grade = (at: string, activityId: string, percent: number, name?: string, received?: string) =>
  stored(
    at,
    {
      type: 'activity.grade.updated',
      data: { activityId, percent, ...(name ? { activityName: name } : {}) },
    },
    received,
  );
const enrolled = (at: string, received?: string) =>
  stored(at, { type: 'enrollment.created', data: {} }, received);

/** Any 3 of the labs at 70% or more. */
const labs: EventRequirement = {
  id: 'labs',
  event: 'activity.grade.updated',
  rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
  activities: { name: 'lab', atLeast: 3 },
};
const groupsOf = (...reqs: EventRequirement[]): RequirementGroup[] =>
  reqs.map((r) => ({ requirements: [r] }));

describe('wildcard names', () => {
  it('match * and ? over the whole name, and nothing else', () => {
    expect(wildcardMatch('lab *', 'lab 1')).toBe(true);
    expect(wildcardMatch('lab *', 'lab')).toBe(false);
    expect(wildcardMatch('lab ?', 'lab 12')).toBe(false);
    expect(wildcardMatch('lab ??', 'lab 12')).toBe(true);
    expect(wildcardMatch('*quiz*', 'final quiz 2')).toBe(true);
    expect(wildcardMatch('week * lab', 'week 3 lab')).toBe(true);
    expect(wildcardMatch('week * lab', 'week 3 lab report')).toBe(false);
    // Characters that mean something to a regular expression mean nothing here.
    expect(wildcardMatch('lab (a+)+', 'lab (a+)+')).toBe(true);
    expect(wildcardMatch('lab .', 'lab x')).toBe(false);
  });

  it('stay fast on a pattern that would make a backtracking regex explode', () => {
    const pattern = `${'*a'.repeat(50)}*b`;
    const name = 'a'.repeat(200);
    const started = process.hrtime.bigint();
    expect(wildcardMatch(pattern, name)).toBe(false);
    // A backtracking match of this pair takes astronomically long; the greedy one, microseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(50);
  });

  it('pick activities by name (contains, case-insensitive) and by kind', () => {
    expect(activityMatches({ name: 'lab' }, { name: 'Week 2 LAB' })).toBe(true);
    expect(activityMatches({ name: 'Lab *' }, { name: 'Week 2 Lab' })).toBe(false);
    expect(activityMatches({ name: 'Lab *' }, { name: 'lab 4' })).toBe(true);
    expect(activityMatches({ name: 'lab' }, { name: null })).toBe(false);
    expect(activityMatches({ kind: 'assign' }, { name: 'Lab 1', kind: 'ASSIGN' })).toBe(true);
    expect(activityMatches({ kind: 'assign' }, { name: 'Lab 1', kind: 'quiz' })).toBe(false);
    expect(activityMatches({ kind: 'assign' }, { name: 'Lab 1' })).toBe(false);
    expect(activityMatches({ name: 'lab', kind: 'assign' }, { name: 'Essay', kind: 'assign' })).toBe(false);
  });
});

describe('a count of activities ("any 3 of the labs at 70% or more")', () => {
  const events = [
    grade('2027-03-01T10:00:00Z', 'a1', 90, 'Lab 1'),
    grade('2027-03-02T10:00:00Z', 'a2', 60, 'Lab 2'),
    grade('2027-03-03T10:00:00Z', 'a3', 75, 'Lab 3'),
    grade('2027-03-04T10:00:00Z', 'q1', 100, 'Quiz 1'),
    grade('2027-03-05T10:00:00Z', 'a2', 80, 'Lab 2'),
    grade('2027-03-06T10:00:00Z', 'a4', 99, 'Lab 4'),
  ];

  it('is met at the third different lab at the mark, by the time it happened', () => {
    const result = replayHistory({ groups: groupsOf(labs) }, events);
    expect(result.fulfilled).toEqual(['labs']);
    // Lab 2 at 80% on 5 March was the third (the 60% and the quiz did not count).
    expect(result.fulfilments).toEqual([
      { requirementId: 'labs', at: new Date('2027-03-05T10:00:00Z'), eventId: events[4]!.eventId },
    ]);
    expect(result.counted.labs).toEqual(['a1', 'a3', 'a2']);
  });

  it('gives the same result delivered in reverse, late or twice', () => {
    const forward = replayHistory({ groups: groupsOf(labs) }, events);
    const reversed = replayHistory({ groups: groupsOf(labs) }, [...events].reverse());
    const twice = replayHistory({ groups: groupsOf(labs) }, [...events, ...events]);
    const late = replayHistory(
      { groups: groupsOf(labs) },
      events.map((e) => ({ ...e, receivedAt: new Date('2027-06-01T00:00:00Z') })),
    );
    for (const other of [reversed, twice, late]) {
      expect(other.fulfilled).toEqual(forward.fulfilled);
      expect(other.fulfilments).toEqual(forward.fulfilments);
    }
  });

  it('counts one activity once, however many grades it gets', () => {
    const result = replayHistory({ groups: groupsOf(labs) }, [
      grade('2027-03-01T10:00:00Z', 'a1', 90, 'Lab 1'),
      grade('2027-03-02T10:00:00Z', 'a1', 95, 'Lab 1'),
      grade('2027-03-03T10:00:00Z', 'a2', 95, 'Lab 2'),
    ]);
    expect(result.fulfilled).toEqual([]);
    expect(result.counted.labs).toEqual(['a1', 'a2']);
    // Two of three labs: two thirds of the badge's only group.
    const shares = partialShares(groupsOf(labs), result.counted);
    expect(shares).toEqual({ labs: 2 / 3 });
    expect(progressFraction(groupsOf(labs), result.fulfilled, shares)).toBeCloseTo(2 / 3, 10);
  });

  it('uses the names and kinds Laurel knows when the event carries none', () => {
    const byKind: EventRequirement = {
      ...labs,
      id: 'assignments',
      activities: { kind: 'assign', atLeast: 2 },
    };
    const known: Record<string, { name: string; kind: string }> = {
      a1: { name: 'Lab 1', kind: 'assign' },
      a2: { name: 'Essay', kind: 'assign' },
      q1: { name: 'Lab quiz', kind: 'quiz' },
    };
    const result = replayHistory(
      { groups: groupsOf(labs, byKind) },
      [
        grade('2027-03-01T10:00:00Z', 'a1', 90),
        grade('2027-03-02T10:00:00Z', 'a2', 90),
        grade('2027-03-03T10:00:00Z', 'q1', 90),
      ],
      { activity: (id) => known[id] },
    );
    expect(result.fulfilled).toEqual(['assignments']);
    expect(result.counted).toEqual({ labs: ['a1', 'q1'], assignments: ['a1', 'a2'] });
  });

  it('starts again from nothing when a penalty resets it', () => {
    const penalty: Penalty = { id: 'p', event: 'enrollment.deleted', rules: [], resets: ['labs'] };
    const result = replayHistory({ groups: groupsOf(labs), penalties: [penalty] }, [
      grade('2027-03-01T10:00:00Z', 'a1', 90, 'Lab 1'),
      grade('2027-03-02T10:00:00Z', 'a2', 90, 'Lab 2'),
      stored('2027-03-03T10:00:00Z', { type: 'enrollment.deleted', data: {} }),
      grade('2027-03-04T10:00:00Z', 'a3', 90, 'Lab 3'),
    ]);
    expect(result.fulfilled).toEqual([]);
    expect(result.counted.labs).toEqual(['a3']);
  });
});

describe('time windows', () => {
  const march: EventRequirement = {
    id: 'march',
    event: 'activity.grade.updated',
    rules: [
      { path: 'data.activityId', op: 'eq', value: 'quiz-1' },
      { path: 'data.percent', op: 'gte', value: 50 },
    ],
    window: { from: '2027-03-01T00:00:00Z', until: '2027-04-01T00:00:00Z' },
  };

  it('between two dates go by when it happened, not when it arrived', () => {
    // Graded on 31 March, delivered on 3 April: inside.
    const late = grade('2027-03-31T23:00:00Z', 'quiz-1', 80, undefined, '2027-04-03T09:00:00Z');
    expect(replayHistory({ groups: groupsOf(march) }, [late]).fulfilled).toEqual(['march']);
    // Graded on 1 April at midnight (the end is exclusive), delivered at once: outside.
    const after = grade('2027-04-01T00:00:00Z', 'quiz-1', 80);
    expect(replayHistory({ groups: groupsOf(march) }, [after]).fulfilled).toEqual([]);
    // Graded in February, delivered in March: outside.
    const early = grade('2027-02-28T12:00:00Z', 'quiz-1', 80, undefined, '2027-03-02T00:00:00Z');
    expect(replayHistory({ groups: groupsOf(march) }, [early]).fulfilled).toEqual([]);
  });

  const quick: EventRequirement = {
    id: 'quick',
    event: 'activity.grade.updated',
    rules: [
      { path: 'data.activityId', op: 'eq', value: 'quiz-1' },
      { path: 'data.percent', op: 'gte', value: 50 },
    ],
    window: { daysAfterEnrolment: 14 },
  };

  it('within D days of enrolment count from the first enrolment, whenever it was delivered', () => {
    const enrol = enrolled('2027-03-01T09:00:00Z', '2027-03-20T00:00:00Z');
    const inTime = grade('2027-03-15T08:59:00Z', 'quiz-1', 70, undefined, '2027-03-15T09:00:00Z');
    // The grade arrived first, the enrolment five days later: the same as the other way round.
    expect(replayHistory({ groups: groupsOf(quick) }, [inTime, enrol]).fulfilled).toEqual(['quick']);
    expect(replayHistory({ groups: groupsOf(quick) }, [enrol, inTime]).fulfilled).toEqual(['quick']);
    const tooLate = grade('2027-03-15T09:01:00Z', 'quiz-1', 70);
    expect(replayHistory({ groups: groupsOf(quick) }, [tooLate, enrol]).fulfilled).toEqual([]);
    // A second enrolment does not move the start.
    const again = enrolled('2027-03-10T00:00:00Z');
    expect(replayHistory({ groups: groupsOf(quick) }, [again, tooLate, enrol]).enrolledAt).toEqual(
      new Date('2027-03-01T09:00:00Z'),
    );
  });

  it('within D days of enrolment do not hold while no enrolment is known', () => {
    expect(
      replayHistory({ groups: groupsOf(quick) }, [grade('2027-03-02T00:00:00Z', 'quiz-1', 90)]).fulfilled,
    ).toEqual([]);
  });

  it('before the course ends go by the course end when Laurel knows it, and limit nothing while it does not', () => {
    const beforeEnd: EventRequirement = { ...quick, id: 'end', window: { beforeCourseEnd: true } };
    const g = grade('2027-06-30T12:00:00Z', 'quiz-1', 90);
    expect(replayHistory({ groups: groupsOf(beforeEnd) }, [g]).fulfilled).toEqual(['end']);
    const ended = { courseEndsAt: new Date('2027-06-30T00:00:00Z') };
    expect(replayHistory({ groups: groupsOf(beforeEnd) }, [g], ended).fulfilled).toEqual([]);
    expect(
      replayHistory({ groups: groupsOf(beforeEnd) }, [grade('2027-06-29T12:00:00Z', 'quiz-1', 90)], ended)
        .fulfilled,
    ).toEqual(['end']);
  });
});

describe('order ("A before B")', () => {
  const draft: EventRequirement = {
    id: 'draft',
    event: 'activity.completed',
    rules: [{ path: 'data.activityId', op: 'eq', value: 'draft' }],
  };
  const final: EventRequirement = {
    id: 'final',
    event: 'activity.grade.updated',
    rules: [
      { path: 'data.activityId', op: 'eq', value: 'final' },
      { path: 'data.percent', op: 'gte', value: 60 },
    ],
    after: 'draft',
  };
  const groups = groupsOf(draft, final);
  const draftDone = (at: string, received?: string) =>
    stored(at, { type: 'activity.completed', data: { activityId: 'draft' } }, received);

  it('holds when A happened first, even if B was delivered first', () => {
    const a = draftDone('2027-03-01T10:00:00Z', '2027-03-09T00:00:00Z');
    const b = grade('2027-03-05T10:00:00Z', 'final', 75, undefined, '2027-03-05T10:00:01Z');
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const result = replayHistory({ groups }, order);
      expect(result.fulfilled).toEqual(['draft', 'final']);
      expect(result.fulfilments[1]).toEqual({
        requirementId: 'final',
        at: new Date('2027-03-05T10:00:00Z'),
        eventId: b.eventId,
      });
    }
  });

  it('does not hold when B happened first, until B happens again after A', () => {
    const b = grade('2027-03-01T10:00:00Z', 'final', 75);
    const a = draftDone('2027-03-05T10:00:00Z');
    expect(replayHistory({ groups }, [a, b]).fulfilled).toEqual(['draft']);
    // The same moment is not "before".
    expect(replayHistory({ groups }, [draftDone('2027-03-01T10:00:00Z'), b]).fulfilled).toEqual(['draft']);
    const again = grade('2027-03-07T10:00:00Z', 'final', 65);
    expect(replayHistory({ groups }, [again, b, a]).fulfilled).toEqual(['draft', 'final']);
  });
});

describe('validation of counts, windows and order', () => {
  const req = (extra: Record<string, unknown>, id = 'x') => ({
    id,
    event: 'activity.grade.updated',
    rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
    ...extra,
  });
  const details = (requirements: unknown[]) => {
    const result = parseTemplateRules({ groups: [{ requirements }] });
    return result.success ? [] : result.details;
  };

  it('accepts each option in its documented shape', () => {
    const result = parseTemplateRules({
      groups: [
        {
          requirements: [
            req({ activities: { name: 'Lab *', atLeast: 3 } }, 'labs'),
            req(
              {
                window: {
                  from: '2027-03-01T00:00:00Z',
                  until: '2027-04-01T00:00:00+02:00',
                  daysAfterEnrolment: 30,
                },
                after: 'labs',
              },
              'late',
            ),
            req({ window: { beforeCourseEnd: true } }, 'end'),
          ],
        },
      ],
    });
    expect(result.success).toBe(true);
    if (result.success)
      expect(result.data.groups[0]!.requirements[1]).toEqual({
        id: 'late',
        event: 'activity.grade.updated',
        rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
        window: { from: '2027-03-01T00:00:00Z', until: '2027-04-01T00:00:00+02:00', daysAfterEnrolment: 30 },
        after: 'labs',
      });
  });

  it('names the field of every bad window', () => {
    expect(details([req({ window: { from: 'next monday' } })])).toEqual([
      {
        path: 'groups.0.requirements.0.window.from',
        message: 'window.from must be an ISO 8601 date-time with a time zone, e.g. "2027-03-01T00:00:00Z"',
      },
    ]);
    expect(
      details([req({ window: { from: '2027-04-01T00:00:00Z', until: '2027-03-01T00:00:00Z' } })]),
    ).toEqual([
      { path: 'groups.0.requirements.0.window.until', message: 'window.until must be after window.from' },
    ]);
    expect(details([req({ window: { daysAfterEnrolment: 0 } })])).toEqual([
      {
        path: 'groups.0.requirements.0.window.daysAfterEnrolment',
        message: 'window.daysAfterEnrolment must be at least 1',
      },
    ]);
    expect(details([req({ window: { beforeCourseEnd: false } })])).toEqual([
      {
        path: 'groups.0.requirements.0.window.beforeCourseEnd',
        message: 'window.beforeCourseEnd must be true (or left out)',
      },
    ]);
    expect(details([req({ window: {} })])).toEqual([
      {
        path: 'groups.0.requirements.0.window',
        message: 'window needs from, until, daysAfterEnrolment or beforeCourseEnd',
      },
    ]);
    expect(details([req({ window: { since: '2027-01-01T00:00:00Z' } })])).toEqual([
      { path: 'groups.0.requirements.0.window.since', message: 'unknown field "since"' },
      {
        path: 'groups.0.requirements.0.window',
        message: 'window needs from, until, daysAfterEnrolment or beforeCourseEnd',
      },
    ]);
  });

  it('names the field of every bad count', () => {
    expect(details([req({ activities: { name: 'lab' } })])).toEqual([
      { path: 'groups.0.requirements.0.activities.atLeast', message: 'activities.atLeast is required' },
    ]);
    expect(details([req({ activities: { atLeast: 2 } })])).toEqual([
      {
        path: 'groups.0.requirements.0.activities',
        message: 'activities needs a name, a kind, a tag, or more than one',
      },
    ]);
    expect(details([req({ activities: { name: 'lab', atLeast: 2.5 } })])).toEqual([
      {
        path: 'groups.0.requirements.0.activities.atLeast',
        message: 'activities.atLeast must be a whole number',
      },
    ]);
    expect(details([req({ activities: { kind: 'as sign', atLeast: 2 } })])).toEqual([
      {
        path: 'groups.0.requirements.0.activities.kind',
        message: 'activities.kind must be the LMS’s kind of activity, e.g. "assign" or "quiz"',
      },
    ]);
    expect(
      details([{ event: 'course.completed', rules: [], activities: { name: 'lab', atLeast: 2 } }]),
    ).toEqual([
      {
        path: 'groups.0.requirements.0.activities',
        message:
          'activities counts activities, so event must be activity.grade.updated or activity.completed',
      },
    ]);
    expect(
      details([
        req({
          rules: [{ path: 'data.activityId', op: 'eq', value: 'a1' }],
          activities: { name: 'lab', atLeast: 2 },
        }),
      ]),
    ).toEqual([
      {
        path: 'groups.0.requirements.0.rules.0.path',
        message:
          'a count of activities picks them by activities.name or activities.kind, not data.activityId',
      },
    ]);
  });

  it('names the field of every bad order, and refuses time on a badge requirement', () => {
    expect(details([req({ after: 'nope' })])).toEqual([
      {
        path: 'groups.0.requirements.0.after',
        message: 'after names "nope", which is not an event requirement of this template',
      },
    ]);
    expect(details([req({ after: 'x' })])).toEqual([
      { path: 'groups.0.requirements.0.after', message: 'after must name another requirement, not itself' },
    ]);
    expect(details([req({ after: 'b' }, 'a'), req({ after: 'a' }, 'b')])).toEqual([
      {
        path: 'groups.0.requirements.0.after',
        message: 'after makes a loop: no requirement on it could be met',
      },
      {
        path: 'groups.0.requirements.1.after',
        message: 'after makes a loop: no requirement on it could be met',
      },
    ]);
    expect(details([{ badge: '0123456789abcdef01234567', window: { daysAfterEnrolment: 3 } }])).toEqual([
      { path: 'groups.0.requirements.0.window', message: 'a badge requirement takes no window' },
    ]);
  });
});

describe('words for counts, windows and order', () => {
  const draft: EventRequirement = {
    id: 'draft',
    event: 'activity.completed',
    rules: [{ path: 'data.activityId', op: 'eq', value: 'draft' }],
  };
  const final: EventRequirement = {
    id: 'final',
    event: 'activity.grade.updated',
    rules: [
      { path: 'data.activityId', op: 'eq', value: 'final' },
      { path: 'data.percent', op: 'gte', value: 60 },
    ],
    after: 'draft',
    window: { from: '2027-03-01T00:00:00Z', until: '2027-04-01T00:00:00Z' },
  };
  const ctx = { activityTitles: { draft: 'Essay draft', final: 'Final essay' } };

  it('say it for instructors', () => {
    expect(describeRule(groupsOf(labs), ctx)).toBe(
      'Earned when: 3 activities whose name contains “lab”, each ≥ 70%',
    );
    expect(
      describeRule(
        groupsOf({
          ...labs,
          activities: { name: 'Lab *', kind: 'assign', atLeast: 2 },
          window: { daysAfterEnrolment: 30 },
        }),
      ),
    ).toBe(
      'Earned when: 2 activities of kind “assign” named like “Lab *”, each ≥ 70%, within 30 days of enrolment',
    );
    expect(describeRule(groupsOf(draft, final), ctx)).toBe(
      'Earned when: Essay draft completed AND Final essay ≥ 60%, between 1 Mar 2027 and the end of 31 Mar 2027, after “Essay draft completed”',
    );
    expect(describeRule(groupsOf({ ...draft, window: { beforeCourseEnd: true } }), ctx)).toBe(
      'Earned when: Essay draft completed, before the course ends',
    );
  });

  it('say it for learners', () => {
    expect(describeForLearner(groupsOf(labs), ctx)).toBe(
      'Earn this badge by: scoring 70% or more on any 3 activities whose name contains “lab”',
    );
    expect(describeForLearner(groupsOf(draft, final), ctx)).toBe(
      'Earn this badge by: completing Essay draft, and scoring 60% or more on Final essay between 1 Mar 2027 and the end of 31 Mar 2027, after completing Essay draft',
    );
    expect(
      describeForLearner(
        groupsOf({ ...draft, window: { daysAfterEnrolment: 7, until: '2027-05-01T12:30:00Z' } }),
        ctx,
      ),
    ).toBe('Earn this badge by: completing Essay draft by 1 May 2027, 12:30 UTC, within 7 days of enrolling');
  });
});
