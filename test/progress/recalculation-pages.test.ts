import type { TemplateDoc } from '../../src/db/models/template.js';
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
 * A recalculation reads a badge's stored events in pages of whole learners. With pages of 5 events,
 * learners of 2 to 12 events straddle every page boundary, and one has more events than a page: each
 * must still be judged on all of their events, and awarded once however often it runs.
 */
describe('recalculation in pages of learners', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  let template: TemplateDoc;
  const courseId = 'pages-101';
  const PAGE = 5;

  // The third lab at 70% or more is the learner's last event by the LMS's time, so a learner judged
  // on part of their events falls short.
  const learners: Record<string, { labs: [string, number][]; quizzes: number }> = {
    'three-labs': {
      labs: [
        ['a', 80],
        ['b', 80],
        ['c', 80],
      ],
      quizzes: 0,
    },
    'quizzes-first': {
      labs: [
        ['a', 90],
        ['b', 90],
        ['c', 90],
      ],
      quizzes: 9,
    }, // 12 events, over two pages
    'one-short': {
      labs: [
        ['a', 90],
        ['b', 90],
        ['c', 50],
      ],
      quizzes: 1,
    },
    'six-labs': { labs: ['a', 'b', 'c', 'd', 'e', 'f'].map((l) => [l, 75]), quizzes: 0 },
    'two-labs': {
      labs: [
        ['a', 100],
        ['b', 100],
      ],
      quizzes: 0,
    },
    'four-events': {
      labs: [
        ['b', 70],
        ['d', 70],
        ['f', 70],
      ],
      quizzes: 1,
    },
  };

  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t);
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId,
      name: 'Three labs',
      groups: [
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
      ],
    });
    expect(created.status).toBe(201);
    // Events first, while the badge is a draft: stored and processed, nothing awarded.
    const events = Object.entries(learners).flatMap(([user, plan]) => {
      let day = 1;
      const at = () => `2026-02-${String(day++).padStart(2, '0')}T10:00:00Z`;
      return [
        ...Array.from({ length: plan.quizzes }, (_, q) =>
          event(platform.id, {
            course: { id: courseId },
            user: { id: user },
            occurredAt: at(),
            data: { activityId: `quiz-${q}`, activityName: `Quiz ${q}`, percent: 95 },
          }),
        ),
        ...plan.labs.map(([lab, percent]) =>
          event(platform.id, {
            course: { id: courseId },
            user: { id: user },
            occurredAt: at(),
            data: { activityId: `lab-${lab}`, activityName: `Lab ${lab}`, percent },
          }),
        ),
      ];
    });
    // Sent in reverse, so that no learner's events are stored side by side.
    expect((await sendEvents(t, platform.webhookSecret, { events: events.reverse() })).status).toBe(200);
    await settled(t);
    // Active without the recalculation activation queues: the test runs it itself, in small pages.
    await t.laurel.ctx.models.templates.updateOne(
      { _id: created.body.id },
      { $set: { state: 'active', activeSince: new Date() } },
    );
    template = (await t.laurel.ctx.models.templates.findById(created.body.id).lean<TemplateDoc>())!;
  });
  afterAll(async () => {
    await t?.stop();
  });

  const holders = async () =>
    ((await admin(t, 'GET', `/credentials?templateId=${template._id}`)).body.items as { userId: string }[])
      .map((c) => c.userId)
      .sort();
  const counted = async (user: string) =>
    (await admin(t, 'GET', `/progress?templateId=${template._id}&userId=${user}`)).body.items[0]?.counted;

  it('lists in a dry run who would earn it, each learner judged on all their events', async () => {
    const dry = await recalculateTemplate(t.laurel.ctx, template, { dryRun: true, pageSize: PAGE });
    expect(dry.learners).toBe(6);
    expect(dry.wouldEarn.map((l) => l.name).sort()).toEqual([
      'four-events',
      'quizzes-first',
      'six-labs',
      'three-labs',
    ]);
    // Two labs of three: 67%, close.
    expect(dry.close.map((l) => [l.name, l.percent]).sort()).toEqual([
      ['one-short', 67],
      ['two-labs', 67],
    ]);
    expect(await holders()).toEqual([]);
  });

  it('awards each learner who met it once, from all their events, and nothing on a second run', async () => {
    const pages: number[] = [];
    const first = await recalculateTemplate(t.laurel.ctx, template, {
      dryRun: false,
      pageSize: PAGE,
      onPage: async (done) => {
        pages.push(done);
        return true;
      },
    });
    expect(first).toMatchObject({ learners: 6, awarded: 4 });
    // Pages of whole learners: more than one page, each adding learners, all six by the last.
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.at(-1)).toBe(6);
    expect(await holders()).toEqual(['four-events', 'quizzes-first', 'six-labs', 'three-labs']);
    expect(await counted('quizzes-first')).toEqual({ labs: ['lab-a', 'lab-b', 'lab-c'] });
    expect(await counted('six-labs')).toEqual({ labs: ['lab-a', 'lab-b', 'lab-c'] });
    expect(await counted('one-short')).toEqual({ labs: ['lab-a', 'lab-b'] });
    expect(await counted('two-labs')).toEqual({ labs: ['lab-a', 'lab-b'] });

    const again = await recalculateTemplate(t.laurel.ctx, template, { dryRun: false, pageSize: 3 });
    expect(again).toMatchObject({ learners: 6, awarded: 0 });
    expect(await t.laurel.ctx.models.credentials.countDocuments({ templateId: template._id })).toBe(4);
  });
});
