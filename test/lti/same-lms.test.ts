import { Types } from 'mongoose';
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch, startTestPlatform, type Flavour, type TestPlatform } from '../support/lms-platform/index.js';
import { follow, startLaurelForLti } from './helpers.js';

/**
 * Issue 19, item 5: one LMS registered twice (manually, then by dynamic registration: two client ids
 * under one issuer) keeps one Laurel course per LMS course, whichever registration launched it; two
 * different LMSs never share a course or a person.
 */
describe('one LMS registered twice', () => {
  let t: TestLaurel;
  const platforms: TestPlatform[] = [];

  beforeAll(async () => {
    t = await startLaurelForLti();
  });
  afterAll(async () => {
    await Promise.all(platforms.map((p) => p.close()));
    await t?.stop();
  });

  async function lms(flavour: Flavour) {
    const p = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour,
      host: '127.0.0.1',
      seedDemo: true,
    });
    platforms.push(p);
    return p;
  }

  async function registerTwice(p: TestPlatform) {
    const manual = await admin(t, 'POST', '/platforms', p.registrationInfo());
    expect(manual.status).toBe(201);
    const link = await admin(t, 'POST', '/registration-links', { name: 'Again' });
    const res = await follow(t, p.registrationStartUrl({ registrationUrl: link.body.url }));
    expect(res.status).toBe(200);
    const registration = p.registrations.at(-1)!;
    const dynamic = await t.laurel.ctx.models.platforms
      .findOne({ issuer: p.issuer, clientId: registration.clientId })
      .lean();
    return {
      manualId: manual.body.id as string,
      dynamicId: String(dynamic!._id),
      registration,
      page: res.body,
    };
  }

  const instructorLaunch = (p: TestPlatform, clientId: string) =>
    launch(p, { clientId, courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.instructor.sub });

  it('keeps one course and one person for a Moodle registered manually and dynamically', async () => {
    const p = await lms('moodle');
    const { manualId, dynamicId, registration, page } = await registerTwice(p);
    expect((await admin(t, 'GET', `/platforms/${dynamicId}`)).body.sameLmsAs).toBe(manualId);
    expect((await admin(t, 'GET', `/platforms/${manualId}`)).body.sameLmsAs).toBeNull();
    expect(page).toContain(`platform <code>${manualId}</code>`);
    // Moodle's registration leaves Laurel out of the activity chooser: the page says how to fix it.
    expect(page).toContain('Show in activity chooser and as a preconfigured tool');

    const viaManual = await instructorLaunch(p, p.clientId);
    expect(new URL(viaManual.url).pathname).toBe('/course/instructor');
    const viaDynamic = await instructorLaunch(p, registration.clientId);
    expect(new URL(viaDynamic.url).pathname).toBe('/course/instructor');
    expect(viaDynamic.body).toContain('Chemistry 101');

    const ids = [new Types.ObjectId(manualId), new Types.ObjectId(dynamicId)];
    const courses = await t.laurel.ctx.models.courses
      .find({ platformId: { $in: ids }, ids: p.demo!.courses.chemistry.id })
      .lean();
    expect(courses).toHaveLength(1);
    expect(String(courses[0]!.platformId)).toBe(manualId);
    const people = await t.laurel.ctx.models.people
      .find({ platformId: { $in: ids }, ids: p.demo!.users.instructor.sub })
      .lean();
    expect(people).toHaveLength(1);
  });

  it('never joins two different LMSs, nor Canvas registrations that only share the Canvas Cloud issuer', async () => {
    const a = await lms('moodle');
    const b = await lms('moodle');
    const ra = await admin(t, 'POST', '/platforms', a.registrationInfo());
    const rb = await admin(t, 'POST', '/platforms', b.registrationInfo());
    expect(rb.body.sameLmsAs).toBeNull();
    await instructorLaunch(a, a.clientId);
    await instructorLaunch(b, b.clientId);
    const [ca, cb] = await Promise.all(
      [ra, rb].map((r) =>
        t.laurel.ctx.models.courses.countDocuments({ platformId: new Types.ObjectId(r.body.id as string) }),
      ),
    );
    expect([ca, cb]).toEqual([1, 1]);

    // Canvas: one issuer may be many schools; an administrator joins two registrations explicitly.
    const c = await lms('canvas');
    const { manualId, dynamicId, registration } = await registerTwice(c);
    expect((await admin(t, 'GET', `/platforms/${dynamicId}`)).body.sameLmsAs).toBeNull();
    const refused = await admin(t, 'PATCH', `/platforms/${dynamicId}/settings`, { sameLmsAs: ra.body.id });
    expect(refused.status).toBe(409);
    const joined = await admin(t, 'PATCH', `/platforms/${dynamicId}/settings`, { sameLmsAs: manualId });
    expect(joined.status).toBe(200);
    expect(joined.body.sameLmsAs).toBe(manualId);
    await instructorLaunch(c, c.clientId);
    await instructorLaunch(c, registration.clientId);
    const courses = await t.laurel.ctx.models.courses
      .find({ platformId: { $in: [new Types.ObjectId(manualId), new Types.ObjectId(dynamicId)] } })
      .lean();
    expect(courses).toHaveLength(1);
  });
});
