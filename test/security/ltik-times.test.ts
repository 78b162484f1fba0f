/** The launch token (ltik) is a JWT Laurel signs; its iat is held to the same minute of skew as any token. */
import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { TestLaurel } from '../support/laurel.js';
import { launch } from '../support/lms-platform/index.js';
import {
  ltikOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

let t: TestLaurel;
let moodle: RegisteredPlatform;
beforeAll(async () => {
  t = await startLaurelForLti();
  moodle = await startRegisteredPlatform(t, 'moodle');
});
afterAll(async () => {
  await moodle?.platform.close();
  await t?.stop();
});

it('refuses an ltik issued in the future, and takes the same launch re-dated to now', async () => {
  const p = moodle.platform;
  const page = await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.instructor.sub });
  const payload = jwt.decode(ltikOf(page.url)!) as Record<string, unknown>;
  const redated = (iat: number) =>
    jwt.sign({ ...payload, iat }, t.laurel.config.ltiKey, { algorithm: 'HS256' });
  const nowS = Math.floor(Date.now() / 1000);

  const fine = await request(t.url).get(`/course/instructor?ltik=${redated(nowS + 30)}`);
  expect(fine.status).toBe(200);
  const future = await request(t.url)
    .get(`/course/instructor?ltik=${redated(nowS + 600)}`)
    .set('Accept', 'text/html');
  expect(future.status).toBe(401);
  expect(future.text).toContain('(session_expired)');
});
