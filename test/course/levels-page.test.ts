import type { TestLaurel } from '../support/laurel.js';
import { admin, event, sendEvents, settled } from '../support/api.js';
import { decodeEntities, launch, type TestPlatform } from '../support/lms-platform/index.js';
import {
  follow,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

/** Issue 22: the learner page shows a badge's levels as a ladder with where the learner stands. */
describe('the learner page of a badge with levels', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let adaPage: string;
  let id: string;

  const chem = () => p.demo!.courses.chemistry.id;
  const ada = () => p.demo!.users.ada;
  const finalExam = async (percent: number, minute: number) => {
    const answer = await sendEvents(
      t,
      moodle.webhookSecret,
      event(moodle.id, {
        course: { id: chem() },
        user: { id: ada().sub },
        occurredAt: new Date(Date.UTC(2026, 10, 2, 10, minute)).toISOString(),
        data: { activityId: 'final-exam', activityName: 'Final exam', percent },
      }),
    );
    expect(answer.status).toBe(200);
    await settled(t);
  };
  const card = async () => {
    const page = decodeEntities((await follow(t, adaPage)).body);
    const from = page.indexOf(`data-badge="${id}"`);
    expect(from).toBeGreaterThan(0);
    const next = page.indexOf('data-badge="', from + 1);
    return page.slice(from, next > 0 ? next : undefined).replace(/\s+/g, ' ');
  };

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    const created = await admin(t, 'POST', '/templates', {
      platformId: moodle.id,
      courseId: chem(),
      name: 'Exam medal',
      levels: {
        activityId: 'final-exam',
        steps: [
          { name: 'Bronze', min: 60 },
          { name: 'Silver', min: 75 },
          { name: 'Gold', min: 90 },
        ],
      },
      regrade: { policy: 'revoke', graceDays: 3 },
    });
    expect(created.status).toBe(201);
    id = created.body.id;
    expect((await admin(t, 'POST', `/templates/${id}/activate`)).status).toBe(200);
    adaPage = (await launch(p, { courseId: chem(), sub: ada().sub })).url;
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  it('before any grade: how to earn it, the ladder with the first level next, and what a regrade does', async () => {
    const html = await card();
    expect(html).toContain('Earn this badge by scoring 60% or more on an activity of this course.');
    expect(html).toMatch(
      /<li class="rung"><img class="rung-image" src="\/images\/default\/[0-9a-f]{24}\.svg" alt="" width="32" height="32"> <span class="rung-name">Gold<\/span> <span class="rung-min">90%<\/span> <span class="rung-state">not reached yet<\/span><\/li>/,
    );
    expect(html).toMatch(
      /<li class="rung rung-next"><img [^>]+> <span class="rung-name">Bronze<\/span>.*?next to reach/,
    );
    expect(html).toContain(
      'If a grade that counts is lowered below what is needed, your badge is revoked after 3 days unless the grade comes back; you can earn it again.',
    );
  });

  it('at silver: earned silver, the ladder marks silver as hers, bronze reached and gold next', async () => {
    await finalExam(80, 1);
    const html = await card();
    expect(html).toMatch(/Earned Silver on \d{4}-\d{2}-\d{2}\./);
    expect(html).toContain(
      'Levels by your score on Final exam: Bronze at 60% or more, Silver at 75% or more, Gold at 90% or more.',
    );
    expect(html).toContain('Your score: <strong>80%</strong>');
    const order = [
      ...html.matchAll(
        /<li class="([^"]+)"[^>]*><img [^>]+> <span class="rung-name">(\w+)<\/span>.*?<span class="rung-state">([^<]+)</g,
      ),
    ].map((m) => [m[2], m[1], m[3]]);
    expect(order).toEqual([
      ['Gold', 'rung rung-next', 'next to reach'],
      ['Silver', 'rung rung-held', 'your level'],
      ['Bronze', 'rung rung-reached', 'reached'],
    ]);
    expect(html).toMatch(/<li class="rung rung-held" aria-current="true">/);
  });

  it('at gold: gold is hers; the superseded silver is not shown as lost or revoked', async () => {
    await finalExam(94, 2);
    const html = await card();
    expect(html).toMatch(/Earned Gold on /);
    expect(html).toMatch(/<span class="rung-name">Gold<\/span>.*?your level/);
    expect(html).not.toContain('Revoked');
    expect(html).not.toContain('next to reach');
  });
});
