import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { announceDemoActivities, eventPanelRouter } from '../support/demo-panel.js';
import { ADMIN_KEY, admin, registerTestPlatform, settled, type TestPlatformRecord } from '../support/api.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';

describe("the demo LMS's event panel", () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  let server: http.Server;
  let panelUrl: string;
  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t);
    const app = express();
    app.use(
      eventPanelRouter({
        laurelUrl: t.url,
        platformId: () => platform.id,
        webhookSecret: () => platform.webhookSecret,
        courses: () => [{ id: '101', title: 'Chemistry 101' }],
        learners: () => [{ id: '57', name: 'Ada Lovelace', email: 'ada@example.edu' }],
        adminApiKey: ADMIN_KEY,
        lmsUrl: () => 'http://lms.example/',
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    panelUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lms-panel`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await t?.stop();
  });

  const send = (fields: Record<string, string>) =>
    fetch(`${panelUrl}/send`, { method: 'POST', body: new URLSearchParams(fields) }).then(async (r) => ({
      status: r.status,
      body: await r.text(),
    }));

  it('offers the three actions with labelled fields', async () => {
    const html = await (await fetch(panelUrl)).text();
    expect(html).toContain('Set a grade on an activity');
    expect(html).toContain('Complete an activity');
    expect(html).toContain('Complete the course');
    expect(html).toMatch(/<label for="g-score">Score<\/label><input id="g-score"/);
  });

  it('sends a signed grade event through the public contract and shows what was sent and the answer', async () => {
    const answer = await send({
      action: 'grade',
      course: '101',
      user: '57',
      activity: 'quiz-3',
      score: '17',
      maxScore: '20',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Sent to Laurel: answer 200');
    expect(answer.body).toContain('&quot;type&quot;: &quot;activity.grade.updated&quot;');
    expect(answer.body).toMatch(/X-Laurel-Signature: t=\d+,v1=[0-9a-f]{64}/);
    expect(answer.body).toContain('&quot;stored&quot;: 1');
    await settled(t);
    const stored = await t.laurel.ctx.models.events.findOne({ type: 'activity.grade.updated' }).lean();
    expect(stored?.data).toMatchObject({
      activityId: 'quiz-3',
      activityTitle: 'Quiz 3',
      score: 17,
      maxScore: 20,
      percent: 85,
    });
    expect(stored?.user.id).toBe('57');
  });

  it('sends course and activity completions', async () => {
    expect((await send({ action: 'complete-course', course: '101', user: '57' })).body).toContain(
      'answer 200',
    );
    expect(
      (await send({ action: 'complete-activity', course: '101', user: '57', activity: 'lab-report' })).body,
    ).toContain('answer 200');
    expect(
      await t.laurel.ctx.models.events.countDocuments({
        type: { $in: ['course.completed', 'activity.completed'] },
      }),
    ).toBe(2);
  });

  it('says what is missing instead of sending a bad event', async () => {
    const answer = await send({
      action: 'grade',
      course: '101',
      user: '57',
      activity: 'quiz-3',
      score: 'many',
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('give a score and a maximum above 0');
  });

  it('lists activities with their ids, links back to the LMS, and keeps the last choice', async () => {
    const first = await (await fetch(panelUrl)).text();
    expect(first).toMatch(/<option value="quiz-3"( selected)?>Quiz 3 \(id quiz-3\)<\/option>/);
    expect(first).toContain('<a href="http://lms.example/">Back to the LMS</a>');
    const answer = await send({
      action: 'grade',
      course: '101',
      user: '57',
      activity: 'final-exam',
      score: '42',
      maxScore: '50',
    });
    expect(answer.body).toContain('<option value="final-exam" selected>Final exam (id final-exam)</option>');
    expect(answer.body).toContain('id="g-score" name="score" inputmode="decimal" value="42"');
    const again = await (await fetch(panelUrl)).text();
    expect(again).toContain('<option value="final-exam" selected>');
    expect(again).toContain('value="50" size="6"');
  });

  it('says which badges the event moved, and that none did when none asks for it', async () => {
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId: '101',
      name: 'Lab hero',
      groups: [
        {
          requirements: [
            {
              id: 'lab',
              event: 'activity.completed',
              rules: [{ path: 'data.activityId', op: 'eq', value: 'quiz-1' }],
            },
          ],
        },
        {
          requirements: [
            {
              id: 'q2',
              event: 'activity.grade.updated',
              rules: [
                { path: 'data.activityId', op: 'eq', value: 'quiz-2' },
                { path: 'data.percent', op: 'gte', value: 50 },
              ],
            },
          ],
        },
      ],
    });
    expect(created.status).toBe(201);
    await admin(t, 'POST', `/templates/${created.body.id}/activate`);
    const half = await send({ action: 'grade', course: '101', user: '57', activity: 'quiz-2', score: '60' });
    expect(half.body).toContain('<li>Lab hero: 0% → 50%</li>');
    const done = await send({
      action: 'complete-activity',
      course: '101',
      user: '57',
      activity: 'quiz-1',
    });
    expect(done.body).toContain('<li>Lab hero: 50% → 100% — earned</li>');
    const nothing = await send({
      action: 'grade',
      course: '101',
      user: '57',
      activity: 'quiz-3',
      score: '10',
    });
    expect(nothing.body).toContain('No badge moved');
  });

  it("announces the demo courses' activities as the Moodle plugin does", async () => {
    const status = await announceDemoActivities(t.url, platform.id, platform.webhookSecret, [
      { id: '101', title: 'Chemistry 101' },
    ]);
    expect(status).toBe(200);
    const known = await t.laurel.ctx.models.lmsActivities.find({ platformId: platform.id }).lean();
    expect(known.map((a) => [a.activityId, a.name]).sort()).toEqual([
      ['final-exam', 'Final exam'],
      ['lab-report', 'Lab report'],
      ['quiz-1', 'Quiz 1'],
      ['quiz-2', 'Quiz 2'],
      ['quiz-3', 'Quiz 3'],
    ]);
  });
});
