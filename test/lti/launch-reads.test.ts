/**
 * Issue 26: a login or launch reads only its own platform (by issuer and client id), once per
 * request, instead of every registered platform for its framing policy; and is framed by its own
 * LMS only. Database commands are counted by the wire-protocol engine Laurel talks to.
 */
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { startEngine, type CommandEvent, type Engine } from '../support/mongo-engine/index.js';
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

it('a whole launch reads its own platform by issuer, never every platform', async () => {
  const p = moodle.platform;
  commands.length = 0;
  recording = true;
  try {
    // A learner's launch: an instructor's queues a roster sync, whose job reads the platform too.
    const page = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.ada.sub,
    });
    expect(page.status).toBe(200);
    expect(page.url).toContain('/course/learner');
  } finally {
    recording = false;
  }
  // Before issue 26: every platform (empty filter) at each login and launch answer, 3 per launch.
  // (A background job may read a platform by id meanwhile.)
  const platformReads = findsOf('platforms');
  for (const filter of platformReads) expect(Object.keys(filter).length).toBeGreaterThan(0);
  const byIssuer = platformReads.filter((filter) => filter.issuer !== undefined);
  for (const filter of byIssuer) expect(filter.issuer).toBe(p.issuer);
  // The login (probe and login proper), the launch, and the course page: one read each.
  expect(byIssuer.length).toBeGreaterThan(0);
  expect(byIssuer.length).toBeLessThanOrEqual(4);
  // ltijs's platform record and status: one read per request (Laurel's check shares it), 3 in all;
  // before, 5 each. One more is allowed for a background job (an AGS poll asks ltijs for a token)
  // that may run meanwhile in this all-roles process.
  // Within a request the record comes with its status (one aggregation with a $lookup), so the
  // status has no read of its own there: 3 round trips for both, where there were 6.
  const withStatus = commands.filter((c) => c.name === 'aggregate' && c.body.aggregate === 'lti_platforms');
  for (const c of withStatus) {
    const pipeline = c.body.pipeline as Record<string, any>[];
    expect(pipeline[0]!.$match.platformUrl).toBe(p.issuer);
    expect(pipeline[1]!.$lookup).toMatchObject({ from: 'lti_platform_statuses', localField: 'kid' });
  }
  const ltijsReads = [...findsOf('lti_platforms'), ...withStatus.map((c) => c.body.pipeline[0].$match)];
  for (const filter of ltijsReads) expect(filter.platformUrl).toBe(p.issuer);
  expect(withStatus.length).toBeGreaterThan(0);
  expect(ltijsReads.length).toBeLessThanOrEqual(4);
  expect(findsOf('lti_platform_statuses').length).toBeLessThanOrEqual(1);
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
