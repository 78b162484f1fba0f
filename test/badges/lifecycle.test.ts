import { expireCredentials } from '../../src/awards/expire.js';
import { processPendingEvents } from '../../src/progress/processPending.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import {
  admin,
  event,
  registerTestPlatform,
  sendEvents,
  settled,
  type TestPlatformRecord,
} from '../support/api.js';

const live = (status: string) => (status === 'awarded' || status === 'issued' ? 'live' : status);

const gradeAtLeast = (activityId: string, percent: number, id = 'grade') => ({
  id,
  event: 'activity.grade.updated',
  rules: [
    { path: 'data.activityId', op: 'eq', value: activityId },
    { path: 'data.percent', op: 'gte', value: percent },
  ],
});

describe('badge lifecycle', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  let courseCounter = 0;
  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** A template in a course of its own, so tests do not see each other's events. */
  async function template(body: Record<string, unknown>, activate = true) {
    courseCounter++;
    const courseId = `c${courseCounter}`;
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId,
      name: 'Badge',
      ...body,
    });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    if (activate) expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    return { id: created.body.id as string, courseId };
  }
  const credentialsOf = async (templateId: string) =>
    (await admin(t, 'GET', `/credentials?templateId=${templateId}`)).body.items as any[];

  it('gives exactly one award for 50 concurrent qualifying events of one learner', async () => {
    const { id, courseId } = await template({ groups: [{ requirements: [gradeAtLeast('quiz', 80)] }] });
    // Stop the job queue's own processing from racing alone: three processors run at once below.
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        sendEvents(
          t,
          platform.webhookSecret,
          event(platform.id, {
            course: { id: courseId },
            user: { id: 'u-conc' },
            data: { activityId: 'quiz', percent: 80 + (i % 20) },
          }),
        ),
      ),
    );
    expect(answers.every((a) => a.status === 200 && a.body.stored === 1)).toBe(true);
    await Promise.all([
      processPendingEvents(t.laurel.ctx),
      processPendingEvents(t.laurel.ctx),
      processPendingEvents(t.laurel.ctx),
    ]);
    await settled(t);
    const creds = await credentialsOf(id);
    expect(creds).toHaveLength(1);
    expect(await t.laurel.ctx.models.credentials.countDocuments({ templateId: id })).toBe(1);
    const progress = await t.laurel.ctx.models.progress.find({ templateId: id }).lean();
    expect(progress).toHaveLength(1);
    expect(progress[0]!.fulfilments).toHaveLength(1);
  });

  it('resets progress when a penalty matches, and needs the requirement again', async () => {
    const { id, courseId } = await template({
      groups: [
        { requirements: [gradeAtLeast('quiz', 80, 'quiz')] },
        { requirements: [{ id: 'done', event: 'course.completed' }] },
      ],
      penalties: [
        {
          id: 'fell',
          event: 'activity.grade.updated',
          rules: [
            { path: 'data.activityId', op: 'eq', value: 'quiz' },
            { path: 'data.percent', op: 'lt', value: 50 },
          ],
          resets: ['quiz'],
        },
      ],
    });
    const send = async (over: Record<string, unknown>) => {
      await sendEvents(
        t,
        platform.webhookSecret,
        event(platform.id, { course: { id: courseId }, user: { id: 'u-pen' }, ...over }),
      );
      await settled(t);
    };
    const fulfilled = async () =>
      (await admin(t, 'GET', `/progress?templateId=${id}&userId=u-pen`)).body.items[0]?.fulfilled;
    await send({ data: { activityId: 'quiz', percent: 90 } });
    expect(await fulfilled()).toEqual(['quiz']);
    await send({ data: { activityId: 'quiz', percent: 30 } });
    expect(await fulfilled()).toEqual([]);
    await send({ type: 'course.completed', data: {} });
    expect(await fulfilled()).toEqual(['done']);
    expect(await credentialsOf(id)).toHaveLength(0);
    await send({ data: { activityId: 'quiz', percent: 85 } });
    expect((await fulfilled()).sort()).toEqual(['done', 'quiz']);
    expect(await credentialsOf(id)).toHaveLength(1);
  });

  it('does not award from a draft or a withdrawn template; their events count once it is activated', async () => {
    const { id, courseId } = await template(
      { groups: [{ requirements: [gradeAtLeast('quiz', 50)] }] },
      false,
    );
    const send = async (user: string) => {
      await sendEvents(
        t,
        platform.webhookSecret,
        event(platform.id, {
          course: { id: courseId },
          user: { id: user },
          data: { activityId: 'quiz', percent: 60 },
        }),
      );
      await settled(t);
    };
    const users = async () => (await credentialsOf(id)).map((c) => c.userId).sort();
    await send('u-draft');
    expect(await credentialsOf(id)).toHaveLength(0);
    expect((await admin(t, 'GET', `/progress?templateId=${id}`)).body.items).toHaveLength(0);

    // Activated: the recalculation counts the event stored while it was a draft.
    await admin(t, 'POST', `/templates/${id}/activate`);
    await t.laurel.ctx.jobs.idle?.();
    expect(await users()).toEqual(['u-draft']);
    await send('u-active');
    expect(await users()).toEqual(['u-active', 'u-draft']);

    const withdrawn = await admin(t, 'POST', `/templates/${id}/withdraw`);
    expect(withdrawn.body.state).toBe('inactive');
    await send('u-withdrawn');
    expect(await users()).toEqual(['u-active', 'u-draft']);

    // Reactivated: the event stored while withdrawn counts now, and nobody gets a second award.
    await admin(t, 'POST', `/templates/${id}/activate`);
    await t.laurel.ctx.jobs.idle?.();
    await processPendingEvents(t.laurel.ctx);
    expect(await users()).toEqual(['u-active', 'u-draft', 'u-withdrawn']);
  });

  it('revokes with a reason; a revoked badge is earned again only when the template allows it', async () => {
    for (const allowReEarn of [false, true]) {
      const { id, courseId } = await template({
        allowReEarn,
        groups: [{ requirements: [gradeAtLeast('quiz', 50)] }],
      });
      const send = async () => {
        await sendEvents(
          t,
          platform.webhookSecret,
          event(platform.id, {
            course: { id: courseId },
            user: { id: 'u-rev' },
            data: { activityId: 'quiz', percent: 70 },
          }),
        );
        await settled(t);
      };
      await send();
      const [first] = await credentialsOf(id);
      const revoked = await admin(t, 'POST', `/credentials/${first.id}/revoke`, {
        reason: 'Awarded by mistake',
      });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ status: 'revoked', revokedReason: 'Awarded by mistake' });
      expect((await admin(t, 'POST', `/credentials/${first.id}/revoke`, { reason: 'again' })).status).toBe(
        409,
      );
      const audit = await t.laurel.ctx.models.audit
        .findOne({ action: 'credential.revoked', 'target.id': first.id })
        .lean();
      expect(audit).toMatchObject({ reason: 'Awarded by mistake', actor: { type: 'admin' } });
      await send();
      const statuses = (await credentialsOf(id)).map((c) => c.status);
      // A live credential is `awarded` until the issue job signs it, then `issued`.
      expect(statuses.map(live)).toEqual(allowReEarn ? ['revoked', 'live'] : ['revoked']);
    }
  });

  it('expires credentials past their date; an expired badge can be earned again', async () => {
    const { id, courseId } = await template({
      expiresAfterDays: 30,
      groups: [{ requirements: [gradeAtLeast('quiz', 50)] }],
    });
    const send = async () => {
      await sendEvents(
        t,
        platform.webhookSecret,
        event(platform.id, {
          course: { id: courseId },
          user: { id: 'u-exp' },
          data: { activityId: 'quiz', percent: 70 },
        }),
      );
      await settled(t);
    };
    await send();
    const [credential] = await credentialsOf(id);
    const expiresAt = new Date(credential.expiresAt).getTime();
    expect(Math.abs(expiresAt - (new Date(credential.awardedAt).getTime() + 30 * 86400_000))).toBeLessThan(
      1000,
    );

    expect(await expireCredentials(t.laurel.ctx)).toBe(0);
    const later = { ...t.laurel.ctx, now: () => new Date(expiresAt + 1000) };
    expect(await expireCredentials(later)).toBe(1);
    expect((await credentialsOf(id))[0].status).toBe('expired');
    await send();
    expect((await credentialsOf(id)).map((c) => live(c.status))).toEqual(['expired', 'live']);
  });

  it('awards a badge that requires another badge once that one is earned', async () => {
    const first = await template({ groups: [{ requirements: [gradeAtLeast('quiz', 50)] }] });
    const meta = await template({
      courseId: undefined,
      name: 'Meta',
      groups: [{ requirements: [{ id: 'needs-first', badge: first.id }] }],
    });
    await sendEvents(
      t,
      platform.webhookSecret,
      event(platform.id, {
        course: { id: first.courseId },
        user: { id: 'u-meta' },
        data: { activityId: 'quiz', percent: 70 },
      }),
    );
    await settled(t);
    await settled(t);
    expect((await credentialsOf(first.id)).map((c) => c.userId)).toEqual(['u-meta']);
    expect((await credentialsOf(meta.id)).map((c) => c.userId)).toEqual(['u-meta']);
  });

  it('awards by hand with a reason, and refuses a second live one', async () => {
    const { id, courseId } = await template({ groups: [{ requirements: [gradeAtLeast('quiz', 50)] }] });
    await sendEvents(
      t,
      platform.webhookSecret,
      event(platform.id, {
        type: 'enrollment.created',
        course: { id: courseId },
        user: { id: 'u-hand' },
        data: {},
      }),
    );
    await settled(t);
    const awarded = await admin(t, 'POST', '/credentials', {
      templateId: id,
      userId: 'u-hand',
      reason: 'Presented in class',
    });
    expect(awarded.status).toBe(201);
    expect(awarded.body).toMatchObject({ templateId: id, userId: 'u-hand' });
    expect(live(awarded.body.status)).toBe('live');
    const again = await admin(t, 'POST', '/credentials', {
      templateId: id,
      userId: 'u-hand',
      reason: 'twice',
    });
    expect(again.status).toBe(409);
    const unknown = await admin(t, 'POST', '/credentials', { templateId: id, userId: 'nobody', reason: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('nobody');
  });
});
