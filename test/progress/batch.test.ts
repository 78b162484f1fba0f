import type { Context } from '../../src/context.js';
import { claimEvents, processPendingEvents } from '../../src/progress/processPending.js';
import { EVENT_LANES, processEventBatch } from '../../src/progress/processBatch.js';
import { runQueuedRecalculations } from '../../src/progress/recalculationQueue.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { admin, event, registerTestPlatform, sendEvents, type TestPlatformRecord } from '../support/api.js';

const grade = (activityId: string, op: 'gte' | 'lt', percent: number) => [
  { path: 'data.activityId', op: 'eq', value: activityId },
  { path: 'data.percent', op, value: percent },
];

/**
 * Batched event processing on a web-role Laurel: nothing processes events in the background, so
 * each test runs the processing itself (as a worker would) and sees exactly what it did.
 */
describe('processing learning events in batches', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  let courseCounter = 0;
  beforeAll(async () => {
    t = await startTestLaurel({ LAUREL_ROLE: 'web' });
    platform = await registerTestPlatform(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** An active template in a course of its own: quiz ≥ 80 and the course completed; quiz < 50 resets. */
  async function template() {
    courseCounter++;
    const courseId = `batch-${courseCounter}`;
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId,
      name: `Batch badge ${courseCounter}`,
      groups: [
        { requirements: [{ id: 'quiz', event: 'activity.grade.updated', rules: grade('quiz', 'gte', 80) }] },
        { requirements: [{ id: 'done', event: 'course.completed' }] },
      ],
      penalties: [
        { id: 'fell', event: 'activity.grade.updated', rules: grade('quiz', 'lt', 50), resets: ['quiz'] },
      ],
    });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    return { id: created.body.id as string, courseId };
  }
  const send = async (events: Record<string, unknown>[]) => {
    const answer = await sendEvents(t, platform.webhookSecret, { events });
    expect(answer.status).toBe(200);
    return answer.body as { stored: number; duplicates: number };
  };
  const progressOf = async (templateId: string, userId: string) => {
    const person = await t.laurel.ctx.models.people.findOne({ ids: userId }).lean();
    return t.laurel.ctx.models.progress.findOne({ templateId, personId: person?._id }).lean();
  };
  const later = (ctx: Context, ms: number): Context => ({ ...ctx, now: () => new Date(Date.now() + ms) });

  it("applies a learner's events in order, and different learners' side by side in one batch", async () => {
    const { id, courseId } = await template();
    const at = (user: string, percent: number) =>
      event(platform.id, {
        course: { id: courseId },
        user: { id: user },
        data: { activityId: 'quiz', percent },
      });
    // Ada passes, then fails (the penalty undoes the pass); Bob fails, then passes.
    await send([at('ada', 90), at('bob', 30), at('ada', 30), at('bob', 90)]);
    const run = await processPendingEvents(t.laurel.ctx);
    expect(run).toMatchObject({ processed: 4, failed: 0 });
    expect((await progressOf(id, 'ada'))?.fulfilled ?? []).toEqual([]);
    const bob = await progressOf(id, 'bob');
    expect(bob?.fulfilled).toEqual(['quiz']);
    expect(bob?.ratio).toBe(0.5);
    expect(bob?.completedAt).toBeNull();
    const events = await t.laurel.ctx.models.events.find({ 'course.id': courseId }).lean();
    expect(events).toHaveLength(4);
    expect(events.every((e) => e.status === 'processed' && e.personRef && e.courseRef && !e.claim)).toBe(
      true,
    );
  });

  it("keeps each learner's events in order across lanes, and one failing lane sends back only its own events", async () => {
    expect(EVENT_LANES).toBeGreaterThan(1);
    const { id, courseId } = await template();
    const learners = 30;
    const at = (i: number, percent: number) =>
      event(platform.id, {
        course: { id: courseId },
        user: { id: `lane-${i}` },
        data: { activityId: 'quiz', percent },
      });
    const completed = (i: number) =>
      event(platform.id, {
        course: { id: courseId },
        user: { id: `lane-${i}` },
        type: 'course.completed',
        data: {},
      });
    // Interleaved as an LMS sends them. Odd learners fail, then pass (badge); even ones pass, then
    // fail (the penalty undoes the pass: no badge). Then everyone completes the course.
    const rounds = [(i: number) => at(i, i % 2 ? 30 : 90), (i: number) => at(i, i % 2 ? 90 : 30), completed];
    await send(rounds.flatMap((make) => Array.from({ length: learners }, (_, i) => make(i))));

    // The first progress read of the run fails: that lane's events go back with the reason.
    const ctx = t.laurel.ctx;
    let refused = false;
    const progress = new Proxy(ctx.models.progress, {
      get(target, prop, receiver) {
        if (prop === 'find' && !refused) {
          refused = true;
          return () => {
            throw new Error('progress read refused by the test');
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const failing: Context = { ...ctx, models: { ...ctx.models, progress } };
    const first = await processPendingEvents(failing);
    expect(first.failed).toBeGreaterThan(0);
    expect(first.failed).toBeLessThan(3 * learners);
    expect(first.processed).toBeGreaterThanOrEqual(3 * learners - first.failed);
    // (The awards' own badge.awarded events wait for the next run.)
    const back = await ctx.models.events
      .find({ 'course.id': courseId, source: 'generic', status: 'pending' })
      .lean();
    expect(back).toHaveLength(first.failed);
    expect(back.every((e) => e.error === 'progress read refused by the test' && e.attempts === 1)).toBe(true);
    // Every learner is whole in one lane: a learner's three events failed together or not at all.
    const failedLearners = new Set(back.map((e) => e.user.id));
    expect(back).toHaveLength(3 * failedLearners.size);

    // The retry (after the backoff) applies them; each learner's order decided the outcome.
    const second = await processPendingEvents(later(ctx, 60_000));
    expect(second.failed).toBe(0);
    for (let i = 0; i < learners; i++) {
      const state = await progressOf(id, `lane-${i}`);
      expect([`lane-${i}`, [...(state?.fulfilled ?? [])].sort()]).toEqual([
        `lane-${i}`,
        i % 2 ? ['done', 'quiz'] : ['done'],
      ]);
    }
    const credentials = await ctx.models.credentials.find({ templateId: id }).lean();
    expect(credentials.map((c) => c.userId).sort()).toEqual(
      Array.from({ length: learners / 2 }, (_, k) => `lane-${2 * k + 1}`).sort(),
    );
    // The awards' badge.awarded events too, so that nothing of this test is left for the next ones.
    await processPendingEvents(later(ctx, 60_000));
    const open = await ctx.models.events.countDocuments({
      'course.id': courseId,
      status: { $ne: 'processed' },
    });
    expect(open).toBe(0);
    // The awards' events carried their refs from the start: marked processed together, refs kept.
    const announced = await ctx.models.events.find({ 'course.id': courseId, type: 'badge.awarded' }).lean();
    expect(announced).toHaveLength(learners / 2);
    expect(
      announced.every(
        (e) => e.status === 'processed' && !e.claim && e.personRef && e.courseRef && e.processedAt,
      ),
    ).toBe(true);
  });

  it('asks for an award once when a state becomes complete, and again only for events applied again', async () => {
    const { id, courseId } = await template();
    const ctx = t.laurel.ctx;
    const of = (user: string, over: Record<string, unknown>) =>
      event(platform.id, { course: { id: courseId }, user: { id: user }, ...over });
    const pass = (user: string, percent = 90) => of(user, { data: { activityId: 'quiz', percent } });
    const done = (user: string) => of(user, { type: 'course.completed', data: {} });
    // Credentials reads and inserts, counted through a stand-in for the model.
    const counting = (fail: boolean) => {
      const calls = { find: 0, insert: 0 };
      const credentials = new Proxy(ctx.models.credentials, {
        get(target, prop, receiver) {
          if (prop === 'find') calls.find++;
          if (prop === 'collection' && fail)
            return new Proxy(target.collection, {
              get(c, name, r) {
                if (name === 'insertMany')
                  return () => {
                    calls.insert++;
                    throw new Error('credential insert refused by the test');
                  };
                return Reflect.get(c, name, r) as unknown;
              },
            });
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
      return { calls, ctx: { ...ctx, models: { ...ctx.models, credentials } } as Context };
    };

    // Ada completes: one award. A later grade of hers (already complete) asks for nothing.
    await send([pass('ask-ada'), done('ask-ada')]);
    expect((await processPendingEvents(ctx)).awarded).toBe(1);
    await processPendingEvents(ctx); // her badge.awarded event
    await send([pass('ask-ada', 95)]);
    const quiet = counting(false);
    expect(await processPendingEvents(quiet.ctx)).toMatchObject({ processed: 1, failed: 0, awarded: 0 });
    expect(quiet.calls.find).toBe(0);

    // Bob completes, but the award cannot be written: progress is complete, his events go back.
    await send([pass('ask-bob'), done('ask-bob')]);
    const refusing = counting(true);
    const first = await processPendingEvents(refusing.ctx);
    expect(first).toMatchObject({ processed: 0, failed: 2 });
    expect(refusing.calls.insert).toBe(1);
    expect((await progressOf(id, 'ask-bob'))?.completedAt).not.toBeNull();
    expect(await ctx.models.credentials.countDocuments({ templateId: id, userId: 'ask-bob' })).toBe(0);
    // Applied again (attempts 2), the state read complete still asks: the award heals.
    const again = await processPendingEvents(later(ctx, 60_000));
    expect(again).toMatchObject({ failed: 0, awarded: 1 });
    await processPendingEvents(later(ctx, 60_000));
    const credentials = await ctx.models.credentials.find({ templateId: id }).lean();
    expect(credentials.map((c) => c.userId).sort()).toEqual(['ask-ada', 'ask-bob']);
  });

  it('stores the badge.awarded event of an award no template listens to as processed; one a template requires waits for the pipeline', async () => {
    const first = await template();
    const ctx = t.laurel.ctx;
    const completes = (user: string, courseId: string) => [
      event(platform.id, {
        course: { id: courseId },
        user: { id: user },
        data: { activityId: 'quiz', percent: 90 },
      }),
      event(platform.id, {
        course: { id: courseId },
        user: { id: user },
        type: 'course.completed',
        data: {},
      }),
    ];
    const announced = async (user: string) =>
      ctx.models.events.find({ type: 'badge.awarded', 'user.id': user }).sort({ receivedAt: 1 }).lean();

    // Nothing on the platform requires a badge: the event is stored processed, no run takes it up.
    await send(completes('heard-ada', first.courseId));
    expect((await processPendingEvents(ctx)).awarded).toBe(1);
    const [quiet] = await announced('heard-ada');
    expect(quiet).toMatchObject({ status: 'processed', attempts: 0, claim: null, error: null });
    expect(quiet!.processedAt).toBeInstanceOf(Date);
    expect(await ctx.models.events.countDocuments({ status: { $ne: 'processed' } })).toBe(0);

    // A badge requiring the first is activated afterwards: its recalculation finds Ada through that
    // processed event, and awards her.
    courseCounter++;
    const requiring = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId: `batch-${courseCounter}`,
      name: `Requires batch badge ${courseCounter}`,
      groups: [{ requirements: [{ id: 'first', badge: first.id }] }],
    });
    expect(requiring.status).toBe(201);
    expect((await admin(t, 'POST', `/templates/${requiring.body.id}/activate`)).status).toBe(200);
    await runQueuedRecalculations(ctx);
    expect(
      await ctx.models.credentials.countDocuments({ templateId: requiring.body.id, userId: 'heard-ada' }),
    ).toBe(1);

    // Now the first badge is listened to: Bob's award event waits for the pipeline, which awards the second.
    await send(completes('heard-bob', first.courseId));
    expect((await processPendingEvents(ctx)).awarded).toBe(1);
    const [waiting] = await announced('heard-bob');
    expect(waiting?.status).toBe('pending');
    expect((await processPendingEvents(ctx)).awarded).toBe(1);
    expect(
      await ctx.models.credentials.countDocuments({ templateId: requiring.body.id, userId: 'heard-bob' }),
    ).toBe(1);
    // Whatever the second award announces is settled too; nothing is left for the next tests.
    await processPendingEvents(ctx);
    expect(await ctx.models.events.countDocuments({ status: { $ne: 'processed' } })).toBe(0);
    // The requiring badge is withdrawn so that later tests' awards go unheard again.
    expect((await admin(t, 'POST', `/templates/${requiring.body.id}/withdraw`)).status).toBe(200);
  });

  it('counts a replayed event once', async () => {
    const { id, courseId } = await template();
    const pass = event(platform.id, {
      course: { id: courseId },
      user: { id: 'replay' },
      data: { activityId: 'quiz', percent: 95 },
    });
    expect(await send([pass])).toMatchObject({ stored: 1, duplicates: 0 });
    expect(await send([pass, pass])).toMatchObject({ stored: 0, duplicates: 2 });
    await processPendingEvents(t.laurel.ctx);
    expect((await progressOf(id, 'replay'))?.fulfilments).toHaveLength(1);
  });

  it('reprocesses the batch of a worker that died, after its lock lapsed, without counting twice', async () => {
    const { id, courseId } = await template();
    const ctx = t.laurel.ctx;
    await send([
      event(platform.id, {
        course: { id: courseId },
        user: { id: 'crash' },
        data: { activityId: 'quiz', percent: 85 },
      }),
      event(platform.id, {
        course: { id: courseId },
        user: { id: 'crash' },
        type: 'course.completed',
        data: {},
      }),
    ]);
    // A worker claims the batch, writes progress and the award, and dies before marking the events.
    const claimed = await claimEvents(ctx, 100);
    expect(claimed.filter((e) => e.course?.id === courseId)).toHaveLength(2);
    const first = await processEventBatch(ctx, claimed);
    expect(first.awarded).toHaveLength(1);
    // Locked: no other worker takes them until the lock lapses (only the award's own badge.awarded event runs).
    await processPendingEvents(ctx);
    const stillLocked = await ctx.models.events.find({ 'course.id': courseId, source: 'generic' }).lean();
    expect(stillLocked.map((e) => e.status)).toEqual(['processing', 'processing']);
    const afterLapse = await processPendingEvents(later(ctx, ctx.config.claimLeaseMs + 1000));
    expect(afterLapse.processed).toBe(2);
    expect(afterLapse.awarded).toBe(0);
    const progress = await progressOf(id, 'crash');
    expect(progress?.fulfilments).toHaveLength(2);
    expect(progress?.ratio).toBe(1);
    expect(await ctx.models.credentials.countDocuments({ templateId: id })).toBe(1);
    const events = await ctx.models.events.find({ 'course.id': courseId, source: 'generic' }).lean();
    expect(events.map((e) => [e.status, e.attempts])).toEqual([
      ['processed', 2],
      ['processed', 2],
    ]);
  });

  it('keeps the state of a learner written meanwhile by another worker (optimistic on rev)', async () => {
    const { id, courseId } = await template();
    const ctx = t.laurel.ctx;
    await send([
      event(platform.id, {
        course: { id: courseId },
        user: { id: 'race' },
        data: { activityId: 'quiz', percent: 99 },
      }),
    ]);
    const claimed = await claimEvents(ctx, 100);
    // Another worker completes the course for this learner between our read and our write.
    await send([
      event(platform.id, {
        course: { id: courseId },
        user: { id: 'race' },
        type: 'course.completed',
        data: {},
      }),
    ]);
    const other = await claimEvents(ctx, 100);
    const racing = processEventBatch(ctx, other);
    await processEventBatch(ctx, claimed);
    await racing;
    const progress = await progressOf(id, 'race');
    expect([...(progress?.fulfilled ?? [])].sort()).toEqual(['done', 'quiz']);
    expect(progress?.ratio).toBe(1);
    expect(progress?.completedAt).not.toBeNull();
    expect(await ctx.models.credentials.countDocuments({ templateId: id })).toBe(1);
  });

  it('processes hundreds of events in a handful of round trips', async () => {
    const { courseId } = await template();
    const events = Array.from({ length: 400 }, (_, i) =>
      event(platform.id, {
        course: { id: courseId },
        user: { id: `many-${i % 100}` },
        data: { activityId: 'quiz', percent: 40 + (i % 60) },
      }),
    );
    await send(events);
    let commands = 0;
    const client = t.laurel.connection.getClient();
    const count = () => commands++;
    client.on('commandStarted', count);
    try {
      const run = await processPendingEvents(t.laurel.ctx);
      expect(run.processed).toBeGreaterThanOrEqual(400);
    } finally {
      client.off('commandStarted', count);
    }
    // Command monitoring is off on the app's connection unless asked for: then nothing is counted.
    if (commands > 0) expect(commands / 400).toBeLessThan(0.2);
  });
});

describe('two Laurel processes on one database', () => {
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

  it('award exactly one credential per learner while both process the same learners', async () => {
    const created = await admin(a, 'POST', '/templates', {
      platformId: platform.id,
      courseId: 'two-workers',
      name: 'Two workers',
      groups: [
        { requirements: [{ event: 'activity.grade.updated', rules: grade('quiz', 'gte', 50) }] },
        { requirements: [{ event: 'course.completed' }] },
      ],
    });
    expect((await admin(a, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    const learners = 30;
    const batches = [a, b, a, b].map((target, k) => ({
      target,
      events: Array.from({ length: learners }, (_, i) =>
        event(platform.id, {
          course: { id: 'two-workers' },
          user: { id: `w-${i}` },
          ...(k % 2 === 0
            ? { data: { activityId: 'quiz', percent: 60 + k } }
            : { type: 'course.completed', data: {} }),
        }),
      ),
    }));
    const answers = await Promise.all(
      batches.map(({ target, events }) => sendEvents(target, platform.webhookSecret, { events })),
    );
    expect(answers.map((x) => x.status)).toEqual([200, 200, 200, 200]);
    const { models } = a.laurel.ctx;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const open = await models.events.countDocuments({ status: { $in: ['pending', 'processing'] } });
      const issued = await models.credentials.countDocuments({
        templateId: created.body.id,
        status: 'issued',
      });
      if (open === 0 && issued === learners) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const credentials = await models.credentials.find({ templateId: created.body.id }).lean();
    expect(credentials).toHaveLength(learners);
    expect(new Set(credentials.map((c) => String(c.personId))).size).toBe(learners);
    expect(credentials.every((c) => c.status === 'issued')).toBe(true);
    const progress = await models.progress.find({ templateId: created.body.id }).lean();
    expect(progress).toHaveLength(learners);
    expect(progress.every((p) => p.fulfilments.length === 2 && p.ratio === 1)).toBe(true);
    const awarded = await models.audit.countDocuments({ action: 'credential.awarded' });
    expect(awarded).toBe(learners);
  });
});
