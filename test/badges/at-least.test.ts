import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import {
  admin,
  event,
  registerTestPlatform,
  sendEvents,
  settled,
  type TestPlatformRecord,
} from '../support/api.js';

/** "Any 2 of the 3 labs at 70% or more", through the admin API and the event endpoint. */
describe('a badge of "any N of these" over HTTP', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const lab = (n: number) => ({
    id: `lab${n}`,
    event: 'activity.grade.updated',
    rules: [
      { path: 'data.activityId', op: 'eq', value: `lab-${n}` },
      { path: 'data.percent', op: 'gte', value: 70 },
    ],
  });
  const body = (atLeast: unknown) => ({
    platformId: platform.id,
    courseId: '101',
    name: 'Lab regular',
    groups: [{ requirements: [lab(1), lab(2), lab(3)], atLeast }],
  });

  it('refuses an atLeast the group cannot reach, naming the field', async () => {
    const refused = await admin(t, 'POST', '/templates', body(4));
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual([
      { path: 'groups.0.atLeast', message: 'atLeast is 4, but the group has only 3 requirement(s)' },
    ]);
  });

  it('is awarded at the second lab passed, with progress 1 of 2 before', async () => {
    const created = await admin(t, 'POST', '/templates', body(2));
    expect(created.status).toBe(201);
    expect(created.body.groups[0].atLeast).toBe(2);
    await admin(t, 'POST', `/templates/${created.body.id}/activate`);
    const grade = (n: number, percent: number) =>
      event(platform.id, { user: { id: '71' }, data: { activityId: `lab-${n}`, percent } });

    await sendEvents(t, platform.webhookSecret, { events: [grade(1, 90), grade(2, 60)] });
    await settled(t);
    const half = await admin(t, 'GET', `/progress?templateId=${created.body.id}&userId=71`);
    expect(half.body.items[0]).toMatchObject({
      ratio: 0.5,
      groups: [{ met: false, needed: 2, fulfilled: ['lab1'] }],
    });
    expect((await admin(t, 'GET', `/credentials?templateId=${created.body.id}`)).body.items).toEqual([]);

    await sendEvents(t, platform.webhookSecret, grade(3, 75));
    await settled(t);
    const credentials = await admin(t, 'GET', `/credentials?templateId=${created.body.id}`);
    expect(credentials.body.items).toHaveLength(1);
    expect(credentials.body.items[0].userId).toBe('71');
  });
});
