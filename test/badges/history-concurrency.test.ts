import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { admin, event, registerTestPlatform, sendEvents, type TestPlatformRecord } from '../support/api.js';

/**
 * A count of activities judged from each learner's history while two Laurel processes take the same
 * learners' events at once, newest first: each is judged by the LMS's time, one credential each.
 */
describe('a count of activities with two Laurel processes on one database', () => {
  let a: TestLaurel;
  let b: TestLaurel;
  let platform: TestPlatformRecord;
  beforeAll(async () => {
    a = await startTestLaurel();
    b = await startTestLaurel({ MONGODB_URI: a.db.uri });
    platform = await registerTestPlatform(a);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('counts the labs by when they happened and awards each learner once', async () => {
    const created = await admin(a, 'POST', '/templates', {
      platformId: platform.id,
      courseId: 'two-counters',
      name: 'Three labs, two workers',
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
    expect((await admin(a, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    const learners = 20;
    const labs = ['l1', 'l2', 'l3', 'l4'];
    // Each lab's grades go to one process or the other, all at once, newest lab first.
    const batches = [...labs].reverse().map((lab, k) => ({
      target: k % 2 === 0 ? a : b,
      events: Array.from({ length: learners }, (_, i) =>
        event(platform.id, {
          course: { id: 'two-counters' },
          user: { id: `c-${i}` },
          occurredAt: new Date(Date.UTC(2026, 1, 1 + labs.indexOf(lab))).toISOString(),
          data: { activityId: lab, activityName: `Lab ${lab}`, percent: 80 },
        }),
      ),
    }));
    const answers = await Promise.all(
      batches.map(({ target, events }) => sendEvents(target, platform.webhookSecret, { events })),
    );
    expect(answers.map((x) => x.status)).toEqual([200, 200, 200, 200]);
    const { models } = a.laurel.ctx;
    const deadline = Date.now() + 60_000;
    let open = -1;
    while (Date.now() < deadline) {
      open = await models.events.countDocuments({ status: { $in: ['pending', 'processing'] } });
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(open).toBe(0);
    const progress = await models.progress.find({ templateId: created.body.id }).lean();
    expect(progress).toHaveLength(learners);
    for (const p of progress) {
      // By the LMS's time the third lab (l3) met it: l4 came first but happened after, so it is not counted.
      expect(p.counted).toEqual({ labs: ['l1', 'l2', 'l3'] });
      expect(p.ratio).toBe(1);
      expect(p.fulfilments).toEqual([
        expect.objectContaining({ requirementId: 'labs', at: new Date(Date.UTC(2026, 1, 3)) }),
      ]);
    }
    const credentials = await models.credentials.find({ templateId: created.body.id }).lean();
    expect(credentials).toHaveLength(learners);
    expect(new Set(credentials.map((c) => String(c.personId))).size).toBe(learners);
  }, 90_000);
});
