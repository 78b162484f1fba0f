import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch, ROLE, type TestPlatform } from '../support/lms-platform/index.js';
import {
  expectHumanPage,
  follow,
  linksOf,
  ltikOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from './helpers.js';

describe('LTI launches through the whole OIDC exchange', () => {
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

  const demo = (p: TestPlatform) => p.demo!;

  for (const flavour of ['moodle', 'canvas'] as const) {
    describe(flavour, () => {
      const platform = () => (flavour === 'moodle' ? moodle : canvas).platform;

      it('takes an instructor to the instructor page of the course, with the ltik in its links', async () => {
        const p = platform();
        const page = await launch(p, {
          courseId: demo(p).courses.chemistry.id,
          sub: demo(p).users.instructor.sub,
        });
        expect(page.status).toBe(200);
        expect(new URL(page.url).pathname).toBe('/course/instructor');
        expect(page.body).toContain('Badges in Chemistry 101');
        expect(page.body).toContain('No badges yet');
        const ltik = ltikOf(page.url);
        expect(ltik).toBeTruthy();
        const links = linksOf(page.body).filter((l) => l.startsWith('/course'));
        expect(links.length).toBeGreaterThan(0);
        for (const link of links) expect(ltikOf(link)).toBe(ltik);
        // Inside the iframe the session cookie is never needed: ltijs set none, and the state cookie is gone.
        expect(page.cookies.filter((c) => c.name.startsWith('lti'))).toEqual([]);
      });

      it('takes a learner to the learner page, and a click inside the tool keeps working', async () => {
        const p = platform();
        const page = await launch(p, { courseId: demo(p).courses.history.id, sub: demo(p).users.ada.sub });
        expect(page.status).toBe(200);
        expect(new URL(page.url).pathname).toBe('/course/learner');
        expect(page.body).toContain('Badges you can earn in World History');
        expect(page.body).not.toContain('Learner view');
        const again = await follow(
          t,
          linksOf(page.body).find((l) => l.startsWith('/course/learner'))!,
        );
        expect(again.status).toBe(200);
        expect(again.body).toContain('World History');
      });
    });
  }

  it("lists the course's badges with their state to instructors, and the active ones to learners", async () => {
    const p = moodle.platform;
    const history = demo(p).courses.history;
    const groups = [
      {
        requirements: [
          { event: 'course.completed', rules: [{ path: 'type', op: 'eq', value: 'course.completed' }] },
        ],
      },
    ];
    const make = async (name: string, courseId?: string) => {
      const res = await admin(t, 'POST', '/templates', {
        platformId: moodle.id,
        ...(courseId ? { courseId } : {}),
        name,
        criteria: `Earn ${name}.`,
        groups,
      });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const active = await make('Historian', history.id);
    await make('Archivist', history.id);
    await make('Good citizen');
    expect((await admin(t, 'POST', `/templates/${active}/activate`)).status).toBe(200);

    const staff = await launch(p, { courseId: history.id, sub: demo(p).users.instructor.sub });
    expect(staff.body).toContain('Badges in World History');
    expect(staff.body).not.toContain('No badges yet');
    // Each badge with its state, whatever the layout the course pages give them.
    expect(staff.body).toMatch(/Historian<[\s\S]{0,200}?class="state state-active">Active/);
    expect(staff.body).toMatch(/Archivist<[\s\S]{0,200}?class="state state-draft">Draft/);
    expect(staff.body).toMatch(/Good citizen<[\s\S]{0,200}?every course/i);

    const learner = await launch(p, { courseId: history.id, sub: demo(p).users.ada.sub });
    expect(learner.body).toContain('Historian');
    expect(learner.body).toContain('Earn Historian.');
    expect(learner.body).not.toContain('Archivist');
    expect(learner.body).not.toContain('Good citizen');
  });

  it('refuses a learner who reaches an instructor URL with 403, saying nothing about the course', async () => {
    const p = moodle.platform;
    const page = await launch(p, { courseId: demo(p).courses.chemistry.id, sub: demo(p).users.grace.sub });
    const ltik = ltikOf(page.url)!;
    for (const path of ['/course/instructor', '/course/admin', '/course/deep-link']) {
      const res = await follow(t, `${path}?ltik=${encodeURIComponent(ltik)}`);
      expect(res.status).toBe(403);
      expectHumanPage(res.body);
      expect(res.body).not.toContain('Chemistry');
    }
  });

  it('routes administrators to the admin page and other roles to the learner page', async () => {
    const p = canvas.platform;
    const courseId = demo(p).courses.chemistry.id;
    const sub = demo(p).users.grace.sub;
    const admin = await launch(p, {
      courseId,
      sub,
      roles: [`${ROLE.INSTITUTION}Administrator`, `${ROLE.SYSTEM}User`],
    });
    expect(new URL(admin.url).pathname).toBe('/course/admin');
    expect(admin.body).toContain(`Laurel for ${p.name}`);
    const mentor = await launch(p, { courseId, sub, roles: [`${ROLE.MEMBERSHIP}Mentor`] });
    expect(new URL(mentor.url).pathname).toBe('/course/learner');
    const ta = await launch(p, {
      courseId,
      sub,
      roles: [ROLE.TEACHING_ASSISTANT, `${ROLE.INSTITUTION}Student`],
    });
    expect(new URL(ta.url).pathname).toBe('/course/instructor');
    // A teacher elsewhere who studies here: the institution role does not make them this course's instructor.
    const student = await launch(p, {
      courseId,
      sub,
      roles: [`${ROLE.INSTITUTION}Instructor`, `${ROLE.MEMBERSHIP}Learner`],
    });
    expect(new URL(student.url).pathname).toBe('/course/learner');
  });

  it('refuses a course page without a launch, or with a forged ltik', async () => {
    const none = await follow(t, '/course/instructor');
    expect(none.status).toBe(401);
    expectHumanPage(none.body);
    const forged = await follow(t, '/course/instructor?ltik=eyJhbGciOiJIUzI1NiJ9.e30.x');
    expect(forged.status).toBe(401);
    expectHumanPage(forged.body);
  });
});
