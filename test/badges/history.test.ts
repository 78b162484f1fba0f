import { recalculateTemplate } from '../../src/progress/recalculation.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import {
  admin,
  event,
  registerTestPlatform,
  sendEvents,
  settled,
  type TestPlatformRecord,
} from '../support/api.js';

/**
 * Counts of activities, time windows and order through the admin API and the event endpoint: the
 * LMS's time decides, so events delivered late, in reverse or twice give the same badge.
 */
describe('counts, windows and order over HTTP', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  let course = 0;
  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** A fresh course per test, so no test sees another's events. */
  async function badge(groups: unknown[], activate = true) {
    const courseId = `hist-${++course}`;
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId,
      name: `History ${course}`,
      groups,
    });
    expect(created.status).toBe(201);
    if (activate) expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    return { id: created.body.id as string, courseId };
  }
  const send = async (...events: Record<string, unknown>[]) => {
    const answer = await sendEvents(t, platform.webhookSecret, { events });
    expect(answer.status).toBe(200);
    await settled(t);
    return answer;
  };
  const holders = async (id: string) =>
    ((await admin(t, 'GET', `/credentials?templateId=${id}`)).body.items as { userId: string }[])
      .map((c) => c.userId)
      .sort();
  const progressOf = async (id: string, user: string) =>
    (await admin(t, 'GET', `/progress?templateId=${id}&userId=${user}`)).body.items[0];

  it('awards "any 3 labs at 70% or more" at the third lab, with 2 of 3 counted before', async () => {
    const { id, courseId } = await badge([
      {
        requirements: [
          {
            id: 'labs',
            event: 'activity.grade.updated',
            rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
            activities: { name: 'lab', atLeast: 3 },
          },
        ],
      },
    ]);
    const grade = (activityId: string, activityName: string, percent: number) =>
      event(platform.id, {
        course: { id: courseId },
        user: { id: 'c1' },
        data: { activityId, activityName, percent },
      });
    await send(
      grade('a1', 'Lab 1', 90),
      grade('a2', 'Lab 2', 65),
      grade('q1', 'Quiz 1', 100),
      grade('a3', 'LAB 3', 70),
    );
    const part = await progressOf(id, 'c1');
    expect(part.ratio).toBe(0.67);
    expect(part.counted).toEqual({ labs: ['a1', 'a3'] });
    expect(await holders(id)).toEqual([]);

    // The same lab again does not count twice; a third one does.
    await send(grade('a1', 'Lab 1', 95));
    expect(await holders(id)).toEqual([]);
    await send(grade('a4', 'Lab 4', 88));
    expect(await holders(id)).toEqual(['c1']);
    expect((await progressOf(id, 'c1')).counted).toEqual({ labs: ['a1', 'a3', 'a4'] });
  });

  it('judges a window between two dates by when the LMS says it happened, for a late delivery', async () => {
    const { id, courseId } = await badge([
      {
        requirements: [
          {
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: 'quiz-1' },
              { path: 'data.percent', op: 'gte', value: 50 },
            ],
            window: { from: '2025-03-01T00:00:00Z', until: '2025-04-01T00:00:00Z' },
          },
        ],
      },
    ]);
    const graded = (user: string, occurredAt: string) =>
      event(platform.id, {
        course: { id: courseId },
        user: { id: user },
        occurredAt,
        data: { activityId: 'quiz-1', percent: 80 },
      });
    // Both arrive today, long after the window closed: only the one graded inside it counts.
    await send(graded('late-in', '2025-03-31T22:00:00Z'), graded('late-out', '2025-04-01T00:00:00Z'));
    expect(await holders(id)).toEqual(['late-in']);
  });

  it('judges "within 14 days of enrolment" the same when the enrolment arrives after the grade', async () => {
    const { id, courseId } = await badge([
      {
        requirements: [
          {
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: 'quiz-1' },
              { path: 'data.percent', op: 'gte', value: 50 },
            ],
            window: { daysAfterEnrolment: 14 },
          },
        ],
      },
    ]);
    // The template listens to enrolments, so a late one judges the learner again.
    const stored = await t.laurel.ctx.models.templates.findById(id).lean();
    expect(stored!.eventTypes).toEqual(['activity.grade.updated', 'enrollment.created']);
    const at = (days: number) => new Date(Date.UTC(2026, 0, 1) + days * 86400000).toISOString();
    const grade = (user: string, day: number) =>
      event(platform.id, {
        course: { id: courseId },
        user: { id: user },
        occurredAt: at(day),
        data: { activityId: 'quiz-1', percent: 90 },
      });
    const enrol = (user: string, day: number) =>
      event(platform.id, {
        type: 'enrollment.created',
        course: { id: courseId },
        user: { id: user },
        occurredAt: at(day),
        data: {},
      });
    // Graded on day 10 of enrolment; the LMS sent the enrolment afterwards.
    await send(grade('early', 10), grade('slow', 20));
    expect(await holders(id)).toEqual([]);
    await send(enrol('early', 0), enrol('slow', 0));
    expect(await holders(id)).toEqual(['early']);
    // Delivered once more: nothing changes.
    await send(enrol('slow', 0), grade('slow', 20));
    expect(await holders(id)).toEqual(['early']);
  });

  it('judges "A before B" by the LMS time when B is delivered first', async () => {
    const { id, courseId } = await badge([
      {
        requirements: [
          {
            id: 'draft',
            event: 'activity.completed',
            rules: [{ path: 'data.activityId', op: 'eq', value: 'draft' }],
          },
        ],
      },
      {
        requirements: [
          {
            id: 'final',
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: 'final' },
              { path: 'data.percent', op: 'gte', value: 60 },
            ],
            after: 'draft',
          },
        ],
      },
    ]);
    const draft = (user: string, occurredAt: string) =>
      event(platform.id, {
        type: 'activity.completed',
        course: { id: courseId },
        user: { id: user },
        occurredAt,
        data: { activityId: 'draft' },
      });
    const final = (user: string, occurredAt: string) =>
      event(platform.id, {
        course: { id: courseId },
        user: { id: user },
        occurredAt,
        data: { activityId: 'final', percent: 75 },
      });
    // Both send the final first; "ordered" wrote the draft before it, "reversed" after it.
    await send(final('ordered', '2026-02-10T10:00:00Z'), final('reversed', '2026-02-10T10:00:00Z'));
    await send(draft('ordered', '2026-02-01T10:00:00Z'), draft('reversed', '2026-02-11T10:00:00Z'));
    expect(await holders(id)).toEqual(['ordered']);
    const reversed = await progressOf(id, 'reversed');
    expect(reversed.fulfilled).toEqual(['draft']);
    expect(reversed.ratio).toBe(0.5);
  });

  it('counts events stored before activation: the dry run and the recalculation agree with the live result', async () => {
    const groups = [
      {
        requirements: [
          {
            id: 'labs',
            event: 'activity.grade.updated',
            rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
            activities: { name: 'Lab *', atLeast: 2 },
            window: { until: '2026-03-01T00:00:00Z' },
          },
        ],
      },
    ];
    const { id, courseId } = await badge(groups, false);
    const grade = (user: string, activityId: string, occurredAt: string) =>
      event(platform.id, {
        course: { id: courseId },
        user: { id: user },
        occurredAt,
        data: { activityId, activityName: `Lab ${activityId}`, percent: 90 },
      });
    // Delivered newest first; "in-time" did two labs before March, "too-late" one of them after.
    await send(
      grade('too-late', 'b', '2026-03-02T00:00:00Z'),
      grade('in-time', 'b', '2026-02-02T00:00:00Z'),
      grade('in-time', 'a', '2026-02-01T00:00:00Z'),
      grade('too-late', 'a', '2026-02-01T00:00:00Z'),
    );
    const template = await t.laurel.ctx.models.templates.findById(id).lean();
    const dry = await recalculateTemplate(t.laurel.ctx, template!, { dryRun: true });
    expect(dry.learners).toBe(2);
    expect(dry.wouldEarn.map((l) => l.percent)).toEqual([100]);
    expect(dry.close.map((l) => l.percent)).toEqual([50]);
    expect(await holders(id)).toEqual([]);

    await admin(t, 'POST', `/templates/${id}/activate`);
    await t.laurel.ctx.jobs.idle?.();
    expect(await holders(id)).toEqual(['in-time']);
    expect((await progressOf(id, 'too-late')).counted).toEqual({ labs: ['a'] });
  });

  it('refuses bad counts, windows and order with 400 naming the field', async () => {
    const refused = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      name: 'Bad',
      groups: [
        {
          requirements: [
            {
              id: 'a',
              event: 'activity.grade.updated',
              rules: [],
              window: { from: 'yesterday', daysAfterEnrolment: -1 },
              activities: { name: 'lab', atLeast: 0 },
              after: 'z',
            },
          ],
        },
      ],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual(
      expect.arrayContaining([
        {
          path: 'groups.0.requirements.0.window.from',
          message: 'window.from must be an ISO 8601 date-time with a time zone, e.g. "2027-03-01T00:00:00Z"',
        },
        {
          path: 'groups.0.requirements.0.window.daysAfterEnrolment',
          message: 'window.daysAfterEnrolment must be at least 1',
        },
        {
          path: 'groups.0.requirements.0.activities.atLeast',
          message: 'activities.atLeast must be at least 1',
        },
      ]),
    );
    const orderRefused = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      name: 'Bad order',
      groups: [{ requirements: [{ id: 'a', event: 'course.completed', rules: [], after: 'z' }] }],
    });
    expect(orderRefused.status).toBe(400);
    expect(orderRefused.body.details).toEqual([
      {
        path: 'groups.0.requirements.0.after',
        message: 'after names "z", which is not an event requirement of this template',
      },
    ]);
  });
});
