import { Types } from 'mongoose';
import type { Context } from '../../src/context.js';
import type { PathwayDoc } from '../../src/db/models/pathway.js';
import { enrol } from '../../src/pathways/enrolments.js';
import { createPathway, updatePathway, type EditorScope } from '../../src/pathways/service.js';
import { settleAfterAwards } from '../../src/pathways/settle.js';
import {
  admin,
  event,
  registerTestPlatform,
  sendEvents,
  settled,
  type TestPlatformRecord,
} from '../support/api.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';

/**
 * Pathways through the real award pipeline: badges awarded by hand and by events move learners along
 * within seconds, the pathway's own badge is awarded exactly once (also when its two last badges
 * arrive together), and an edit keeps what learners achieved.
 */
let t: TestLaurel;
let ctx: Context;
let lms: TestPlatformRecord;
let scope: EditorScope;
const ids: Record<string, string> = {};
const actor = { type: 'admin' as const, id: 'test', name: 'Test admin' };

async function template(name: string, groups?: unknown[], courseId = '101') {
  const created = await admin(t, 'POST', '/templates', {
    platformId: lms.id,
    courseId,
    name,
    groups: groups ?? [{ requirements: [{ event: 'course.completed', rules: [] }] }],
  });
  expect(created.status).toBe(201);
  expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
  return created.body.id as string;
}

/** A person known from an enrolment event (an award by hand needs the person to be known). */
async function person(userId: string) {
  const answer = await sendEvents(
    t,
    lms.webhookSecret,
    event(lms.id, { type: 'enrollment.created', user: { id: userId, name: `Learner ${userId}` }, data: {} }),
  );
  expect(answer.status).toBe(200);
  await settled(t);
  const p = await ctx.models.people.findOne({ ids: userId }).lean();
  return p!._id;
}

const award = (templateId: string, userId: string) =>
  admin(t, 'POST', '/credentials', { templateId, userId, reason: 'test' });

