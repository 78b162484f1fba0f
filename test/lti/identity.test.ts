import { Types } from 'mongoose';
import { upsertLaunchIdentity, upsertPerson } from '../../src/identity/launch.js';
import { resolvePerson } from '../../src/identity/resolve.js';
import { requestRosterSync, SYNC_ROSTER_JOB } from '../../src/lti/jobs.js';
import { event, sendEvents, settled } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from './helpers.js';

/** A lean person's roles in one course (a plain object once read, though the model types it as a Map). */
const rolesIn = (person: { roles: unknown }, courseRef: unknown) =>
  (person.roles as Record<string, string[]>)[String(courseRef)];

const waitFor = async <T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 10_000) => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('identity on launch, and the roster', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let canvas: RegisteredPlatform;

  beforeAll(async () => {
    t = await startLaurelForLti();
    [moodle, canvas] = await Promise.all([
      startRegisteredPlatform(t, 'moodle'),
      startRegisteredPlatform(t, 'canvas'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([moodle?.platform.close(), canvas?.platform.close()]);
    await t?.stop();
  });

  const models = () => t.laurel.ctx.models;

  it('stores the course with its context id and the LMS course id, title and label (Canvas)', async () => {
    const p = canvas.platform;
    const chemistry = p.demo!.courses.chemistry;
    await launch(p, { courseId: chemistry.id, sub: p.demo!.users.grace.sub });
    const courses = await models().courses.find({ platformId: canvas.id }).lean();
    const course = courses.find((c) => c.contextId === chemistry.contextId)!;
    expect(course.ids.sort()).toEqual([chemistry.contextId, chemistry.id].sort());
    expect(chemistry.contextId).not.toBe(chemistry.id);
    expect(course).toMatchObject({ lmsCourseId: chemistry.id, title: 'Chemistry 101', label: 'CHEM101' });
    const grace = await models()
      .people.findOne({ platformId: canvas.id, sub: p.demo!.users.grace.sub })
      .lean();
    expect(grace).toMatchObject({
      name: 'Grace Hopper',
      email: 'grace@example.edu',
      lmsUserId: p.demo!.users.grace.lmsUserId,
    });
    expect(grace!.ids).toEqual(
      expect.arrayContaining([p.demo!.users.grace.sub, p.demo!.users.grace.lmsUserId]),
    );
    expect(rolesIn(grace!, course._id)).toEqual(['Learner']);
  });

  it('joins a person an event made first (by LMS user id) with their launch: one person, both ids', async () => {
    const p = canvas.platform;
    const history = p.demo!.courses.history;
    const ada = p.demo!.users.ada;
    const sent = await sendEvents(
      t,
      canvas.webhookSecret,
      event(canvas.id, {
        type: 'enrollment.created',
        course: { id: history.id },
        user: { id: ada.lmsUserId, name: 'Ada L.' },
      }),
    );
    expect(sent.status).toBe(200);
    await settled(t);
    const before = await models().people.find({ platformId: canvas.id, ids: ada.lmsUserId }).lean();
    expect(before).toHaveLength(1);
    expect(before[0]!.sub).toBeNull();

    const page = await launch(p, { courseId: history.id, sub: ada.sub });
    expect(page.status).toBe(200);
    const people = await models()
      .people.find({ platformId: canvas.id, ids: { $in: [ada.sub, ada.lmsUserId] } })
      .lean();
    expect(people).toHaveLength(1);
    expect(String(people[0]!._id)).toBe(String(before[0]!._id));
    expect(people[0]!.ids).toEqual(expect.arrayContaining([ada.sub, ada.lmsUserId]));
    // The launch is the authority on names.
    expect(people[0]).toMatchObject({ sub: ada.sub, name: 'Ada Lovelace', email: 'ada@example.edu' });
    const courses = await models()
      .courses.find({ platformId: canvas.id, ids: { $in: [history.id, history.contextId] } })
      .lean();
    expect(courses).toHaveLength(1);
    expect(courses[0]!.ids.sort()).toEqual([history.contextId, history.id].sort());
  });

  it('joins a person by e-mail when their ids are new to Laurel', async () => {
    const platformId = new Types.ObjectId(moodle.id);
    const first = await resolvePerson(models(), platformId, { id: 'sis-77', email: 'Lin@Example.edu' });
    const joined = await upsertPerson(models(), platformId, {
      sub: '77',
      lmsUserId: '77',
      email: 'lin@example.edu',
      name: 'Lin',
    });
    expect(String(joined._id)).toBe(String(first._id));
    expect(joined.ids.sort()).toEqual(['77', 'sis-77']);
  });

  it('makes one person of concurrent first sightings (an event and launches at once)', async () => {
    const platformId = new Types.ObjectId(moodle.id);
    for (let i = 0; i < 5; i++) {
      const id = `race-${i}`;
      await Promise.all([
        resolvePerson(models(), platformId, { id }),
        upsertLaunchIdentity(models(), platformId, {
          course: { contextId: `ctx-${i}`, lmsCourseId: `ctx-${i}`, title: 'Race' },
          person: { sub: id, lmsUserId: id, roles: ['Learner'] },
        }),
        upsertLaunchIdentity(models(), platformId, {
          course: { contextId: `ctx-${i}`, lmsCourseId: `ctx-${i}`, title: 'Race' },
          person: { sub: id, lmsUserId: id, roles: ['Learner'] },
        }),
      ]);
      expect(await models().people.countDocuments({ platformId, ids: id })).toBe(1);
      expect(await models().courses.countDocuments({ platformId, ids: `ctx-${i}` })).toBe(1);
    }
  });

  it('syncs the roster when an instructor launches: learners who never launched become known', async () => {
    const p = moodle.platform;
    const chemistry = p.demo!.courses.chemistry;
    const newcomer = p.addUser({
      name: 'Nell Newcomer',
      email: 'nell@example.edu',
      roles: { [chemistry.id]: ['Learner'] },
    });
    const page = await launch(p, { courseId: chemistry.id, sub: p.demo!.users.instructor.sub });
    expect(page.status).toBe(200);
    const course = await models()
      .courses.findOne({ platformId: moodle.id, contextId: chemistry.contextId })
      .lean();
    const nell = await waitFor('the roster job', () =>
      models().people.findOne({ platformId: moodle.id, sub: newcomer.sub }).lean(),
    );
    expect(nell).toMatchObject({
      name: 'Nell Newcomer',
      email: 'nell@example.edu',
      lmsUserId: newcomer.lmsUserId,
    });
    expect(rolesIn(nell, course!._id)).toEqual(['Learner']);
    const members = await models()
      .people.find({ platformId: moodle.id, [`roles.${String(course!._id)}`]: { $exists: true } })
      .lean();
    expect(members.map((m) => m.name).sort()).toEqual(
      ['Ada Lovelace', 'Grace Hopper', 'Iris Instructor', 'Nell Newcomer'].sort(),
    );
    expect(
      rolesIn(
        members.find((m) => m.name === 'Iris Instructor')!,
        course!._id,
      ),
    ).toEqual(['Instructor']);

    // Debounced: a second launch within ten minutes does not queue another sync; the job repeats daily.
    const { jobs } = await t.laurel.queue.agenda.queryJobs({
      name: SYNC_ROSTER_JOB,
      data: { courseRef: String(course!._id) },
    });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.repeatInterval).toBe('1 day');
    const again = await requestRosterSync(t.laurel.ctx, {
      platformId: moodle.id,
      courseRef: String(course!._id),
      membershipsUrl: p.membershipsUrl(chemistry.id),
    });
    expect(again).toBe('recent');
  });

  it('keeps Canvas roster members without an LMS id but with their LTI id, name and e-mail', async () => {
    const p = canvas.platform;
    const chemistry = p.demo!.courses.chemistry;
    const newcomer = p.addUser({
      name: 'Cy Canvas',
      email: 'cy@example.edu',
      roles: { [chemistry.id]: ['Learner'] },
    });
    await launch(p, { courseId: chemistry.id, sub: p.demo!.users.instructor.sub });
    const cy = await waitFor('the roster job', () =>
      models().people.findOne({ platformId: canvas.id, sub: newcomer.sub }).lean(),
    );
    expect(cy).toMatchObject({ name: 'Cy Canvas', email: 'cy@example.edu', lmsUserId: null });
    // Their first launch adds the Canvas user id to the same person.
    await launch(p, { courseId: chemistry.id, sub: newcomer.sub });
    const after = await models().people.find({ platformId: canvas.id, ids: newcomer.sub }).lean();
    expect(after).toHaveLength(1);
    expect(after[0]!.lmsUserId).toBe(newcomer.lmsUserId);
  });
});
