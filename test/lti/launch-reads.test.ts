/**
 * Issue 26: a login or launch reads only its own platform (by issuer and client id), once per
 * request, instead of every registered platform for its framing policy; and is framed by its own
 * LMS only. Database commands are counted by the wire-protocol engine Laurel talks to.
 */
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { startEngine, type CommandEvent, type Engine } from '../support/mongo-engine/index.js';
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from './helpers.js';

const frameAncestors = (csp: string | undefined) => /frame-ancestors ([^;]*)/.exec(csp ?? '')?.[1];

let engine: Engine;
let t: TestLaurel;
let moodle: RegisteredPlatform;
let canvas: RegisteredPlatform;
const commands: CommandEvent[] = [];
let recording = false;

beforeAll(async () => {
  engine = await startEngine({ onCommand: (event) => recording && commands.push(event) });
  t = await startLaurelForLti({ MONGODB_URI: `${engine.uri}laurel_launch_reads` });
  [moodle, canvas] = await Promise.all([
    startRegisteredPlatform(t, 'moodle'),
    startRegisteredPlatform(t, 'canvas'),
  ]);
  // Many registered LMSs, as on a busy installation: none of them is read by another's launch.
  await t.laurel.ctx.models.platforms.collection.insertMany(
    Array.from({ length: 30 }, (_, i) => ({
      name: `Other LMS ${i}`,
      lms: 'moodle',
      issuer: `https://lms${i}.example.edu`,
      clientId: `client-${i}`,
      authLoginUrl: `https://lms${i}.example.edu/auth`,
      authTokenUrl: `https://lms${i}.example.edu/token`,
      jwksUrl: `https://lms${i}.example.edu/jwks`,
      status: 'active',
    })),
  );
});
afterAll(async () => {
  await Promise.all([moodle?.platform.close(), canvas?.platform.close()]);
  await t?.stop();
  await engine?.close();
});

/** The reads (find commands) of one collection among the recorded commands. */
const findsOf = (collection: string) =>
  commands.filter((c) => c.name === 'find' && c.body.find === collection).map((c) => c.body.filter ?? {});

/** The commands of one whole launch of `sub` (login, the LMS's answer, the launch, the course page). */
async function commandsOfLaunch(sub: string, path: string): Promise<CommandEvent[]> {
  const p = moodle.platform;
  commands.length = 0;
  recording = true;
  try {
    const page = await launch(p, { courseId: p.demo!.courses.chemistry.id, sub });
    expect(page.status).toBe(200);
    expect(page.url).toContain(path);
  } finally {
    recording = false;
  }
  return [...commands];
}

/** A background job of this all-roles process (an AGS poll, the roster sync) may run meanwhile. */
const ofLaunch = (list: CommandEvent[]) =>
  list.filter(
    (c) => !['agendaJobs', 'lti_access_tokens', 'lti_private_keys'].includes(String(c.body[c.name])),
  );

it('a whole launch reads its own platform by issuer, never every platform', async () => {
  const p = moodle.platform;
  // A learner's launch: an instructor's queues a roster sync, whose job reads the platform too.
  await commandsOfLaunch(p.demo!.users.ada.sub, '/course/learner');
  // Before issue 26: every platform (empty filter) at each login and launch answer, 3 per launch.
  // (A background job may read a platform by id meanwhile.)
  const platformReads = [
    ...findsOf('platforms'),
    ...commands
      .filter((c) => c.name === 'aggregate' && c.body.aggregate === 'platforms')
      .map((c) => c.body.pipeline[0].$match),
  ];
  for (const filter of platformReads) expect(Object.keys(filter).length).toBeGreaterThan(0);
  const byIssuer = platformReads.filter((filter) => filter.issuer !== undefined);
  for (const filter of byIssuer) expect(filter.issuer).toBe(p.issuer);
  // The login (probe and login proper), the launch, and the course page: one read each.
  expect(byIssuer.length).toBeGreaterThan(0);
  expect(byIssuer.length).toBeLessThanOrEqual(4);
});

