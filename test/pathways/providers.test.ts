import { Types } from 'mongoose';
import { enrol } from '../../src/pathways/enrolments.js';
import { updatePathwaysFromAwards } from '../../src/pathways/updates.js';
import { createPathway } from '../../src/pathways/service.js';
import { drainProviderOutbox } from '../../src/providers/outbox.js';
import { syncTemplates } from '../../src/providers/sync.js';
import { FakeAccredible } from '../support/fakes/accredible.js';
import { FakeCredly } from '../support/fakes/credly.js';
import type { TestLaurel } from '../support/laurel.js';
import {
  activateSynced,
  admin,
  makePerson,
  registerTestPlatform,
  startWebLaurel,
  testDeps,
} from '../providers/helpers.js';

/**
 * Issue 24: a pathway's steps may ask for Credly and Accredible badges beside Laurel's own, and a
 * pathway badge of Credly's is issued there, once. Laurel runs as a web process, so the test drives
 * the pathway update and the provider outbox itself.
 */
let t: TestLaurel;
let credly: FakeCredly;
let accredible: FakeAccredible;

beforeAll(async () => {
  t = await startWebLaurel();
  credly = new FakeCredly();
  accredible = new FakeAccredible();
  await Promise.all([credly.start(), accredible.start()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([credly?.stop(), accredible?.stop()]);
  await t?.stop();
});

it('moves along on Credly, Accredible and local badges and issues its Credly badge at Credly once', async () => {
  const ctx = t.laurel.ctx;
  const clock = testDeps();
  const platform = await registerTestPlatform(t);
  const platformId = new Types.ObjectId(platform.id);
  const settings = [
    admin(t, 'PUT', `/platforms/${platform.id}/providers/credly`, {
      organizationId: credly.organizationId,
      authToken: credly.token,
      environment: 'sandbox',
      baseUrl: credly.baseUrl,
    }),
    admin(t, 'PUT', `/platforms/${platform.id}/providers/accredible`, {
      apiKey: accredible.apiKey,
      environment: 'sandbox',
      baseUrl: accredible.baseUrl,
    }),
  ];
  expect((await Promise.all(settings)).map((s) => s.status)).toEqual([200, 200]);
  const python = credly.addTemplate({ name: 'Intro to Python' });
  const finisher = credly.addTemplate({ name: 'Data analyst' });
  const sql = accredible.addGroup({ course_name: 'SQL basics' });
  await syncTemplates(ctx, platformId, 'credly', clock.deps);
  await syncTemplates(ctx, platformId, 'accredible', clock.deps);
  const synced = async (externalId: string) => {
    const found = await ctx.models.templates.findOne({ platformId, externalId }).lean();
    await activateSynced(t, String(found!._id));
    return String(found!._id);
  };
  const ids = {
    python: await synced(python.id),
    finisher: await synced(finisher.id),
    sql: await synced(String(sql.id)),
  };
  const local = await admin(t, 'POST', '/templates', {
    platformId: platform.id,
    courseId: '101',
    name: 'Charts',
    groups: [{ requirements: [{ event: 'course.completed' }] }],
  });
  expect((await admin(t, 'POST', `/templates/${local.body.id}/activate`)).status).toBe(200);

  const actor = { type: 'admin' as const, id: 'test', name: 'Test admin' };
  const step = (id: string, templateIds: string[], prerequisites: string[] = []) => ({
    id,
    name: id,
    description: '',
    templateIds,
    atLeast: null,
    prerequisites,
    optional: false,
  });
  const pathway = await createPathway(
    ctx,
    { platformId, courseRef: null, admin: true },
    {
      name: 'Data analyst',
      description: '',
      badgeTemplateId: ids.finisher,
      steps: [
        step('python', [ids.python]),
        step('sql', [ids.sql], ['python']),
        step('charts', [local.body.id]),
      ],
    },
    actor,
  );
  const ada = await makePerson(t, platform.id);
  await enrol(ctx, pathway, [ada._id], 'subscribed', actor);
  const enrolment = () =>
    ctx.models.pathwayEnrolments.findOne({ pathwayId: pathway._id, personId: ada._id }).lean();
  const awardByHand = async (templateId: string) =>
    expect(
      (await admin(t, 'POST', '/credentials', { templateId, userId: '57', reason: 'test' })).status,
    ).toBe(201);

  // Out of order: the Accredible badge of the second step first, then the local one.
  await awardByHand(ids.sql);
  await awardByHand(local.body.id);
  await updatePathwaysFromAwards(ctx);
  expect((await enrolment())!.completedSteps.map((s) => s.stepId)).toEqual(['charts']);
  expect((await enrolment())!.currentStep).toBe('python');

  await awardByHand(ids.python);
  await updatePathwaysFromAwards(ctx);
  const done = await enrolment();
  expect(done!.completedSteps.map((s) => s.stepId).sort()).toEqual(['charts', 'python', 'sql']);
  expect(done!.completedAt).not.toBeNull();
  expect(done!.badgeCredentialId).not.toBeNull();

  // Everything goes out; a second round of both changes nothing.
  for (let round = 0; round < 2; round++) {
    await updatePathwaysFromAwards(ctx);
    await drainProviderOutbox(ctx, clock.deps, { platformId });
  }
  expect(credly.badges.map((b) => [b.badge_template.id, b.recipient_email]).sort()).toEqual(
    [
      [finisher.id, 'ada@example.edu'],
      [python.id, 'ada@example.edu'],
    ].sort(),
  );
  expect(accredible.credentials.map((c) => [c.group_id, c.recipient.email])).toEqual([
    [sql.id, 'ada@example.edu'],
  ]);
  const finisherCredentials = await ctx.models.credentials
    .find({ personId: ada._id, templateId: new Types.ObjectId(ids.finisher) })
    .lean();
  expect(finisherCredentials.map((c) => [String(c._id), c.status])).toEqual([
    [String(done!.badgeCredentialId), 'issued'],
  ]);
}, 120_000);
