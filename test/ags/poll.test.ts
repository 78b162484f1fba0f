/** AGS results of Laurel's own line items, read by the `poll-ags-results` job, through to awards. */
import { createLineItem, type AgsTarget } from '../../src/lti/ags.js';
import { JOBS } from '../../src/jobs/names.js';
import { activityIdOf, pollAgsResults } from '../../src/lms/ags/poll.js';
import { fetchLineItems, fetchResults, nextLink, resultsUrlOf } from '../../src/lms/ags/client.js';
import { AGS_SCOPES, serviceToken } from '../../src/lms/ags/token.js';
import { lmsOutboundPolicy } from '../../src/lti/registration.js';
import { admin, settled } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';

const RESOURCE_ID = 'laurel-lab-safety';

/** "Lab safety" (Laurel's deep-linked activity, its line item's resourceId) at 80% or more. */
const labSafetyBadge = (platformId: string, courseId: string) => ({
  platformId,
  courseId,
  name: 'Safe in the lab',
  description: 'Lab safety passed.',
  criteria: '80% or more in Lab safety.',
  groups: [
    {
      requirements: [
        {
          id: 'lab-safety',
          event: 'activity.grade.updated',
          rules: [
            { path: 'data.activityId', op: 'eq', value: RESOURCE_ID },
            { path: 'data.percent', op: 'gte', value: 80 },
          ],
        },
      ],
    },
  ],
  penalties: [],
});

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not in time`);
}

describe('AGS line item helpers', () => {
  it('finds rel="next" in a Link header and the results URL of a line item', () => {
    expect(
      nextLink('<https://lms.example/a?page=2>; rel="next", <https://lms.example/a?page=9>; rel="last"'),
    ).toBe('https://lms.example/a?page=2');
    expect(nextLink('<https://lms.example/a?page=9>; rel="last"')).toBeNull();
    expect(nextLink(undefined)).toBeNull();
    // Moodle's own Link header, typographic quotes and all.
    expect(
      nextLink(
        '<https://m.example/l?limit=2&from=0>; rel=“first”, <https://m.example/l?limit=2&from=2>; rel=“next”, <https://m.example/l?limit=2&from=3>; rel=“last”',
      ),
    ).toBe('https://m.example/l?limit=2&from=2');
    expect(resultsUrlOf('https://moodle.example/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1')).toBe(
      'https://moodle.example/mod/lti/services.php/2/lineitems/5/lineitem/results?type_id=1',
    );
    expect(activityIdOf({ id: 'https://x/li/1', resourceId: null, tag: null })).toBe('https://x/li/1');
    expect(activityIdOf({ id: 'https://x/li/1', resourceId: 'r', tag: 't' })).toBe('r');
  });
});

describe.each(['moodle', 'canvas'] as const)('%s: AGS results poll', (flavour) => {
  let t: TestLaurel;
  let reg: RegisteredPlatform;
  let templateId: string;
  let lineItemLocalId: string;
  const models = () => t.laurel.ctx.models;
  const p = () => reg.platform;
  const chem = () => p().demo!.courses.chemistry;
  const users = () => p().demo!.users;
  const agsEvents = () =>
    models().events.find({ platformId: reg.id, source: 'ags' }).sort({ receivedAt: 1, _id: 1 }).lean();
  const credentialsOf = async (userId: string) =>
    (await admin(t, 'GET', `/credentials?templateId=${templateId}&userId=${encodeURIComponent(userId)}`)).body
      .items as { status: string }[];

  beforeAll(async () => {
    t = await startLaurelForLti();
    reg = await startRegisteredPlatform(t, flavour);
    // The instructor launches Laurel in the course (the launch carries the AGS claim) …
    const page = await launch(p(), { courseId: chem().id, sub: users().instructor.sub });
    expect(new URL(page.url).pathname).toBe('/course/instructor');
    // … and Laurel's deep-linked activity has its gradebook column, created through AGS.
    const target: AgsTarget = {
      issuer: p().issuer,
      clientId: p().clientId,
      lineItemsUrl: p().lineItemsUrl(chem().id),
    };
    await createLineItem(t.laurel.lti.provider.Grade, target, {
      label: 'Lab safety',
      scoreMaximum: 100,
      resourceId: RESOURCE_ID,
      tag: 'laurel',
    });
    const own = p().lineItems(chem().id, p().clientId);
    lineItemLocalId = String(own.find((i) => i.label === 'Lab safety')!.localId);
    // A column of another tool is invisible to Laurel, and its grades never count.
    p().addLineItem(chem().id, { label: 'Other tool', scoreMaximum: 10, clientId: 'someone-else' });

    const created = await admin(t, 'POST', '/templates', labSafetyBadge(reg.id, chem().id));
    expect(created.status).toBe(201);
    templateId = created.body.id;
    expect((await admin(t, 'POST', `/templates/${templateId}/activate`)).body.state).toBe('active');
  });
  afterAll(async () => {
    await reg?.platform.close();
    await t?.stop();
  });

  it('is a recurring job', async () => {
    const { jobs } = await t.laurel.ctx.jobs.agenda.queryJobs({ name: JOBS.pollAgsResults, limit: 5 });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.repeatInterval).toBeTruthy();
  });

  it('turns a 90/100 recorded in the LMS into one event, progress and the badge (learner never launched)', async () => {
    // Not on the roster either (added to the LMS after the instructor's launch, not enrolled): unknown to Laurel.
    const ada = p().addUser({ name: 'Hedy Lamarr', email: 'hedy@example.edu' });
    expect(await models().people.countDocuments({ ids: ada.sub })).toBe(0);
    p().setResult(chem().id, lineItemLocalId, ada.sub, 90, 100);

    const first = await pollAgsResults(t.laurel.ctx);
    expect(first).toMatchObject({ courses: 1, polled: 1, failed: 0, results: 1, stored: 1 });
    // Laurel's own columns only (Moodle also has the one of the preconfigured link), never the other tool's.
    expect(first.lineItems).toBe(p().lineItems(chem().id, p().clientId).length);
    const events = await agsEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'activity.grade.updated',
      user: { id: ada.sub },
      data: {
        activityId: RESOURCE_ID,
        activityName: 'Lab safety',
        score: 90,
        maxScore: 100,
        percent: 90,
        source: 'ags',
      },
    });
    // The course is named by its LTI context id, one of the ids of the course the launch recorded.
    const course = await models().courses.findOne({ ids: events[0]!.course!.id }).lean();
    expect(course?.ids).toContain(chem().id);

    // A second run finds nothing new.
    expect(await pollAgsResults(t.laurel.ctx)).toMatchObject({ results: 1, stored: 0 });
    expect(await agsEvents()).toHaveLength(1);

    await settled(t);
    await waitFor('Hedy’s credential', async () => (await credentialsOf(ada.sub)).length > 0);
    const progress = await admin(t, 'GET', `/progress?templateId=${templateId}&userId=${ada.sub}`);
    expect(progress.body.items[0]).toMatchObject({ fulfilled: ['lab-safety'], ratio: 1 });
    expect(await credentialsOf(ada.sub)).toHaveLength(1);
    // The event made her known, without a launch or roster sync.
    expect(await models().people.countDocuments({ ids: ada.sub })).toBe(1);
  });

  it('stores a changed score as a new event, and a score changed back again too', async () => {
    const grace = users().grace;
    p().setResult(chem().id, lineItemLocalId, grace.sub, 60, 100);
    expect(await pollAgsResults(t.laurel.ctx)).toMatchObject({ stored: 1 });
    p().setResult(chem().id, lineItemLocalId, grace.sub, 85, 100);
    expect(await pollAgsResults(t.laurel.ctx)).toMatchObject({ stored: 1 });
    const mine = (await agsEvents()).filter((e) => e.user.id === grace.sub);
    expect(mine.map((e) => e.data.score)).toEqual([60, 85]);
    expect(new Set(mine.map((e) => e.eventId)).size).toBe(2);
    // Back to 60: the same score as before, a new change all the same.
    p().setResult(chem().id, lineItemLocalId, grace.sub, 60, 100);
    expect(await pollAgsResults(t.laurel.ctx)).toMatchObject({ stored: 1 });
    const again = (await agsEvents()).filter((e) => e.user.id === grace.sub);
    expect(again.map((e) => e.data.score)).toEqual([60, 85, 60]);
    expect(new Set(again.map((e) => e.eventId)).size).toBe(3);

    await settled(t);
    await waitFor('Grace’s credential', async () => (await credentialsOf(grace.sub)).length > 0);
    expect(await credentialsOf(grace.sub)).toHaveLength(1);
  });

  it('backs off a course whose LMS refuses, and reads it again once it answers', async () => {
    const course = await models().agsCourses.findOne({ platformId: reg.id }).lean();
    expect(course).toBeTruthy();
    // A day later ltijs has forgotten the launch (its context tokens expire); the course stays known.
    await t.laurel.lti.db.collection('contexttoken').deleteMany({});
    // The LMS answers 404 for a course that is gone: the course waits, nothing is lost.
    await models().agsCourses.updateOne(
      { _id: course!._id },
      { $set: { lineItemsUrl: `${course!.lineItemsUrl.replace(/\/?$/, '')}-gone` } },
    );
    const failed = await pollAgsResults(t.laurel.ctx);
    expect(failed).toMatchObject({ failed: 1, stored: 0 });
    const after = await models().agsCourses.findById(course!._id).lean();
    expect(after!.failures).toBe(1);
    expect(after!.lastError).toBeTruthy();
    expect(after!.retryAt!.getTime()).toBeGreaterThan(Date.now());
    // Waiting: the next run leaves it alone.
    expect(await pollAgsResults(t.laurel.ctx)).toMatchObject({ polled: 0, failed: 0 });
    // The LMS answers again and the wait is over: read as before, nothing stored twice.
    await models().agsCourses.updateOne(
      { _id: course!._id },
      { $set: { lineItemsUrl: course!.lineItemsUrl, retryAt: new Date(Date.now() - 1000) } },
    );
    expect(await pollAgsResults(t.laurel.ctx)).toMatchObject({ polled: 1, failed: 0, stored: 0 });
    const healed = await models().agsCourses.findById(course!._id).lean();
    expect(healed).toMatchObject({ failures: 0, lastError: null, retryAt: null });
  });

  it('pages through line items and results (Link: rel="next")', async () => {
    const platform = await models().platforms.findById(reg.id).lean();
    const policy = lmsOutboundPolicy(t.laurel.ctx.config);
    const items = await fetchLineItems(
      policy,
      p().lineItemsUrl(chem().id),
      () => serviceToken(t.laurel.ctx, platform!, AGS_SCOPES.lineItemReadonly),
      { limit: 1 },
    );
    expect(items.length).toBe(p().lineItems(chem().id, p().clientId).length);
    const item = items.find((i) => i.resourceId === RESOURCE_ID)!;
    // Moodle cannot page results (it fails on `limit`); the poll asks it for whole lists.
    const results = await fetchResults(
      policy,
      item.id,
      () => serviceToken(t.laurel.ctx, platform!, AGS_SCOPES.resultReadonly),
      flavour === 'moodle' ? {} : { limit: 1 },
    );
    if (flavour === 'moodle')
      await expect(
        fetchResults(
          policy,
          item.id,
          () => serviceToken(t.laurel.ctx, platform!, AGS_SCOPES.resultReadonly),
          { limit: 1 },
        ),
      ).rejects.toThrow('answered 404');
    expect(results.map((r) => r.resultScore).sort()).toEqual([60, 90]);
  });
});