it("reads ltijs's platform records and statuses with Laurel's platforms, and the session with the course page's platform", async () => {
  const p = moodle.platform;
  // A returning learner (a first sighting also inserts the course and person).
  await commandsOfLaunch(p.demo!.users.grace.sub, '/course/learner');
  const list = ofLaunch(await commandsOfLaunch(p.demo!.users.grace.sub, '/course/learner'));
  const aggregates = list.filter((c) => c.name === 'aggregate' && c.body.aggregate === 'platforms');
  const lookups = (c: CommandEvent) =>
    (c.body.pipeline as Record<string, any>[]).filter((s) => s.$lookup).map((s) => s.$lookup.from);
  // The two logins and the launch: Laurel's registrations of the issuer with ltijs's records of it
  // (and their statuses) in one aggregation each; ltijs reads nothing of its own then.
  const ofIssuer = aggregates.filter((c) => c.body.pipeline[0].$match.clientId === undefined);
  expect(ofIssuer).toHaveLength(3);
  for (const c of ofIssuer) {
    expect(c.body.pipeline[0].$match).toEqual({ issuer: p.issuer });
    expect(lookups(c)).toEqual(['lti_platforms']);
    const records = c.body.pipeline.find((s: Record<string, any>) => s.$lookup).$lookup;
    expect(records.pipeline[0].$match).toEqual({ platformUrl: p.issuer });
    expect(records.pipeline[1].$lookup).toMatchObject({ from: 'lti_platform_statuses', localField: 'kid' });
  }
  expect(
    list.filter((c) => ['lti_platforms', 'lti_platform_statuses'].includes(String(c.body[c.name]))),
  ).toEqual([]);
  // The course page: its platform with ltijs's id_token and context token of the session.
  const page = aggregates.filter((c) => c.body.pipeline[0].$match.clientId !== undefined);
  expect(page).toHaveLength(1);
  expect(page[0]!.body.pipeline[0].$match).toEqual({ issuer: p.issuer, clientId: p.clientId });
  expect(lookups(page[0]!)).toEqual(['lti_id_tokens', 'lti_context_tokens']);
  expect(findsOf('lti_id_tokens')).toEqual([]);
  expect(findsOf('lti_context_tokens')).toEqual([]);
  // ltijs's state records (only a target link's query) and Laurel's for the cookie path: none.
  const touched = (name: string) => list.filter((c) => c.body[c.name] === name);
  expect(touched('lti_states')).toEqual([]);
  expect(touched('lti_login_states')).toEqual([]);
  // The nonce is still inserted once (its unique index refuses a replay), the tokens written once.
  expect(touched('lti_nonces').map((c) => c.name)).toEqual(['insert']);
  // A returning learner's whole launch: 23 commands before these cuts.
  expect(list.length).toBeLessThanOrEqual(14);
});

it("an instructor's launch within the roster debounce asks the job queue nothing", async () => {
  const p = moodle.platform;
  const instructor = p.demo!.users.instructor.sub;
  await commandsOfLaunch(instructor, '/course/instructor');
  const again = await commandsOfLaunch(instructor, '/course/instructor');
  // The roster job itself may run meanwhile (it locks and reads agendaJobs), but the launch's own
  // question (find and count of the course's sync job) is not asked again.
  const asked = again.filter(
    (c) =>
      c.body[c.name] === 'agendaJobs' &&
      (c.name === 'find' || c.name === 'aggregate') &&
      JSON.stringify(c.body).includes('data.courseRef'),
  );
  expect(asked).toEqual([]);
});

