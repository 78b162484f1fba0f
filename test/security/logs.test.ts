/**
 * The logs of real use hold no secret: a launch (login, id_token, redirect with the ltik), clicks
 * with the ltik in the URL and the Referer, a form that redirects with the ltik in Location, and
 * a signed event. Every captured line is scanned for each token and key involved.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { admin, sendEvents } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch } from '../support/lms-platform/index.js';
import {
  ltikOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';
import { redactUrl } from '../../src/web/requestLog.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

let t: TestLaurel;
let moodle: RegisteredPlatform;
beforeAll(async () => {
  // At debug level, to catch more than production logs.
  t = await startLaurelForLti({}, { logger: createLoggerTo(sink) });
  moodle = await startRegisteredPlatform(t, 'moodle');
});
afterAll(async () => {
  await moodle?.platform.close();
  await t?.stop();
});

function createLoggerTo(stream: Writable) {
  return pino({ level: 'debug', base: { service: 'laurel' } }, stream);
}

describe('what a launch and a day of clicks leave in the logs', () => {
  it('holds no ltik, id_token, state, webhook secret or key, and each request line stays short', async () => {
    const p = moodle.platform;
    const page = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    expect(page.status).toBe(200);
    const ltik = ltikOf(page.url)!;
    expect(ltik).toBeTruthy();
    expect(page.idToken).toBeTruthy();

    // A click inside the tool: the ltik in the URL and in the Referer of the page before.
    const click = await request(t.url)
      .get(`/course/instructor/badges/new?ltik=${encodeURIComponent(ltik)}`)
      .set('Referer', page.url);
    expect(click.status).toBe(200);
    // A redirect that carries the ltik in its Location.
    const home = await request(t.url)
      .get(`/course?ltik=${encodeURIComponent(ltik)}`)
      .set('Referer', page.url);
    expect(home.status).toBe(303);
    expect(home.headers.location).toContain(encodeURIComponent(ltik));
    // A signed event with the platform's webhook secret.
    const event = await sendEvents(t, moodle.webhookSecret, {
      id: 'log-scan-1',
      type: 'course.completed',
      occurredAt: new Date().toISOString(),
      platform: moodle.id,
      course: { id: p.demo!.courses.chemistry.id },
      user: { id: p.demo!.users.ada.sub },
    });
    expect(event.status).toBe(200);
    // The admin API with its key.
    expect((await admin(t, 'GET', '/platforms')).status).toBe(200);

    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(5);
    const secrets: [string, string][] = [
      ['ltik', ltik],
      ['ltik (URL-encoded)', encodeURIComponent(ltik)],
      ['id_token', page.idToken!],
      ['the signature part of the id_token', page.idToken!.split('.')[2]!],
      ['state', page.state!],
      ['webhook secret', moodle.webhookSecret],
      ['ADMIN_API_KEY', t.laurel.config.adminApiKey],
      ['LTI_KEY', t.laurel.config.ltiKey],
    ];
    for (const [what, secret] of secrets) {
      expect({ what, found: all.includes(secret) }).toEqual({ what, found: false });
    }
    expect(all).not.toMatch(/PRIVATE KEY/);
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./);
    // The URL, Referer and Location were logged, redacted.
    expect(all).toContain('ltik=[redacted]');
    const requestLines = lines.filter((l) => l.includes('"responseTime"'));
    expect(requestLines.length).toBeGreaterThan(3);
    for (const line of requestLines) expect(line.length).toBeLessThan(1200);
  });
});

describe('redactUrl', () => {
  it.each([
    ['/course?ltik=abc.def.ghi&x=1', '/course?ltik=[redacted]&x=1'],
    ['https://lms/x?state=s1&id_token=a.b.c', 'https://lms/x?state=[redacted]&id_token=[redacted]'],
    [
      '/lti/register?openid_configuration=https%3A%2F%2Flms&registration_token=tok',
      '/lti/register?openid_configuration=https%3A%2F%2Flms&registration_token=[redacted]',
    ],
    ['/x?LTIK=abc', '/x?LTIK=[redacted]'],
    ['/x/eyJhbGciOi.eyJzdWIiOiIx.sig', '/x/[redacted]'],
  ])('%s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
  it('cuts long URLs', () => {
    expect(redactUrl(`/x?q=${'a'.repeat(1000)}`)!.length).toBeLessThanOrEqual(301);
  });
});
