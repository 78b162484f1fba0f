import type { EventRequirement, RequirementGroup, TimedEvent } from '../../src/rules/index.js';
import {
  activityMatches,
  countNoun,
  countProgressText,
  describeForLearner,
  describeRule,
  formatCourseEnd,
  parseTemplateRules,
  replayHistory,
} from '../../src/rules/index.js';

/** "Before the course ends" by each event's course, counts by tag, and the nouns of counts. */

let seq = 0;
function grade(
  at: string,
  activityId: string,
  percent: number,
  options: { received?: string; course?: string } = {},
): TimedEvent {
  seq++;
  return {
    event: {
      type: 'activity.grade.updated',
      course: { id: options.course ?? '101' },
      user: { id: '7' },
      data: { activityId, percent },
    },
    eventId: `e${seq}`,
    occurredAt: new Date(at),
    receivedAt: new Date(options.received ?? at),
  };
}
const groupsOf = (...reqs: EventRequirement[]): RequirementGroup[] =>
  reqs.map((r) => ({ requirements: [r] }));

const essay: EventRequirement = {
  id: 'essay',
  event: 'activity.grade.updated',
  rules: [
    { path: 'data.activityId', op: 'eq', value: 'essay' },
    { path: 'data.percent', op: 'gte', value: 60 },
  ],
  window: { beforeCourseEnd: true },
};

describe('before the course ends, judged by when the LMS says it happened', () => {
  // The course runs to the end of 12 June 2027 (UTC).
  const end = new Date('2027-06-13T00:00:00Z');

  it('a grade given after the end date does not count, even delivered at once', () => {
    const late = grade('2027-06-13T00:00:00Z', 'essay', 90);
    expect(replayHistory({ groups: groupsOf(essay) }, [late], { courseEndsAt: end }).fulfilled).toEqual([]);
    const later = grade('2027-07-01T09:00:00Z', 'essay', 90);
    expect(replayHistory({ groups: groupsOf(essay) }, [later], { courseEndsAt: end }).fulfilled).toEqual([]);
  });

  it('a grade given before the end date counts, even when it arrives weeks after it', () => {
    const given = grade('2027-06-12T23:59:59Z', 'essay', 90, { received: '2027-07-20T10:00:00Z' });
    const result = replayHistory({ groups: groupsOf(essay) }, [given], { courseEndsAt: end });
    expect(result.fulfilled).toEqual(['essay']);
    expect(result.fulfilments[0]!.at).toEqual(new Date('2027-06-12T23:59:59Z'));
  });

  it('a late grade before an in-time one of the same activity: the in-time one meets it, whatever the order', () => {
    const inTime = grade('2027-06-01T08:00:00Z', 'essay', 70, { received: '2027-06-20T00:00:00Z' });
    const tooLate = grade('2027-06-15T08:00:00Z', 'essay', 95, { received: '2027-06-15T08:00:00Z' });
    for (const order of [
      [inTime, tooLate],
      [tooLate, inTime],
    ])
      expect(replayHistory({ groups: groupsOf(essay) }, order, { courseEndsAt: end }).fulfilled).toEqual([
        'essay',
      ]);
  });

  it('a badge of every course goes by the end date of the course each event names', () => {
    const ends = new Map([
      ['101', new Date('2027-06-13T00:00:00Z')],
      ['202', new Date('2027-12-20T00:00:00Z')],
    ]);
    const env = { courseEndFor: (id: string) => ends.get(id) ?? null };
    const in202 = grade('2027-09-01T00:00:00Z', 'essay', 90, { course: '202' });
    const in101 = grade('2027-09-01T00:00:00Z', 'essay', 90, { course: '101' });
    const in303 = grade('2031-01-01T00:00:00Z', 'essay', 90, { course: '303' });
    expect(replayHistory({ groups: groupsOf(essay) }, [in202], env).fulfilled).toEqual(['essay']);
    expect(replayHistory({ groups: groupsOf(essay) }, [in101], env).fulfilled).toEqual([]);
    // A course whose end Laurel does not know: no limit.
    expect(replayHistory({ groups: groupsOf(essay) }, [in303], env).fulfilled).toEqual(['essay']);
  });

  it('the summary names the end date when it is known, and says less when it is not', () => {
    expect(describeRule(groupsOf(essay), { activityTitles: { essay: 'Essay' }, courseEndsAt: end })).toBe(
      'Earned when: Essay ≥ 60%, before the course ends on 12 June 2027',
    );
    expect(describeRule(groupsOf(essay), { activityTitles: { essay: 'Essay' } })).toBe(
      'Earned when: Essay ≥ 60%, before the course ends',
    );
    expect(
      describeForLearner(groupsOf(essay), { activityTitles: { essay: 'Essay' }, courseEndsAt: end }),
    ).toBe('Earn this badge by: scoring 60% or more on Essay before the course ends on 12 June 2027');
    expect(formatCourseEnd(new Date('2027-06-12T23:59:00-06:00'))).toBe('13 June 2027, 05:59 UTC');
  });
});