it("a course page with a badge reads its course's ids and end date from the launch session, not again", async () => {
  const p = moodle.platform;
  const courseId = p.demo!.courses.chemistry.id;
  const template = await admin(t, 'POST', '/templates', {
    platformId: moodle.id,
    courseId,
    name: 'Quiz badge',
    groups: [
      {
        requirements: [
          {
            event: 'activity.grade.updated',
            rules: [{ path: 'data.activityId', op: 'eq', value: 'quiz' }],
          },
        ],
      },
    ],
  });
  expect(template.status).toBe(201);
  expect((await admin(t, 'POST', `/templates/${template.body.id}/activate`)).status).toBeLessThan(300);
  for (const [sub, path] of [
    [p.demo!.users.ada.sub, '/course/learner'],
    [p.demo!.users.instructor.sub, '/course/instructor'],
  ] as const) {
    const list = ofLaunch(await commandsOfLaunch(sub, path));
    // The page names the badge's rule (activity titles, the course's end date): it did read for it.
    expect(list.some((c) => c.body[c.name] === 'templates')).toBe(true);
    // The session read the course by its LMS id once; no read of it by its document id follows.
    const courseReads = list.filter((c) => c.name === 'find' && c.body.find === 'courses');
    expect(courseReads.map((c) => Object.keys(c.body.filter as object).sort())).toEqual([
      ['ids', 'platformId'],
    ]);
  }
});

it("the login answer may be framed by the logging-in LMS only, and an unknown LMS's by none", async () => {
  const p = canvas.platform;
  const login = (iss: string, clientId: string) =>
    request(t.url)
      .post('/lti/login')
      .type('form')
      .send({
        iss,
        client_id: clientId,
        login_hint: 'x',
        target_link_uri: `${t.laurel.config.publicUrl}/lti/launch`,
      })
      .set('Accept', 'text/html');
  const res = await login(p.issuer, p.clientId);
  expect(res.status).toBe(200);
  // Never cached (a form posted once): no ETag hashed from the page.
  expect(res.headers.etag).toBeUndefined();
  const allowed = frameAncestors(res.headers['content-security-policy'])!.split(' ');
  expect(allowed).toContain(new URL(p.url).origin);
  expect(allowed).not.toContain(new URL(moodle.platform.url).origin);
  expect(allowed).not.toContain('https://lms0.example.edu');

  const unknown = await login('https://unknown-lms.example.edu', 'nobody');
  expect(frameAncestors(unknown.headers['content-security-policy'])).toBe("'none'");
});

it('the launch answer may be framed by the LMS its id_token names only', async () => {
  const p = moodle.platform;
  // Signed with a key of nobody's: refused, and the refusal may show in the named LMS's frame only.
  const { privateKey } = await import('node:crypto').then((c) =>
    c.generateKeyPairSync('rsa', { modulusLength: 2048 }),
  );
  const idToken = jwt.sign(
    { iss: p.issuer, aud: p.clientId, sub: 'someone', nonce: 'n' },
    privateKey.export({ type: 'pkcs8', format: 'pem' }),
    { algorithm: 'RS256', keyid: 'nobody', expiresIn: 60 },
  );
  const res = await request(t.url)
    .post('/lti/launch')
    .type('form')
    .send({ id_token: idToken, state: 'no-such-state' })
    .set('Accept', 'text/html');
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(frameAncestors(res.headers['content-security-policy'])).toBe(new URL(p.url).origin);
});

it('an LMS whose status says inactive is refused at login (the status read with its record)', async () => {
  const p = canvas.platform;
  const db = t.laurel.lti.db;
  const [record] = (await db.Get(false, 'platform', { platformUrl: p.issuer, clientId: p.clientId })) || [];
  const kid = String(record!.kid);
  const login = () =>
    request(t.url)
      .post('/lti/login')
      .type('form')
      .send({
        iss: p.issuer,
        client_id: p.clientId,
        login_hint: 'x',
        target_link_uri: `${t.laurel.config.publicUrl}/lti/launch`,
      })
      .set('Accept', 'text/html');
  await db.Replace(false, 'platformStatus', { id: kid }, { id: kid, active: false });
  try {
    const refused = await login();
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('not activated');
  } finally {
    await db.Replace(false, 'platformStatus', { id: kid }, { id: kid, active: true });
  }
  expect((await login()).status).toBe(200);
});
