import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { eventPanelRouter } from '../support/demo-panel.js';
import { registerTestPlatform, settled, type TestPlatformRecord } from '../support/api.js';
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
});