describe('counts by tag', () => {
  const labs: EventRequirement = {
    id: 'labs',
    event: 'activity.grade.updated',
    rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
    activities: { tag: 'Lab', atLeast: 2 },
  };

  it('an activity matches a tag it carries, upper or lower case alike, and no other', () => {
    expect(activityMatches({ tag: 'lab' }, { name: 'Titration', tags: ['Lab', 'week 2'] })).toBe(true);
    expect(activityMatches({ tag: 'LAB' }, { name: 'Titration', tags: ['lab'] })).toBe(true);
    expect(activityMatches({ tag: 'lab' }, { name: 'Lab 1', tags: ['Labs'] })).toBe(false);
    expect(activityMatches({ tag: 'lab' }, { name: 'Lab 1', tags: [] })).toBe(false);
    expect(activityMatches({ tag: 'lab' }, { name: 'Lab 1' })).toBe(false);
    // Tag and name together: both must hold.
    expect(activityMatches({ tag: 'lab', name: 'titr' }, { name: 'Titration', tags: ['lab'] })).toBe(true);
    expect(activityMatches({ tag: 'lab', name: 'essay' }, { name: 'Titration', tags: ['lab'] })).toBe(false);
  });

  it('counts the tagged activities at or above the mark, each once, and is met at N', () => {
    const tags: Record<string, string[]> = { a: ['lab'], b: ['Lab'], c: ['essay'] };
    const env = { activity: (id: string) => ({ name: `Activity ${id}`, tags: tags[id] ?? [] }) };
    const events = [
      grade('2027-03-01T00:00:00Z', 'a', 80),
      grade('2027-03-02T00:00:00Z', 'a', 90),
      grade('2027-03-03T00:00:00Z', 'c', 99),
      grade('2027-03-04T00:00:00Z', 'b', 50),
    ];
    const partway = replayHistory({ groups: groupsOf(labs) }, events, env);
    expect(partway.fulfilled).toEqual([]);
    expect(partway.counted).toEqual({ labs: ['a'] });
    const done = replayHistory(
      { groups: groupsOf(labs) },
      [...events, grade('2027-03-05T00:00:00Z', 'b', 75)],
      env,
    );
    expect(done.fulfilled).toEqual(['labs']);
    expect(done.counted).toEqual({ labs: ['a', 'b'] });
  });

  it('is described plainly for instructors and learners', () => {
    expect(describeRule(groupsOf(labs))).toBe('Earned when: 2 activities tagged “Lab”, each ≥ 70%');
    expect(describeForLearner(groupsOf(labs))).toBe(
      'Earn this badge by: scoring 70% or more on any 2 activities tagged “Lab”',
    );
  });

  it('is validated: a tag is text of at most 50 characters, and a count needs a name, a kind or a tag', () => {
    const parse = (activities: unknown) =>
      parseTemplateRules({
        groups: [{ requirements: [{ event: 'activity.grade.updated', rules: [], activities }] }],
      });
    const ok = parse({ tag: ' lab ', atLeast: 2 });
    expect(ok.success && ok.data.groups[0]!.requirements[0]).toMatchObject({
      activities: { tag: 'lab', atLeast: 2 },
    });
    const messages = (activities: unknown) => {
      const r = parse(activities);
      return r.success ? [] : r.details.map((d) => d.message);
    };
    expect(messages({ tag: 'x'.repeat(51), atLeast: 2 })).toEqual([
      'activities.tag must be at most 50 characters',
    ]);
    expect(messages({ tag: 3, atLeast: 2 })).toEqual(['activities.tag must be a string']);
    expect(messages({ tag: '  ', atLeast: 2 })).toEqual(['activities.tag must not be empty']);
    expect(messages({ atLeast: 2 })).toEqual(['activities needs a name, a kind, a tag, or more than one']);
  });
});

describe('the noun of a count ("2 of 3 labs")', () => {
  it('comes from a short label, the tag, the name pattern or the kind, in that order', () => {
    expect(countNoun({ name: 'lab' }, 3)).toBe('labs');
    expect(countNoun({ name: 'Lab *' }, 3)).toBe('labs');
    expect(countNoun({ name: 'lab' }, 1)).toBe('lab');
    expect(countNoun({ tag: 'Peer review', name: 'lab' }, 2)).toBe('peer reviews');
    expect(countNoun({ kind: 'quiz' }, 2)).toBe('quizzes');
    expect(countNoun({ kind: 'assign' }, 1)).toBe('assignment');
    expect(countNoun({ name: 'lab' }, 2, 'Practicals')).toBe('practicals');
    expect(countNoun({ name: 'Essays' }, 1)).toBe('essay');
    expect(countNoun({ name: 'Essays' }, 2)).toBe('essays');
    expect(countNoun({ name: 'study' }, 2)).toBe('studies');
    expect(countNoun({ tag: 'SQL' }, 2)).toBe('SQLs');
  });

  it('falls back to "activities" where the words do not read as a noun', () => {
    expect(countNoun({ name: 'Week 3' }, 2)).toBe('activities');
    expect(countNoun({ name: 'week 3 lab report draft' }, 2)).toBe('activities');
    expect(countNoun({ kind: 'glossary_x' }, 1)).toBe('activity');
    // A label that is a sentence is not a noun: the pattern names it.
    expect(countNoun({ name: 'lab' }, 3, 'Any 3 labs at 70% or more')).toBe('labs');
  });

  it('reads as N of M with that noun', () => {
    expect(countProgressText({ name: 'lab', atLeast: 3 }, 2)).toBe('2 of 3 labs');
    expect(countProgressText({ kind: 'quiz', atLeast: 1 }, 0)).toBe('0 of 1 quiz');
  });
});
