import { activitiesSeenInEvents } from '../../src/courses/activities.js';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { Types } from 'mongoose';
import { upsertPerson } from '../../src/identity/launch.js';
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch } from '../support/lms-platform/index.js';
import { startLaurelForLti } from '../lti/helpers.js';
import { globalId, gradeChangeBody, startCanvas, waitFor, type CanvasSetup } from './helpers.js';

/** Lab 3 (assignment 42 of the Chemistry course) at 80% or more. */
const labBadge = (platformId: string, courseId: string) => ({
  platformId,
  courseId,
  name: 'Lab champion',
  description: 'Top marks in Lab 3.',
  criteria: '80% or more in Lab 3.',
  groups: [
    {
      requirements: [
        {
          id: 'lab3',
          event: 'activity.grade.updated',
          rules: [
            { path: 'data.activityId', op: 'eq', value: '42' },
            { path: 'data.percent', op: 'gte', value: 80 },
          ],
        },
      ],
    },
  ],
  penalties: [],
});

describe('Canvas Live Events (signed HTTPS delivery) through to awards', () => {
  let t: TestLaurel;
  let c: CanvasSetup;
  let templateId: string;
  const models = () => t.laurel.ctx.models;
  const chem = () => c.platform.demo!.courses.chemistry;
  const users = () => c.platform.demo!.users;
  const counts = async () => ({
    events: await models().events.countDocuments({ platformId: c.id }),
    activities: await models().lmsActivities.countDocuments({ platformId: c.id }),
  });
  const credentialsOf = async (userId: string) =>
    (await admin(t, 'GET', `/credentials?templateId=${templateId}&userId=${encodeURIComponent(userId)}`)).body
      .items as { status: string }[];
  const gradeChange = (userId: string, score: number | null, extra: { muted?: boolean } = {}) =>
    c.platform.liveEvent({
      eventName: 'grade_change',
      courseId: chem().id,
      actorId: users().instructor.lmsUserId,
      body: gradeChangeBody({
        assignmentId: '42',
        assignmentName: 'Lab 3',
        userId,
        score,
        pointsPossible: 10,
        ...extra,
      }),
    });

  beforeAll(async () => {
    t = await startLaurelForLti();
    c = await startCanvas(t);
    const created = await admin(t, 'POST', '/templates', labBadge(c.id, chem().id));
    expect(created.status).toBe(201);
    templateId = created.body.id;
    expect((await admin(t, 'POST', `/templates/${templateId}/activate`)).body.state).toBe('active');
  });
  afterAll(async () => {
    await c?.platform.close();
    await t?.stop();
  });

  it('puts assignments from assignment_created / assignment_updated in the course’s activity list, by name', async () => {
    const assignment = (eventName: string, title: string, eventTime: string) =>
      c.platform.liveEvent({
        eventName,
        courseId: chem().id,
        actorId: users().instructor.lmsUserId,
        metadata: { event_time: eventTime },
        body: {
          assignment_id: globalId('42'),
          assignment_group_id: globalId('7'),
          context_id: globalId(chem().id),
          context_type: 'Course',
          context_uuid: 'a1b2c3c4z9x8a1s2q5w6p9o8i7u6y5t6a2s3d4f5',
          title,
          description: '<p>Titrate.</p>',
          due_at: null,
          points_possible: 10,
          submission_types: 'online_upload',
          workflow_state: 'published',
          updated_at: eventTime,
        },
      });
    const created = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      assignment('assignment_created', 'Lab 3', '2026-11-01T10:00:00.000Z'),
    );
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ stored: 0, activities: 1 });
    const renamed = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      assignment('assignment_updated', 'Lab 3: titration', '2026-11-02T10:00:00.000Z'),
    );
    expect(renamed.status).toBe(200);
    // An older description arriving late never overwrites a newer one.
    await c.platform.deliverLiveEvent(
      c.webhookUrl,
      assignment('assignment_updated', 'Lab 3 (draft)', '2026-11-01T12:00:00.000Z'),
    );
    const stored = await models().lmsActivities.find({ platformId: c.id }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      courseId: chem().id,
      activityId: '42',
      name: 'Lab 3: titration',
      maxScore: 10,
    });

    // The instructor's badge builder lists it by name (the course is the one the launch names).
    await launch(c.platform, { courseId: chem().id, sub: users().instructor.sub });
    const course = await models().courses.findOne({ platformId: c.id, ids: chem().id }).lean();
    const activities = await activitiesSeenInEvents(t.laurel.ctx, {
      platformId: course!.platformId,
      courseRef: course!._id,
    });
    expect(activities).toContainEqual({ id: '42', title: 'Lab 3: titration', source: 'lms' });
  });

  it('tags each assignment with its assignment group’s name, and follows a rename of the group', async () => {
    const group = (eventName: string, name: string, eventTime: string) =>
      c.platform.liveEvent({
        eventName,
        courseId: chem().id,
        actorId: users().instructor.lmsUserId,
        metadata: { event_time: eventTime },
        body: {
          assignment_group_id: globalId('7'),
          context_id: globalId(chem().id),
          context_type: 'Course',
          name,
          position: 1,
          group_weight: 0,
        },
      });
    const created = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      group('assignment_group_created', 'Labs', '2026-11-03T10:00:00.000Z'),
    );
    expect(created.status).toBe(200);
    const tagsOf42 = async () =>
      (await models().lmsActivities.findOne({ platformId: c.id, activityId: '42' }).lean())!.tags;
    // Assignment 42 (group 7) was described before its group: the group's name tags it now.
    expect(await tagsOf42()).toEqual(['Labs']);
    await c.platform.deliverLiveEvent(
      c.webhookUrl,
      group('assignment_group_updated', 'Practicals', '2026-11-04T10:00:00.000Z'),
    );
    expect(await tagsOf42()).toEqual(['Practicals']);
    // An older name arriving late changes nothing.
    await c.platform.deliverLiveEvent(
      c.webhookUrl,
      group('assignment_group_updated', 'Labs (old)', '2026-11-03T12:00:00.000Z'),
    );
    expect(await tagsOf42()).toEqual(['Practicals']);
  });

  it('awards the badge from a grade_change of a learner who launched before (token bare or as a JSON string)', async () => {
    const ada = users().ada;
    await launch(c.platform, { courseId: chem().id, sub: ada.sub });
    const answer = await c.platform.deliverLiveEvent(c.webhookUrl, gradeChange(ada.lmsUserId, 9), {
      asJsonString: true,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ stored: 1, duplicates: 0, rejected: [] });
    const event = await models()
      .events.findOne({ platformId: c.id, source: 'canvas', 'user.id': ada.lmsUserId })
      .lean();
    expect(event).toMatchObject({
      type: 'activity.grade.updated',
      course: { id: chem().id },
      data: {
        activityId: '42',
        activityName: 'Lab 3',
        score: 9,
        maxScore: 10,
        percent: 90,
        canvas: { assignmentId: globalId('42'), userId: globalId(ada.lmsUserId) },
      },
    });
    const items = await waitFor('Ada’s credential', async () => {
      const found = await credentialsOf(ada.sub);
      return found.length ? found : null;
    });
    expect(items).toHaveLength(1);
    const people = await models().people.find({ platformId: c.id, ids: ada.lmsUserId }).lean();
    expect(people).toHaveLength(1);
    expect(people[0]!.sub).toBe(ada.sub);
  });

  it('stores a grade for a learner who never launched under the Canvas id; their first launch joins it', async () => {
    const kate = c.platform.addUser({
      name: 'Katherine Johnson',
      email: 'katherine@example.edu',
      roles: { [chem().id]: ['Learner'] },
    });
    expect(await models().people.countDocuments({ platformId: c.id, ids: kate.lmsUserId })).toBe(0);
    const answer = await c.platform.deliverLiveEvent(c.webhookUrl, gradeChange(kate.lmsUserId, 10));
    expect(answer.status).toBe(200);
    expect(answer.body.stored).toBe(1);
    // The event made the person known by the Canvas user id, and the award does not wait for a launch.
    await waitFor('Katherine’s credential', async () => (await credentialsOf(kate.lmsUserId)).length > 0);

    const page = await launch(c.platform, { courseId: chem().id, sub: kate.sub });
    expect(page.status).toBe(200);
    const people = await models()
      .people.find({ platformId: c.id, ids: { $in: [kate.sub, kate.lmsUserId, globalId(kate.lmsUserId)] } })
      .lean();
    expect(people).toHaveLength(1);
    expect(people[0]!.ids).toEqual(
      expect.arrayContaining([kate.sub, kate.lmsUserId, globalId(kate.lmsUserId)]),
    );
    expect(people[0]).toMatchObject({ sub: kate.sub, email: 'katherine@example.edu' });
    const bySub = await credentialsOf(kate.sub);
    expect(bySub).toHaveLength(1);
    const progress = await admin(t, 'GET', `/progress?templateId=${templateId}&userId=${kate.sub}`);
    expect(progress.body.items).toHaveLength(1);
    expect(progress.body.items[0]).toMatchObject({ fulfilled: ['lab3'], ratio: 1 });
  });

  it('takes a submission_updated with a score, its points possible from the assignment events; a muted grade waits', async () => {
    const grace = users().grace;
    const muted = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      gradeChange(grace.lmsUserId, 10, { muted: true }),
    );
    expect(muted.status).toBe(200);
    expect(muted.body).toMatchObject({ stored: 0, ignored: 'grade not posted to the learner yet' });
    const submission = c.platform.liveEvent({
      eventName: 'submission_updated',
      courseId: chem().id,
      actorId: users().instructor.lmsUserId,
      body: {
        submission_id: globalId('9555'),
        assignment_id: globalId('42'),
        user_id: globalId(grace.lmsUserId),
        submitted_at: '2026-11-03T09:00:00Z',
        lti_user_id: 'legacy-grace',
        graded_at: '2026-11-03T10:00:00Z',
        updated_at: '2026-11-03T10:00:00Z',
        score: 8,
        grade: '8',
        submission_type: 'online_upload',
        body: null,
        url: null,
        attempt: 1,
        late: false,
        missing: false,
        lti_assignment_id: '8b81d12c-fda4-4317-8d83-e987a6d2014a',
        group_id: null,
        posted_at: '2026-11-03T10:00:00Z',
        workflow_state: 'graded',
      },
    });
    const answer = await c.platform.deliverLiveEvent(c.webhookUrl, submission);
    expect(answer.status).toBe(200);
    expect(answer.body.stored).toBe(1);
    const event = await models().events.findOne({ platformId: c.id, 'user.id': grace.lmsUserId }).lean();
    // Points possible and name as the last event about the assignment said (the grade_change of Ada's grade).
    expect(event?.data).toMatchObject({
      activityId: '42',
      activityName: 'Lab 3',
      score: 8,
      maxScore: 10,
      percent: 80,
    });
    await waitFor('Grace’s credential', async () => (await credentialsOf(grace.lmsUserId)).length > 0);
  });

  it('joins a learner the roster made known (LTI ids only) through the submission’s lti_user_id', async () => {
    const mary = c.platform.addUser({
      name: 'Mary Jackson',
      email: 'mary@example.edu',
      roles: { [chem().id]: ['Learner'] },
    });
    const legacy = createHash('sha1').update(`lti11-${mary.lmsUserId}`).digest('hex');
    // What the roster sync stores for a Canvas member: the sub and the LTI 1.1 id, no Canvas user id.
    const rostered = await upsertPerson(models(), new Types.ObjectId(c.id), {
      sub: mary.sub,
      otherIds: [legacy],
      name: 'Mary Jackson',
    });
    const answer = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      c.platform.liveEvent({
        eventName: 'submission_updated',
        courseId: chem().id,
        body: {
          submission_id: globalId('9777'),
          assignment_id: globalId('42'),
          user_id: globalId(mary.lmsUserId),
          lti_user_id: legacy,
          score: 10,
          grade: '10',
          posted_at: new Date().toISOString(),
          workflow_state: 'graded',
        },
      }),
    );
    expect(answer.body.stored).toBe(1);
    const people = await models()
      .people.find({ platformId: c.id, ids: { $in: [mary.sub, mary.lmsUserId, legacy] } })
      .lean();
    expect(people.map((p) => String(p._id))).toEqual([String(rostered._id)]);
    expect(people[0]!.ids).toEqual(
      expect.arrayContaining([mary.sub, mary.lmsUserId, globalId(mary.lmsUserId), legacy]),
    );
    await waitFor('Mary’s credential', async () => (await credentialsOf(mary.sub)).length > 0);
  });

  it('maps course_completed, course_progress when complete, course_grade_change and enrollments', async () => {
    const ada = users().ada;
    const progress = (eventName: string, done: number, completedAt: string | null) =>
      c.platform.liveEvent({
        eventName,
        metadata: { job_tag: 'ContextModuleProgression#evaluate!' },
        body: {
          course: { id: chem().id, name: 'Chemistry 101', account_id: '1', sis_source_id: 'CHEM101' },
          user: { id: ada.lmsUserId, name: 'Ada Lovelace', email: 'ada@example.edu' },
          progress: {
            requirement_count: 12,
            requirement_completed_count: done,
            next_requirement_url: null,
            completed_at: completedAt,
          },
        },
      });
    const halfway = await c.platform.deliverLiveEvent(c.webhookUrl, progress('course_progress', 6, null));
    expect(halfway.body).toMatchObject({ stored: 0, ignored: 'course progress, not complete yet' });
    const done = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      progress('course_completed', 12, '2026-11-04T15:05:38Z'),
    );
    expect(done.body).toMatchObject({ stored: 1 });
    // The same completion reported by course_progress too is one event.
    const again = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      progress('course_progress', 12, '2026-11-04T15:05:38Z'),
    );
    expect(again.body).toMatchObject({ stored: 0, duplicates: 1 });
    const completed = await models().events.find({ platformId: c.id, type: 'course.completed' }).lean();
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      course: { id: chem().id, title: 'Chemistry 101' },
      user: { id: ada.lmsUserId, email: 'ada@example.edu', name: 'Ada Lovelace' },
      data: { requirementCount: 12, requirementCompletedCount: 12 },
    });

    const courseGrade = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      c.platform.liveEvent({
        eventName: 'course_grade_change',
        courseId: chem().id,
        body: {
          user_id: ada.lmsUserId,
          course_id: chem().id,
          workflow_state: 'active',
          current_score: 91.5,
          old_current_score: 80,
          final_score: 45,
          old_final_score: 40,
        },
      }),
    );
    expect(courseGrade.body.stored).toBe(1);
    const grade = await models().events.findOne({ platformId: c.id, type: 'course.grade.updated' }).lean();
    expect(grade).toMatchObject({
      user: { id: ada.lmsUserId },
      course: { id: chem().id },
      data: { percent: 91.5 },
    });

    const enrollment = (eventName: string, workflowState: string) =>
      c.platform.liveEvent({
        eventName,
        courseId: chem().id,
        body: {
          enrollment_id: globalId('501'),
          course_id: globalId(chem().id),
          user_id: globalId(users().grace.lmsUserId),
          user_name: 'Grace Hopper',
          type: 'StudentEnrollment',
          created_at: '2026-09-01T00:00:00Z',
          updated_at: '2026-11-05T00:00:00Z',
          limit_privileges_to_course_section: false,
          course_section_id: globalId('77'),
          workflow_state: workflowState,
        },
      });
    expect(
      (await c.platform.deliverLiveEvent(c.webhookUrl, enrollment('enrollment_created', 'active'))).body
        .stored,
    ).toBe(1);
    expect(
      (await c.platform.deliverLiveEvent(c.webhookUrl, enrollment('enrollment_updated', 'invited'))).body,
    ).toMatchObject({
      stored: 0,
      ignored: 'enrollment invited',
    });
    expect(
      (await c.platform.deliverLiveEvent(c.webhookUrl, enrollment('enrollment_updated', 'deleted'))).body
        .stored,
    ).toBe(1);
    const enrolments = await models()
      .events.find({ platformId: c.id, type: { $in: ['enrollment.created', 'enrollment.deleted'] } })
      .sort({ type: 1 })
      .lean();
    expect(enrolments.map((e) => [e.type, e.user.id, e.course?.id, e.data.role])).toEqual([
      ['enrollment.created', users().grace.lmsUserId, chem().id, 'StudentEnrollment'],
      ['enrollment.deleted', users().grace.lmsUserId, chem().id, 'StudentEnrollment'],
    ]);

    const other = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      c.platform.liveEvent({
        eventName: 'wiki_page_created',
        body: { wiki_page_id: globalId('3'), title: 'Hi' },
      }),
    );
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({
      stored: 0,
      ignored: 'event type wiki_page_created is not used by Laurel',
    });
  });

  it('refuses unsigned, forged, expired and future-dated messages, other platforms and other schools with 401, storing nothing', async () => {
    const before = await counts();
    const envelope = gradeChange(users().grace.lmsUserId, 7);
    // Unsigned: the envelope as plain JSON ("Sign Payload" off).
    const unsigned = await fetch(c.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(envelope),
    });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { message: string }).message).toContain('Sign Payload');
    // Forged: signed with another key under the key set's kid; and a kid the key set does not have.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await c.platform.deliverLiveEvent(c.webhookUrl, envelope, { forgeWith: privateKey });
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe('unauthorised');
    const unknownKid = await c.platform.deliverLiveEvent(c.webhookUrl, envelope, {
      forgeWith: privateKey,
      kid: 'not-a-kid-of-this-set',
    });
    expect(unknownKid.status).toBe(401);
    expect(unknownKid.body.message).toBe(forged.body.message);
    // Expired (beyond the minute of clock skew), and issued in the future.
    const now = Math.floor(Date.now() / 1000);
    const expired = await c.platform.deliverLiveEvent(c.webhookUrl, envelope, {
      iat: now - 900,
      exp: now - 120,
    });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toMatch(/expired/);
    const future = await c.platform.deliverLiveEvent(c.webhookUrl, envelope, { iat: now + 300 });
    expect(future.status).toBe(401);
    expect(future.body.message).toMatch(/future/);
    // A well-signed event for an unknown platform id, or a platform that is not this Canvas.
    const token = c.platform.signLiveEvent(envelope);
    const nowhere = await c.platform.deliverLiveEvent(
      `${t.url}/api/v1/webhooks/canvas/000000000000000000000000`,
      token,
    );
    expect(nowhere.status).toBe(401);
    const junkId = await c.platform.deliverLiveEvent(`${t.url}/api/v1/webhooks/canvas/nope`, token);
    expect(junkId.status).toBe(401);
    // Another school's Canvas signs with the same (Instructure's) keys: its root account is refused.
    const otherSchool = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      c.platform.liveEvent({
        eventName: 'grade_change',
        courseId: chem().id,
        metadata: { root_account_lti_guid: 'someone-else:canvas-lms' },
        body: gradeChangeBody({
          assignmentId: '42',
          assignmentName: 'Lab 3',
          userId: '555',
          score: 10,
          pointsPossible: 10,
        }),
      }),
    );
    expect(otherSchool.status).toBe(401);
    expect(otherSchool.body.message).toMatch(/root account/);
    expect(await counts()).toEqual(before);
    // Within the minute of skew, the same event is fine.
    const late = await c.platform.deliverLiveEvent(c.webhookUrl, envelope, { iat: now - 600, exp: now - 30 });
    expect(late.status).toBe(200);
  });

  it('refuses a replayed token with 401 and stores it once; the same event in a new token is a duplicate', async () => {
    const envelope = gradeChange(users().instructor.lmsUserId, 3);
    const token = c.platform.signLiveEvent(envelope);
    const first = await c.platform.deliverLiveEvent(c.webhookUrl, token);
    expect(first.status).toBe(200);
    expect(first.body.stored).toBe(1);
    const replay = await c.platform.deliverLiveEvent(c.webhookUrl, token);
    expect(replay.status).toBe(401);
    expect(replay.body.message).toMatch(/replay/);
    // A token without jti is recognised by its hash.
    const bare = c.platform.signLiveEvent(gradeChange(users().instructor.lmsUserId, 4), {
      jti: null,
      exp: null,
    });
    expect((await c.platform.deliverLiveEvent(c.webhookUrl, bare)).status).toBe(200);
    expect((await c.platform.deliverLiveEvent(c.webhookUrl, bare)).status).toBe(401);
    // Canvas re-signing the same event (a retry, or a second subscription): stored once, answered 200.
    const resent = await c.platform.deliverLiveEvent(c.webhookUrl, envelope);
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ stored: 0, duplicates: 1 });
    expect(
      await models().events.countDocuments({ platformId: c.id, 'user.id': users().instructor.lmsUserId }),
    ).toBe(2);
    const receipts = await models().liveEventReceipts.find({ platformId: c.id }).lean();
    expect(receipts.every((r) => r.expiresAt.getTime() > Date.now())).toBe(true);
  });

  it('fetches the key set again for a kid it does not know (monthly rotation)', async () => {
    await new Promise((r) => setTimeout(r, 2100)); // the refresh cooldown since the last fetch
    c.platform.rotateLiveEventKeys();
    const answer = await c.platform.deliverLiveEvent(
      c.webhookUrl,
      c.platform.liveEvent({ eventName: 'wiki_page_created', body: { wiki_page_id: globalId('4') } }),
    );
    expect(answer.status).toBe(200);
  });
});