/** Waits (at most a few seconds) until the learner's enrolment satisfies `check`. */
async function enrolmentWhen(
  pathwayId: Types.ObjectId,
  personId: Types.ObjectId,
  check: (e: any) => boolean,
) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const e = await ctx.models.pathwayEnrolments.findOne({ pathwayId, personId }).lean();
    if (e && check(e)) return e;
    if (Date.now() > deadline) throw new Error(`the enrolment did not move in time: ${JSON.stringify(e)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const pathwayInput = (badgeTemplateId: string | null) => ({
  name: 'Lab technician',
  description: 'From safety to independent lab work.',
  badgeTemplateId,
  steps: [
    {
      id: 'basics',
      name: 'Basics',
      description: '',
      templateIds: [ids.safety, ids.intro],
      atLeast: null,
      prerequisites: [],
      optional: false,
    },
    {
      id: 'labs',
      name: 'Labs',
      description: '',
      templateIds: [ids.lab1, ids.lab2, ids.lab3],
      atLeast: 2,
      prerequisites: ['basics'],
      optional: false,
    },
    {
      id: 'poster',
      name: 'Poster',
      description: '',
      templateIds: [ids.poster],
      atLeast: null,
      prerequisites: [],
      optional: true,
    },
  ],
});

const credentialsOf = (templateId: string, personId: Types.ObjectId) =>
  ctx.models.credentials.countDocuments({ templateId: new Types.ObjectId(templateId), personId });

beforeAll(async () => {
  t = await startTestLaurel();
  ctx = t.laurel.ctx;
  lms = await registerTestPlatform(t);
  scope = { platformId: new Types.ObjectId(lms.id), courseRef: null, admin: true };
  ids.safety = await template('Lab safety');
  // A badge of another course: pathways cross courses.
  ids.intro = await template('Intro to chemistry', undefined, '202');
  ids.lab1 = await template('Lab 1');
  ids.lab2 = await template('Lab 2');
  ids.lab3 = await template('Lab 3');
  ids.poster = await template('Poster');
  ids.technician = await template('Lab technician');
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

it('moves a learner along as badges arrive out of order, within seconds, and awards the pathway badge once', async () => {
  const pathway = await createPathway(ctx, scope, pathwayInput(ids.technician!), actor);
  const ada = await person('ada');
  await enrol(ctx, pathway, [ada], 'subscribed', actor);
  const fresh = await ctx.models.pathwayEnrolments.findOne({ pathwayId: pathway._id, personId: ada }).lean();
  expect(fresh!.currentStep).toBe('basics');

  // Two labs first: the labs step is met but waits for its prerequisite.
  for (const lab of [ids.lab1!, ids.lab3!]) expect((await award(lab, 'ada')).status).toBe(201);
  const start = Date.now();
  expect((await award(ids.intro!, 'ada')).status).toBe(201);
  await ctx.jobs.idle?.();
  let e = await ctx.models.pathwayEnrolments.findOne({ pathwayId: pathway._id, personId: ada }).lean();
  expect(e!.completedSteps).toEqual([]);
  expect(e!.currentStep).toBe('basics');

  // The last badge of the first step: both steps are done at once, and the pathway with them.
  expect((await award(ids.safety!, 'ada')).status).toBe(201);
  e = await enrolmentWhen(pathway._id, ada, (x) => x.completedAt !== null && x.badgeCredentialId !== null);
  expect(Date.now() - start).toBeLessThan(5000);
  expect(e.completedSteps.map((s: { stepId: string }) => s.stepId).sort()).toEqual(['basics', 'labs']);
  expect(e.currentStep).toBe('done');
  expect(await credentialsOf(ids.technician!, ada)).toBe(1);
  const badge = await ctx.models.credentials.findById(e.badgeCredentialId).lean();
  expect(String(badge!.templateId)).toBe(ids.technician);
  expect(badge!.awardReason).toBe('Finished the pathway “Lab technician”.');

  // The third lab and the optional step change nothing about the pathway badge.
  expect((await award(ids.lab2!, 'ada')).status).toBe(201);
  expect((await award(ids.poster!, 'ada')).status).toBe(201);
  await enrolmentWhen(pathway._id, ada, (x) => x.completedSteps.length === 3);
  await ctx.jobs.idle?.();
  expect(await credentialsOf(ids.technician!, ada)).toBe(1);
  // Nothing waits to be counted once the drain ran.
  expect(await ctx.models.credentials.countDocuments({ pathwaysPending: true })).toBe(0);
}, 30_000);

it('awards the pathway badge exactly once when its two last badges arrive together', async () => {
  const pathway = await createPathway(
    ctx,
    scope,
    { ...pathwayInput(ids.technician!), name: 'Together' },
    actor,
  );
  const learners = ['b1', 'b2', 'b3', 'b4'];
  for (const l of learners) {
    const id = await person(l);
    await enrol(ctx, pathway, [id], 'enrolled', actor);
    for (const b of [ids.intro!, ids.lab1!]) expect((await award(b, l)).status).toBe(201);
  }
  // The last badge of each step, at the same moment (each one alone does not finish the pathway).
  const answers = await Promise.all(learners.flatMap((l) => [award(ids.safety!, l), award(ids.lab2!, l)]));
  expect(answers.map((a) => a.status)).toEqual(learners.flatMap(() => [201, 201]));
  for (const l of learners) {
    const id = (await ctx.models.people.findOne({ ids: l }).lean())!._id;
    await enrolmentWhen(pathway._id, id, (x) => x.badgeCredentialId !== null);
    // Two more settling runs at once over the same awards find nothing more to do.
    const awarded = await Promise.all(
      [ids.safety!, ids.lab2!].map((templateId) =>
        settleAfterAwards(ctx, [
          { platformId: pathway.platformId, personId: id, templateId: new Types.ObjectId(templateId) },
        ]),
      ),
    );
    expect(awarded).toEqual([0, 0]);
    await ctx.jobs.idle?.();
    expect([l, await credentialsOf(ids.technician!, id)]).toEqual([l, 1]);
  }
}, 60_000);

it('settles concurrent runs over one learner into one pathway badge', async () => {
  const pathway = await createPathway(ctx, scope, { ...pathwayInput(ids.technician!), name: 'Race' }, actor);
  const id = await person('race');
  await ctx.models.pathwayEnrolments.create({
    platformId: pathway.platformId,
    pathwayId: pathway._id,
    personId: id,
    via: 'subscribed',
    enrolledBy: actor,
    enrolledAt: new Date(),
    updatedAt: new Date(),
  });
  // Every badge is held before any run: the runs race to record the steps and to award.
  const pathwayBadge = new Types.ObjectId(ids.technician);
  const held = [ids.safety!, ids.intro!, ids.lab1!, ids.lab2!];
  await ctx.models.credentials.insertMany(
    held.map((templateId) => ({
      platformId: pathway.platformId,
      templateId: new Types.ObjectId(templateId),
      personId: id,
      userId: 'race',
      status: 'issued',
      liveSlot: 'live',
      awardedAt: new Date(),
      awardedBy: actor,
    })),
  );
  const runs = await Promise.all(
    held.map((templateId) =>
      settleAfterAwards(ctx, [
        { platformId: pathway.platformId, personId: id, templateId: new Types.ObjectId(templateId) },
      ]),
    ),
  );
  expect(runs.reduce((a, b) => a + b, 0)).toBe(1);
  expect(await ctx.models.credentials.countDocuments({ templateId: pathwayBadge, personId: id })).toBe(1);
  const e = await ctx.models.pathwayEnrolments.findOne({ pathwayId: pathway._id, personId: id }).lean();
  expect(e!.completedSteps.map((s) => s.stepId).sort()).toEqual(['basics', 'labs']);
}, 30_000);

it('keeps what learners achieved through an edit, and counts them again under the new steps', async () => {
  const pathway: PathwayDoc = await createPathway(
    ctx,
    scope,
    { ...pathwayInput(null), name: 'Edited' },
    actor,
  );
  const grace = await person('grace');
  await enrol(ctx, pathway, [grace], 'subscribed', actor);
  for (const b of [ids.safety!, ids.intro!]) expect((await award(b, 'grace')).status).toBe(201);
  const before = await enrolmentWhen(pathway._id, grace, (x) => x.completedSteps.length === 1);
  const doneAt = before.completedSteps[0].at;

  // The edit renames and raises the first step (a badge grace lacks), moves it after a new first
  // step she already meets, and asks for one lab instead of two.
  const input = pathwayInput(null);
  const edited = {
    ...input,
    name: 'Edited',
    steps: [
      {
        id: 'intro',
        name: 'Introduction',
        description: '',
        templateIds: [ids.intro],
        atLeast: null,
        prerequisites: [],
        optional: false,
      },
      {
        ...input.steps[0]!,
        name: 'Safety first',
        templateIds: [ids.safety, ids.intro, ids.poster],
        prerequisites: ['intro'],
      },
      { ...input.steps[1]!, atLeast: 1 },
    ],
  };
  // An edit from an older version is refused, not merged.
  await expect(
    updatePathway(ctx, scope, String(pathway._id), pathway.version + 1, edited, actor),
  ).rejects.toMatchObject({
    code: 'pathway_changed',
  });
  const after = await updatePathway(ctx, scope, String(pathway._id), pathway.version, edited, actor);
  expect(after.version).toBe(pathway.version + 1);
  const e = await ctx.models.pathwayEnrolments.findOne({ pathwayId: pathway._id, personId: grace }).lean();
  // Her recorded step stays done with its original time although she lacks its new badge; the new
  // first step is counted from what she holds.
  expect(e!.completedSteps.find((s) => s.stepId === 'basics')!.at).toEqual(doneAt);
  expect(e!.completedSteps.map((s) => s.stepId).sort()).toEqual(['basics', 'intro']);
  expect(e!.currentStep).toBe('labs');
}, 30_000);
