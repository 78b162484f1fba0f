/**
 * The Moodle plugin's queue (its own PHP, run by php-cli as Moodle's cron would) while Laurel cannot
 * be reached, then replayed once it can: events whose answer was lost (stored by Laurel, unknown to
 * Moodle) are sent again with the rest, and a task Moodle runs twice sends its event twice. Every
 * event is stored and counted once: the learners' progress counts each activity once, and the
 * badge is awarded once.
 */
import { jest } from '@jest/globals';
import { admin, registerTestPlatform, settled, type TestPlatformRecord } from '../support/api.js';
import { startHttpGate, type HttpGate } from '../support/http-gate.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import {
  moodleEvent,
  moodleFixture,
  runPlugin,
  type Fixture,
  type PluginRun,
  type Queued,
} from '../moodle/php.js';

jest.setTimeout(120_000);

/** Moodle's completion of course module `cm` by user `user` (a fresh event id each). */
const completion = (objectid: number, user: number, cm: number) =>
  moodleEvent('\\core\\event\\course_module_completion_updated', {
    objectid,
    contextinstanceid: cm,
    relateduserid: user,
    timecreated: Math.floor(Date.now() / 1000) - 600 + objectid,
    other: { relateduserid: user, overrideby: null, completionstate: 1 },
  });

describe('a Moodle queue replayed after Laurel was unreachable', () => {
  let t: TestLaurel;
  let gate: HttpGate;
  let platform: TestPlatformRecord;
  let fixture: Fixture;

  beforeAll(async () => {
    t = await startTestLaurel();
    // Moodle reaches Laurel through the gate: up, down (nothing listens), or losing an answer.
    gate = await startHttpGate(t.url);
    platform = await registerTestPlatform(t, { lms: 'moodle' });
    fixture = moodleFixture({ laurelurl: gate.url, platformid: platform.id, secret: platform.webhookSecret });
  });
  afterAll(async () => {
    await gate?.close();
    await t?.stop();
  });

  /** One cron run: the tasks still queued, then the events' own; answers the tasks left (failed). */
  const cron = async (tasks: Queued[], events: Record<string, unknown>[] = []) => {
    const out: PluginRun = await runPlugin({ ...fixture, tasks, events, run: true });
    expect(out.runs).toHaveLength(out.queued.length);
    return {
      out,
      left: out.runs!.filter((r) => !r.ok).map(({ class: c, customdata }) => ({ class: c, customdata })),
    };
  };

  it('stores and counts every event once, awarding once, whatever was sent twice', async () => {
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId: '5',
      name: 'Three activities done',
      groups: [
        {
          requirements: [
            {
              id: 'three',
              event: 'activity.completed',
              rules: [{ path: 'data.completionState', op: 'in', value: ['complete', 'pass'] }],
              activities: { name: '*', atLeast: 3 },
            },
          ],
        },
      ],
    });
    expect([created.status, created.body.details]).toEqual([201, undefined]);
    const templateId = created.body.id as string;
    expect((await admin(t, 'POST', `/templates/${templateId}/activate`)).status).toBe(200);
    const completions = { platformId: platform.id, type: 'activity.completed' };

    // Laurel up: Ada (57) and Grace (58) complete module 42.
    const first = await cron([], [completion(1, 57, 42), completion(2, 58, 42)]);
    expect(first.left).toEqual([]);

    // An answer lost: Laurel stores Ada's module 43, Moodle never hears so; Grace's 43 goes through.
    gate.loseAnswers({ method: 'POST', path: /\/webhooks\/moodle\// }, 1);
    const second = await cron([], [completion(3, 57, 43), completion(4, 58, 43)]);
    expect(second.left).toHaveLength(1);
    expect(second.left[0]!.customdata.events[0]).toMatchObject({
      user: { id: '57' },
      data: { activityId: '43' },
    });
    expect(gate.log.filter((r) => r.status === 'lost')).toHaveLength(1);

    // Laurel unreachable: the lost one and Ada's module 44 wait in Moodle's queue, through two cron runs.
    await gate.down('refused');
    const reached = gate.log.length;
    const third = await cron(second.left, [completion(5, 57, 44)]);
    expect(third.left).toHaveLength(2);
    const fourth = await cron(third.left);
    expect(fourth.left).toHaveLength(2);
    expect(fourth.out.runs!.map((r) => r.error)).toEqual([expect.any(String), expect.any(String)]);
    expect(gate.log.length).toBe(reached);
    await settled(t);
    expect(await t.laurel.ctx.models.events.countDocuments(completions)).toBe(4);
    expect((await admin(t, 'GET', `/credentials?templateId=${templateId}`)).body.items).toEqual([]);

    // Laurel back: the queue is replayed, with a task of the first run that Moodle ran again
    // (a cron process that died before it could delete the task).
    await gate.up();
    const again = first.out.runs![0]!;
    const fifth = await cron([...fourth.left, { class: again.class, customdata: again.customdata }]);
    expect(fifth.left).toEqual([]);
    const answers = fifth.out.log!.filter((l) => l.includes('sent 1 event(s)'));
    expect(answers).toHaveLength(3);
    expect(answers.filter((l) => l.includes('"stored":1') && l.includes('"duplicates":0'))).toHaveLength(1);
    expect(answers.filter((l) => l.includes('"stored":0') && l.includes('"duplicates":1'))).toHaveLength(2);
    await settled(t);

    // Each Moodle event stored once.
    const events = await t.laurel.ctx.models.events.find(completions).lean();
    expect(events.map((e) => e.eventId.replace(/-\d+$/, '')).sort()).toEqual(
      [1, 2, 3, 4, 5].map((n) => `moodle-course_module_completion_updated-${n}`),
    );
    expect(events.every((e) => e.status === 'processed')).toBe(true);
    // Counted once: Ada's three activities, Grace's two of three; one badge, Ada's.
    const progressOf = async (userId: string) =>
      (await admin(t, 'GET', `/progress?templateId=${templateId}&userId=${userId}`)).body.items[0];
    const ada = await progressOf('57');
    expect([...ada.counted.three].sort()).toEqual(['42', '43', '44']);
    expect(ada.fulfilled).toEqual(['three']);
    const grace = await progressOf('58');
    expect([...grace.counted.three].sort()).toEqual(['42', '43']);
    expect(grace.fulfilled).toEqual([]);
    expect(grace.ratio).toBeCloseTo(2 / 3, 2);
    const credentials = (await admin(t, 'GET', `/credentials?templateId=${templateId}`)).body.items;
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ userId: '57' });
  });
});
