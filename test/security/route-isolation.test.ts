/**
 * Who may use which route, for every route of the app. The routes are read from the routers
 * themselves (test/support/routes.ts), so a route added later is either covered by an access class
 * below or fails the first test until someone says who may use it.
 */
import { jest } from '@jest/globals';
import { event, sendEvents, settled } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { listRoutes, type AppRoute } from '../support/routes.js';
import { launch, type TestPlatform } from '../support/lms-platform/index.js';
import {
  ltikOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';
import { activeTemplate, awardIssued } from '../backpack/helpers.js';

type Access =
  /** Anyone; answers carry nothing of a person or a course (health, home page, keys, plugin, OpenAPI). */
  | 'open'
  /** Anyone who has the id: credentials, issuers, achievements, status lists, shared collections. */
  | 'public-document'
  /** The admin API: the admin key in a Bearer header. */
  | 'admin-api'
  /** LMS feeds: signed with the platform's webhook secret (or the service's signature). */
  | 'signed-feed'
  /** LTI protocol endpoints, which check the LMS's signed messages themselves (tested in test/lti). */
  | 'lti-protocol'
  /** Course pages of any launch (learner, instructor or administrator). */
  | 'course-launch'
  /** Course pages for instructors (and the LMS administrator). */
  | 'course-staff'
  /** The LMS administrator's pages inside the LMS. */
  | 'course-admin'
  /** Laurel's own /admin page: the admin key's session. */
  | 'admin-page'
  /** How a learner gets into the backpack: an e-mailed or launch link, the sign-in form, unsubscribing. */
  | 'backpack-entry'
  /** The learner's backpack: the backpack session. */
  | 'backpack-session';

/** First match wins. */
const POLICY: [RegExp, Access][] = [
  [/^(GET|HEAD) \/(healthz|readyz|public\.css)?$/, 'open'],
  [/^GET \/api\/v1\/openapi\.json$/, 'open'],
  [/^GET \/lti\/(keys|canvas\.json|moodle\/local_laurel\.zip)$/, 'open'],
  [/^GET \/images\/default\/:file$/, 'open'],
  [/^\w+ \/lti\/(login|launch|register)$/, 'lti-protocol'],
  [/^POST \/api\/v1\/(events|webhooks\/\w+\/:platformId)$/, 'signed-feed'],
  [/^\w+ \/api\/v1\//, 'admin-api'],
  [/^GET \/(credentials|issuers|achievements|status-lists|images|ob2\/\w+)\/:id(\/.*)?$/, 'public-document'],
  [/^GET \/backpack\/(shared\/:shareId(\/embed)?|embed\/:id)$/, 'public-document'],
  [/^GET \/backpack\/records\/:shareId(\/clr\.json)?$/, 'public-document'],
  [/^GET \/pathways\/shared\/:shareId$/, 'public-document'],
  [/^\w+ \/course\/admin(\/.*)?$/, 'course-admin'],
  [/^\w+ \/course\/(instructor|deep-link)(\/.*)?$/, 'course-staff'],
  [/^GET \/course$/, 'course-launch'],
  [/^\w+ \/course\/learner(\/.*)?$/, 'course-launch'],
  [/^\w+ \/admin(\/.*)?$/, 'admin-page'],
  [/^\w+ \/backpack\/(enter|sign-in(\/:token)?|unsubscribe)$/, 'backpack-entry'],
  [/^\w+ \/backpack(\/.*)?$/, 'backpack-session'],
];

const accessOf = (r: AppRoute): Access | undefined =>
  POLICY.find(([pattern]) => pattern.test(`${r.method} ${r.path}`))?.[1];

type Who = { name: string; ltik: string; csrf?: string };

// Many launches and a request per route and identity: generous on a busy machine.
jest.setTimeout(180_000);

describe('every route and who may use it', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let canvas: RegisteredPlatform;
  let p: TestPlatform;
  let routes: AppRoute[];
  let badgeA: string;
  let credentialA: string;
  let learnerA: Who;
  let instructorB: Who;
  let instructorA: Who;
  let canvasAdmin: Who;
  const badgeName = 'Isolation Badge Of Chemistry';

  /** A course page's ltik and, for staff, the CSRF token its forms carry (from the badge form). */
  async function launchAs(platform: TestPlatform, courseId: string, sub: string, name: string): Promise<Who> {
    const page = await launch(platform, { courseId, sub });
    const ltik = ltikOf(page.url);
    if (!ltik) throw new Error(`${name}'s launch gave no ltik (${page.url})`);
    const form = await fetch(`${t.url}/course/instructor/badges/new?ltik=${encodeURIComponent(ltik)}`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1];
    return { name, ltik, ...(csrf ? { csrf } : {}) };
  }

  /** Fills a route's parameters with the ids of course A's objects (chemistry, on the Moodle-like LMS). */
  function pathFor(r: AppRoute): string {
    const values: Record<string, string> = {
      id: r.path.startsWith('/api/v1/platforms')
        ? moodle.id
        : r.path.includes('/badges/')
          ? badgeA
          : credentialA,
      cid: credentialA,
      platformId: moodle.id,
      deploymentId: '1',
      name: 'credly',
      action: 'sync',
      kind: 'credential',
      itemId: credentialA,
      index: '0',
      token: 'x'.repeat(40),
      shareId: 'x'.repeat(24),
      file: 'badge.svg',
    };
    return r.path.replace(/:(\w+)/g, (_m, key: string) => values[key] ?? 'unknown');
  }

  async function call(
    r: AppRoute,
    options: { ltik?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; body: string }> {
    const url = new URL(pathFor(r), t.url);
    if (options.ltik) url.searchParams.set('ltik', options.ltik);
    const method = r.method === 'ALL' ? 'GET' : r.method;
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { accept: 'text/html', ...options.headers },
      ...(method === 'GET' || method === 'HEAD'
        ? {}
        : {
            body: options.body ?? '',
            headers: {
              accept: 'text/html',
              'content-type': 'application/x-www-form-urlencoded',
              ...options.headers,
            },
          }),
    });
    return { status: res.status, body: await res.text() };
  }

  /** What course A's badge and credentials look like, to prove a refused request changed nothing. */
  async function snapshotOfA() {
    const m = t.laurel.ctx.models;
    const [template, credentials, platform] = await Promise.all([
      m.templates.findById(badgeA).lean(),
      m.credentials.find({ templateId: badgeA }).sort({ _id: 1 }).lean(),
      m.platforms.findById(moodle.id).lean(),
    ]);
    return JSON.stringify({ template, credentials, platform });
  }

  const routesOf = (access: Access) => routes.filter((r) => accessOf(r) === access);

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    canvas = await startRegisteredPlatform(t, 'canvas');
    p = moodle.platform;
    const chemistry = p.demo!.courses.chemistry.id;
    const history = p.demo!.courses.history.id;
    const bea = p.addUser({ name: 'Bea Bystander', email: 'bea@example.edu' });
    p.enrol(history, bea.sub, ['Instructor']);
    learnerA = await launchAs(p, chemistry, p.demo!.users.ada.sub, 'a learner of course A');
    instructorA = await launchAs(p, chemistry, p.demo!.users.instructor.sub, 'the instructor of course A');
    instructorB = await launchAs(p, history, bea.sub, 'an instructor of course B only');
    // Without a CSRF token course B's instructor would be refused by the CSRF check, not by scoping.
    expect(instructorB.csrf).toBeDefined();
    const cp = canvas.platform;
    const root = cp.addUser({ name: 'Root Of Canvas', admin: true });
    canvasAdmin = await launchAs(
      cp,
      cp.demo!.courses.chemistry.id,
      root.sub,
      "another platform's administrator",
    );
    badgeA = await activeTemplate(t, moodle, badgeName);
    credentialA = await awardIssued(t, badgeA, p.demo!.users.ada.sub);
    await sendEvents(
      t,
      moodle.webhookSecret,
      event(moodle.id, { course: { id: chemistry }, user: { id: p.demo!.users.ada.sub } }),
    );
    await settled(t);
    const app = t.laurel.app as unknown as { router: { stack: never[] } };
    const ltijsApp = (t.laurel.lti.provider as unknown as { app: { _router: { stack: never[] } } }).app;
    routes = [...listRoutes(app.router.stack), ...listRoutes(ltijsApp._router.stack, '/lti')];
  });
  afterAll(async () => {
    await moodle?.platform.close();
    await canvas?.platform.close();
    await t?.stop();
  });

  it('knows who may use each route (a new route must be placed in an access class)', () => {
    expect(routes.length).toBeGreaterThan(100);
    const unplaced = routes.filter((r) => !accessOf(r)).map((r) => `${r.method} ${r.path}`);
    expect(unplaced).toEqual([]);
    // Each class is in use, so a typo in a pattern cannot leave routes silently unchecked.
    for (const [, access] of POLICY) expect(routesOf(access).length).toBeGreaterThan(0);
  });

  it('the admin API refuses a missing or wrong key on every route', async () => {
    const before = await snapshotOfA();
    for (const r of routesOf('admin-api')) {
      for (const headers of <Record<string, string>[]>[
        {},
        { authorization: 'Bearer wrong-key-of-the-right-length-0123456789abcdef' },
      ]) {
        const answer = await call(r, { headers: { accept: 'application/json', ...headers } });
        expect({ route: `${r.method} ${r.path}`, status: answer.status }).toEqual({
          route: `${r.method} ${r.path}`,
          status: 401,
        });
      }
    }
    expect(await snapshotOfA()).toBe(before);
  });

  it('LMS feeds refuse unsigned and wrongly signed calls', async () => {
    const before = await t.laurel.ctx.models.events.countDocuments({});
    for (const r of routesOf('signed-feed')) {
      for (const headers of <Record<string, string>[]>[
        {},
        { 'x-laurel-signature': 't=1,v1=00', authorization: 'Bearer forged', 'x-credly-signature': 'forged' },
      ]) {
        const answer = await call(r, {
          headers: { accept: 'application/json', 'content-type': 'application/json', ...headers },
          body: JSON.stringify(event(moodle.id)),
        });
        expect({ route: r.path, status: answer.status }).toEqual({
          route: r.path,
          status: expect.any(Number),
        });
        expect([400, 401, 403]).toContain(answer.status);
      }
    }
    expect(await t.laurel.ctx.models.events.countDocuments({})).toBe(before);
  });

  it('course pages need a launch; staff pages refuse learners; admin pages refuse instructors', async () => {
    const before = await snapshotOfA();
    const refusals: string[] = [];
    const expectStatus = (r: AppRoute, who: string, status: number, allowed: number[]) => {
      if (!allowed.includes(status)) refusals.push(`${r.method} ${r.path} as ${who}: ${status}`);
    };
    for (const r of [
      ...routesOf('course-launch'),
      ...routesOf('course-staff'),
      ...routesOf('course-admin'),
    ]) {
      expectStatus(r, 'nobody', (await call(r)).status, [401]);
    }
    for (const r of [...routesOf('course-staff'), ...routesOf('course-admin')]) {
      const answer = await call(r, { ltik: learnerA.ltik, headers: { 'x-csrf-token': learnerA.csrf ?? '' } });
      expectStatus(r, learnerA.name, answer.status, [403]);
    }
    for (const r of routesOf('course-admin')) {
      const answer = await call(r, {
        ltik: instructorA.ltik,
        headers: { 'x-csrf-token': instructorA.csrf ?? '' },
      });
      expectStatus(r, instructorA.name, answer.status, [403]);
    }
    expect(refusals).toEqual([]);
    expect(await snapshotOfA()).toBe(before);
  });

  it("an instructor of course B neither reads nor changes course A's badges and credentials", async () => {
    const before = await snapshotOfA();
    const leaks: string[] = [];
    const withIds = routesOf('course-staff').filter((r) => /:(id|cid)\b/.test(r.path));
    expect(withIds.length).toBeGreaterThan(5);
    for (const r of withIds) {
      const answer = await call(r, {
        ltik: instructorB.ltik,
        headers: { 'x-csrf-token': instructorB.csrf ?? '' },
        body: new URLSearchParams({
          csrf: instructorB.csrf ?? '',
          reason: 'probe',
          state: 'withdrawn',
        }).toString(),
      });
      if (![403, 404].includes(answer.status) || answer.body.includes(badgeName))
        leaks.push(`${r.method} ${r.path}: ${answer.status}`);
    }
    expect(leaks).toEqual([]);
    expect(await snapshotOfA()).toBe(before);
  });

  it("another platform's administrator sees nothing of this platform on its pages", async () => {
    for (const r of routesOf('course-admin').filter((x) => x.method === 'GET')) {
      const answer = await call(r, { ltik: canvasAdmin.ltik });
      expect(answer.status).toBe(200);
      expect(answer.body).not.toContain(moodle.id);
      expect(answer.body).not.toContain(p.issuer);
    }
  });

  it('the backpack needs its session, and Laurel’s /admin page its sign-in', async () => {
    const before = await snapshotOfA();
    const open: string[] = [];
    for (const r of routesOf('backpack-session')) {
      const answer = await call(r);
      // Pages send the visitor to the sign-in; forms and downloads are refused.
      if (![401, 403, 302, 303].includes(answer.status) || answer.body.includes(badgeName))
        open.push(`${r.method} ${r.path}: ${answer.status}`);
    }
    for (const r of routesOf('admin-page').filter(
      (x) => x.method !== 'GET' && !x.path.endsWith('/sign-in'),
    )) {
      const answer = await call(r, { body: 'csrf=x' });
      if (![401, 403].includes(answer.status)) open.push(`${r.method} ${r.path}: ${answer.status}`);
    }
    const adminHome = await call({ method: 'GET', path: '/admin' });
    expect(adminHome.body).not.toContain(moodle.id);
    expect(open).toEqual([]);
    expect(await snapshotOfA()).toBe(before);
  });

  it('public documents and open routes carry no e-mail address, and a hidden badge answers nowhere', async () => {
    const emails = [p.demo!.users.ada.email, p.demo!.users.instructor.email].filter(Boolean) as string[];
    expect(emails.length).toBe(2);
    const publicRoutes = [...routesOf('public-document'), ...routesOf('open')].filter(
      (r) => r.method === 'GET',
    );
    const seen: number[] = [];
    for (const r of publicRoutes) {
      const answer = await call(r);
      seen.push(answer.status);
      for (const email of emails)
        expect({ route: r.path, leaks: answer.body.includes(email) }).toEqual({
          route: r.path,
          leaks: false,
        });
    }
    // The credential's own documents did answer (so the e-mail check above read real documents).
    expect(seen.filter((s) => s === 200).length).toBeGreaterThan(5);
    const credential = await t.laurel.ctx.models.credentials.findById(credentialA).lean();
    await t.laurel.ctx.models.badgeSharings.create({
      _id: credential!._id,
      platformId: credential!.platformId,
      personId: credential!.personId,
      visibility: 'hidden',
      updatedAt: new Date(),
    });
    const credentialRoutes = routesOf('public-document').filter((r) => r.path.startsWith('/credentials/:id'));
    expect(credentialRoutes.length).toBeGreaterThanOrEqual(4);
    for (const r of credentialRoutes) {
      const answer = await call(r);
      expect({ route: r.path, status: answer.status }).toEqual({ route: r.path, status: 404 });
      expect(answer.body).not.toContain(badgeName);
    }
  });
});
