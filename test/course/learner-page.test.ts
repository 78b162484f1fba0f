import type { TestLaurel } from '../support/laurel.js';
import { admin, event, sendEvents, settled } from '../support/api.js';
import { decodeEntities, launch, type TestPlatform } from '../support/lms-platform/index.js';
import {
  follow,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

type Status = {
  version: string;
  badges: { id: string; name: string; percent: number; earned: boolean; revoked: boolean }[];
};

/**
 * The learner's page over HTTP: the rule in a learner's words with alternatives as alternatives, the
 * learner's best result beside each condition, the small JSON answer its script polls (scoped to the
 * launch), a withdrawn badge still shown to its holder, and a revoked award shown as revoked.
 */
describe('the learner page', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let adaPage: string;
  const ids: Record<string, string> = {};

  const chem = () => p.demo!.courses.chemistry.id;
  const ada = () => p.demo!.users.ada;
  const send = async (over: Record<string, unknown>, sub = ada().sub) => {
    const answer = await sendEvents(
      t,
      moodle.webhookSecret,
      event(moodle.id, { course: { id: chem() }, user: { id: sub }, ...over }),
    );
    expect(answer.status).toBe(200);
    await settled(t);
  };
  /** One badge's card of the learner page: from its element to the next card. */
  const cardOf = (page: string, id: string) => {
    const from = page.indexOf(`data-badge="${id}"`);
    expect(from).toBeGreaterThan(0);
    const next = page.indexOf('data-badge="', from + 1);
    return page.slice(from, next > 0 ? next : undefined);
  };
  const statusOf = async (pageUrl: string) => {
    const ltik = new URL(pageUrl).searchParams.get('ltik')!;
    const res = await fetch(`${t.url}/course/learner/status?ltik=${encodeURIComponent(ltik)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return (await res.json()) as Status;
  };
  async function badge(name: string, groups: unknown[]) {
    const created = await admin(t, 'POST', '/templates', {
      platformId: moodle.id,
      courseId: chem(),
      name,
      groups,
    });
    expect(created.status).toBe(201);
    expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    return created.body.id as string;
  }

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    ids.star = await badge('Lab star', [
      {
        requirements: [
          {
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
              { path: 'data.percent', op: 'gte', value: 80 },
            ],
          },
        ],
      },
      {
        requirements: [
          { event: 'course.completed', rules: [] },
          {
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: 'final' },
              { path: 'data.percent', op: 'gte', value: 70 },
            ],
          },
        ],
      },
    ]);
    ids.finisher = await badge('Finisher', [{ requirements: [{ event: 'course.completed', rules: [] }] }]);
    adaPage = (await launch(p, { courseId: chem(), sub: ada().sub })).url;
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  it('says how to earn each badge in a learner’s words, with the best result beside each condition', async () => {
    await send({ data: { activityId: 'quiz-3', activityName: 'Quiz 3', score: 79, maxScore: 100 } });
    await send({ data: { activityId: 'quiz-3', activityName: 'Quiz 3', score: 64, maxScore: 100 } });
    const page = decodeEntities((await follow(t, adaPage)).body);
    expect(page).toContain(
      'Earn this badge by: scoring 80% or more on Quiz 3, and either completing the course or scoring 70% or more on an activity of this course',
    );
    expect(page).not.toMatch(/ AND | OR |≥|“quiz-3”/);
    // The best of her two results, not the last one.
    expect(page).toContain(
      'Still to do:</span> Scoring 80% or more on Quiz 3 <span class="best">(your best: 79%, needs 80%)</span>',
    );
    expect(page).toContain('Any one of these:');
    expect(page).toMatch(/<progress max="100" value="0" aria-label="Your progress on Lab star"/);
  });

  it('answers the page’s poll with a version that moves with progress, scoped to the launch', async () => {
    const before = await statusOf(adaPage);
    expect(before.badges.find((b) => b.id === ids.star)).toEqual({
      id: ids.star,
      name: 'Lab star',
      percent: 0,
      earned: false,
      revoked: false,
    });
    // The page carries the version the poll answers, and where to poll.
    const page = (await follow(t, adaPage)).body;
    expect(page).toContain(`data-version="${before.version}"`);
    expect(decodeEntities(page)).toMatch(/data-status="\/course\/learner\/status\?ltik=[^"]+"/);

    const unchanged = await statusOf(adaPage);
    expect(unchanged.version).toBe(before.version);
    // A result that meets nothing still moves the version: the page shows the new best beside its condition.
    await send({ data: { activityId: 'final', score: 5, maxScore: 10 } });
    const best = await statusOf(adaPage);
    expect(best.version).not.toBe(before.version);
    expect(best.badges.find((b) => b.id === ids.star)!.percent).toBe(0);
    expect(decodeEntities((await follow(t, adaPage)).body)).toContain('(your best: 50%, needs 70%)');
    await send({ data: { activityId: 'quiz-3', activityName: 'Quiz 3', score: 85, maxScore: 100 } });
    const after = await statusOf(adaPage);
    expect(after.version).not.toBe(best.version);
    expect(after.version).not.toBe(before.version);
    expect(after.badges.find((b) => b.id === ids.star)!.percent).toBe(50);

    // Another course's launch of the same person reads its own course, never this one's badges.
    const history = await launch(p, { courseId: p.demo!.courses.history.id, sub: ada().sub });
    const other = await statusOf(history.url);
    expect(other.badges).toEqual([]);
    // Without a launch: no answer.
    const bare = await fetch(`${t.url}/course/learner/status`);
    expect(bare.status).toBeGreaterThanOrEqual(400);
    expect(await bare.text()).not.toContain('Lab star');
  });

  it('shows an earned badge with its met alternative done and the other as not needed', async () => {
    await send({ type: 'course.completed', data: {} });
    const page = decodeEntities((await follow(t, adaPage)).body);
    const star = cardOf(page, ids.star!);
    expect(star).toContain('Earned on');
    expect(star).toContain('Done:</span> Completing the course');
    expect(star).toContain(
      'Not needed:</span> Scoring 70% or more on an activity of this course <span class="best">(your best: 50%)</span>',
    );
    expect(star).toContain(
      'Done:</span> Scoring 80% or more on Quiz 3 <span class="best">(your best: 85%)</span>',
    );
    expect(star).not.toContain('Still to do:');
    expect((await statusOf(adaPage)).badges.find((b) => b.id === ids.star)!.earned).toBe(true);
  });

  it('keeps a withdrawn badge visible, as earned, to its holder only', async () => {
    expect((await admin(t, 'POST', `/templates/${ids.star}/withdraw`)).status).toBe(200);
    const page = decodeEntities((await follow(t, adaPage)).body);
    expect(page).toContain('Lab star');
    expect(page).toContain('Your instructor no longer awards this badge; yours stays valid.');
    expect(page).toMatch(/<progress max="100" value="100" aria-label="Your progress on Lab star"/);
    // Grace never earned it: she no longer sees it.
    const grace = await launch(p, { courseId: chem(), sub: p.demo!.users.grace.sub });
    expect(grace.body).not.toContain('Lab star');
    expect(grace.body).toContain('Finisher');
  });

  it('shows a revoked award as revoked, with the reason', async () => {
    const list = await admin(t, 'GET', `/credentials?templateId=${ids.finisher}`);
    expect(list.body.items).toHaveLength(1);
    const revoked = await admin(t, 'POST', `/credentials/${list.body.items[0].id}/revoke`, {
      reason: 'Completion was recorded by mistake',
    });
    expect(revoked.status).toBe(200);
    const page = decodeEntities((await follow(t, adaPage)).body);
    const card = cardOf(page, ids.finisher!);
    expect(page).toContain(`<li class="badge-card revoked" data-badge="${ids.finisher}">`);
    expect(card).toMatch(
      /<strong>Revoked on \d{4}-\d{2}-\d{2}\.<\/strong> Reason: Completion was recorded by mistake/,
    );
    expect(card).not.toContain('Earned on');
    const status = await statusOf(adaPage);
    expect(status.badges.find((b) => b.id === ids.finisher)).toMatchObject({ earned: false, revoked: true });
  });

  it('shows a group of "any N" as N of M with how many are done', async () => {
    const lab = (n: number) => ({
      event: 'activity.completed',
      rules: [{ path: 'data.activityId', op: 'eq', value: `lab-${n}` }],
    });
    const id = await badge('Lab regular', [{ requirements: [lab(1), lab(2), lab(3)], atLeast: 2 }]);
    await send({ type: 'activity.completed', data: { activityId: 'lab-2', activityName: 'Lab 2' } });
    const card = decodeEntities(cardOf((await follow(t, adaPage)).body, id));
    expect(card).toContain('Any 2 of these (1 of 2 done):');
    expect(card).toMatch(/Earn this badge by: any 2 of completing [^<]*, completing Lab 2 and completing/);
    expect(card).toMatch(/<progress max="100" value="50" aria-label="Your progress on Lab regular"/);
  });
});
