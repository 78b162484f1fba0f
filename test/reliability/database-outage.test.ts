/**
 * The database unreachable for 30 seconds while events are processed and credentials issued: requests
 * get 503 (with Retry-After) while it is down, nothing is lost, and once it is back every learner ends
 * with exactly one issued credential.
 */
import { jest } from '@jest/globals';
import { signatureHeader } from '../../src/events/signature.js';
import { admin, event, registerTestPlatform, type TestPlatformRecord } from '../support/api.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { proxiedUri, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const OUTAGE_MS = Number(process.env.LAUREL_TEST_OUTAGE_MS ?? 30_000);
jest.setTimeout(OUTAGE_MS + 150_000);

describe('the database unreachable while events are processed and credentials issued', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestLaurel;
  let platform: TestPlatformRecord;

  beforeAll(async () => {
    db = await startTestDatabase();
    const target = new URL(db.uri);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 27017) });
    // Laurel reaches the database only through the proxy; the test's own checks go around it.
    t = await startTestLaurel({ MONGODB_URI: proxiedUri(db.uri, proxy) });
    platform = await registerTestPlatform(t);
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
    await db?.stop();
  });

  const post = (raw: string) =>
    fetch(`${t.url}/api/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-laurel-signature': signatureHeader(platform.webhookSecret, raw, Date.now()),
      },
      body: raw,
      signal: AbortSignal.timeout(60_000),
    });

  it('answers 503 while it is down, loses nothing and awards each learner exactly once afterwards', async () => {
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId: 'outage-101',
      name: 'Steady under outages',
      groups: [
        {
          requirements: [
            {
              event: 'activity.grade.updated',
              rules: [
                { path: 'data.activityId', op: 'eq', value: 'quiz' },
                { path: 'data.percent', op: 'gte', value: 50 },
              ],
            },
          ],
        },
      ],
    });
    expect(created.status).toBe(201);
    expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    const templateId = created.body.id as string;
    const gradeOf = (n: number) =>
      event(platform.id, {
        id: `outage-${n}`,
        course: { id: 'outage-101' },
        user: { id: `learner-${n}`, name: `Learner ${n}` },
        data: { activityId: 'quiz', percent: 60 + (n % 40) },
      });

    // 40 learners' grades land; processing and issuing are under way when the database goes.
    const first = await post(JSON.stringify({ events: Array.from({ length: 40 }, (_, n) => gradeOf(n)) }));
    expect(first.status).toBe(200);
    proxy.cut();
    const downSince = Date.now();

    // While it is down: the event API and the admin API answer 503 with Retry-After, in Laurel's shape.
    const refusedEvents = Array.from({ length: 20 }, (_, i) => gradeOf(40 + i));
    const during = await post(JSON.stringify({ events: refusedEvents }));
    expect(during.status).toBe(503);
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await during.json()).toMatchObject({ error: 'database_unavailable', message: expect.any(String) });
    const read = await fetch(`${t.url}/api/v1/credentials?templateId=${templateId}`, {
      headers: { authorization: `Bearer ${(await import('../support/api.js')).ADMIN_KEY}` },
    });
    expect(read.status).toBe(503);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);

    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downSince))));
    proxy.restore();

    // The LMS sends again what was refused, as the Moodle plugin's queue does.
    let again: Response | undefined;
    for (let attempt = 0; attempt < 30; attempt++) {
      again = await post(JSON.stringify({ events: refusedEvents }));
      if (again.status === 200) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(again!.status).toBe(200);

    // Checked around the proxy, straight in the database: all 60 learners, one issued credential each.
    const m = t.laurel.ctx.models;
    const deadline = Date.now() + 90_000;
    let issued = 0;
    while (Date.now() < deadline) {
      issued = await m.credentials.countDocuments({ templateId, status: 'issued' });
      const open = await m.events.countDocuments({ status: { $in: ['pending', 'processing'] } });
      if (issued === 60 && open === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(issued).toBe(60);
    expect(await m.credentials.countDocuments({ templateId })).toBe(60);
    const template = await m.templates.findById(templateId).lean();
    const twice = await m.credentials.aggregate<{ _id: unknown; n: number }>([
      { $match: { templateId: template!._id } },
      { $group: { _id: '$personId', n: { $sum: 1 } } },
      { $match: { n: { $gt: 1 } } },
    ]);
    expect(twice).toEqual([]);
    // Every grade stored once: the 40 sent before the outage and the 20 sent again after it.
    const grades = await m.events
      .find({ type: 'activity.grade.updated', 'course.id': 'outage-101' }, { eventId: 1, status: 1 })
      .lean();
    expect(new Set(grades.map((g) => g.eventId)).size).toBe(60);
    expect(grades).toHaveLength(60);
    expect(grades.every((g) => g.status === 'processed')).toBe(true);
  });
});
