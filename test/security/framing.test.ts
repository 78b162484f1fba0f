/** Who may frame which page: the launch's LMS for course pages, nobody for the rest; HSTS only over HTTPS. */
import request from 'supertest';
import type { TestLaurel } from '../support/laurel.js';
import { launch } from '../support/lms-platform/index.js';
import {
  ltikOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

const frameAncestors = (csp: string | undefined) => /frame-ancestors ([^;]*)/.exec(csp ?? '')?.[1];

let t: TestLaurel;
let moodle: RegisteredPlatform;
let canvas: RegisteredPlatform;
beforeAll(async () => {
  t = await startLaurelForLti({ TRUST_PROXY: '1' });
  [moodle, canvas] = await Promise.all([
    startRegisteredPlatform(t, 'moodle'),
    startRegisteredPlatform(t, 'canvas'),
  ]);
});
afterAll(async () => {
  await Promise.all([moodle?.platform.close(), canvas?.platform.close()]);
  await t?.stop();
});

it("a course page may be framed by its launch's LMS only", async () => {
  const p = moodle.platform;
  const page = await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.instructor.sub });
  expect(page.status).toBe(200);
  const ltik = ltikOf(page.url)!;
  const res = await request(t.url).get(`/course/instructor?ltik=${encodeURIComponent(ltik)}`);
  expect(res.status).toBe(200);
  expect(frameAncestors(res.headers['content-security-policy'])).toBe(new URL(p.url).origin);
  expect(res.headers['content-security-policy']).not.toContain(new URL(canvas.platform.url).origin);
});

it('a course page without a valid launch may be framed by the registered LMSs (to say "open it again")', async () => {
  const res = await request(t.url).get('/course/instructor').set('Accept', 'text/html');
  expect(res.status).toBe(401);
  const allowed = frameAncestors(res.headers['content-security-policy'])!.split(' ').sort();
  expect(allowed).toEqual([new URL(canvas.platform.url).origin, new URL(moodle.platform.url).origin].sort());
});

it.each(['/', '/healthz', '/lti/register', '/no-such-page', '/lti/canvas.json', '/api/v1/openapi.json'])(
  '%s may not be framed at all',
  async (path) => {
    const res = await request(t.url).get(path).set('Accept', 'text/html');
    expect(frameAncestors(res.headers['content-security-policy'])).toBe("'none'");
  },
);

it('the registration page may be framed by the LMS that opened it (Canvas shows it in a frame)', async () => {
  const res = await request(t.url)
    .get(
      '/lti/register?openid_configuration=https%3A%2F%2Flms.example.edu%2Fapi%2Flti%2Fconfig&registration_token=x',
    )
    .set('Accept', 'text/html');
  expect(frameAncestors(res.headers['content-security-policy'])).toBe('https://lms.example.edu');
});

it('sends HSTS only over HTTPS', async () => {
  const plain = await request(t.url).get('/');
  expect(plain.headers['strict-transport-security']).toBeUndefined();
  const viaProxy = await request(t.url).get('/').set('X-Forwarded-Proto', 'https');
  expect(viaProxy.headers['strict-transport-security']).toMatch(/max-age=\d+/);
});

it("learns the school's own LMS address from a signed launch (Canvas frames from neither its issuer nor its login host)", async () => {
  const p = canvas.platform;
  const school = 'https://school.instructure.example';
  const page = await launch(p, {
    courseId: p.demo!.courses.chemistry.id,
    sub: p.demo!.users.instructor.sub,
    claims: {
      'https://purl.imsglobal.org/spec/lti/claim/launch_presentation': {
        document_target: 'iframe',
        return_url: `${school}/courses/1/external_content/success/external_tool_redirect`,
      },
    },
  });
  expect(page.status).toBe(200);
  const res = await request(t.url).get(`/course/instructor?ltik=${encodeURIComponent(ltikOf(page.url)!)}`);
  expect(frameAncestors(res.headers['content-security-policy'])!.split(' ')).toEqual(
    expect.arrayContaining([school, new URL(p.url).origin]),
  );
  const stored = await t.laurel.ctx.models.platforms.findById(canvas.id).lean();
  expect(stored!.frameOrigins).toEqual([school]);
  // Another launch from the same address writes nothing new.
  await launch(p, {
    courseId: p.demo!.courses.chemistry.id,
    sub: p.demo!.users.ada.sub,
    claims: {
      'https://purl.imsglobal.org/spec/lti/claim/launch_presentation': { return_url: `${school}/x` },
    },
  });
  expect((await t.laurel.ctx.models.platforms.findById(canvas.id).lean())!.frameOrigins).toEqual([school]);
});
