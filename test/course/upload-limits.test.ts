/**
 * Issue 17, item 4: the course form routes check the launch (ltik) and the CSRF token before they
 * read a body, and read any body only within limits; a malformed body is a 400, never a 500.
 */
import http from 'node:http';
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import {
  follow,
  linksOf,
  ltikOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

const MiB = 1024 * 1024;
const BOUNDARY = '----laurel-limits';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string; written: number };

const part = (name: string, value: string | Buffer, file?: { filename: string; type: string }) => [
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"` +
    (file ? `; filename="${file.filename}"\r\nContent-Type: ${file.type}` : '') +
    '\r\n\r\n',
  value,
  '\r\n',
];
const closing = `--${BOUNDARY}--\r\n`;

/** `count` fields of `size` bytes each, streamed from one buffer (the test itself stays small). */
function* manyFields(count: number, size: number): Generator<string | Buffer> {
  const value = Buffer.alloc(size, 'a');
  for (let i = 0; i < count; i++) yield* part(`f${i}`, value);
}

const heapNow = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe('course form bodies (issue 17, item 4)', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let ltik: string;
  let csrf: string;
  let badgeId: string;

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    const page = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    ltik = ltikOf(page.url)!;
    const form = await follow(
      t,
      linksOf(page.body).find((l) => l.startsWith('/course/instructor/badges/new'))!,
    );
    const fields = parseForms(form.body).find((f) => f.action.includes('/course/instructor/badges'))!;
    csrf = fields.fields.find(([name]) => name === 'csrf')![1];
    const created = await admin(t, 'POST', '/templates', {
      platformId: moodle.id,
      courseId: p.demo!.courses.chemistry.id,
      name: 'Limits',
    });
    expect(created.status).toBe(201);
    badgeId = created.body.id;
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  const withLtik = (path: string) => `${path}?ltik=${encodeURIComponent(ltik)}`;
  const PATHS = () => [
    '/course/instructor/badges',
    `/course/instructor/badges/${badgeId}`,
    '/course/instructor/rule-summary',
  ];

  /**
   * A POST over a raw connection that writes `chunks` as the socket takes them and stops writing
   * once the answer arrives; `written` is how much of the body had been handed over by then.
   */
  function rawPost(
    path: string,
    headers: Record<string, string>,
    chunks: Iterable<string | Buffer>,
  ): Promise<Answer> {
    const url = new URL(path, t.url);
    return new Promise((resolve, reject) => {
      let written = 0;
      let answered = false;
      const req = http.request({
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { accept: 'application/json', ...headers },
        agent: false,
      });
      req.on('response', (res) => {
        answered = true;
        const body: Buffer[] = [];
        res.on('data', (c: Buffer) => body.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(body).toString(),
            written,
          });
          req.destroy();
        });
        res.on('error', reject);
      });
      // Once answered, the server may close the connection while we still write: expected.
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      const source = chunks[Symbol.iterator]();
      const pump = () => {
        while (!answered) {
          const next = source.next();
          if (next.done) return void req.end();
          written += Buffer.byteLength(next.value);
          if (!req.write(next.value)) return void req.once('drain', pump);
        }
      };
      pump();
    });
  }

  const json = (answer: Answer) => JSON.parse(answer.body) as { error: string; message: string };

  it('refuses a huge multipart body without a launch before reading it, and closes the connection', async () => {
    const before = heapNow();
    const answer = await rawPost(
      '/course/instructor/badges',
      { 'content-type': MULTIPART }, // chunked: no length to refuse it by
      manyFields(500, MiB - 100),
    );
    const grown = heapNow() - before;
    expect(answer.status).toBe(401);
    expect(answer.body).toContain('Open Laurel from your course');
    // 500 MiB were on offer: the answer came while only the first few MiB (socket buffers) were out.
    expect(answer.written).toBeLessThan(40 * MiB);
    expect(answer.headers.connection).toBe('close');
    expect(grown).toBeLessThan(64 * MiB);
  });

  it('refuses a huge multipart body whose launch is forged, before reading it', async () => {
    const answer = await rawPost(
      `/course/instructor/rule-summary?ltik=eyJhbGciOiJIUzI1NiJ9.e30.x`,
      { 'content-type': MULTIPART },
      manyFields(500, MiB - 100),
    );
    expect(answer.status).toBe(401);
    expect(answer.written).toBeLessThan(40 * MiB);
  });

  it('with a launch, refuses a multipart form that does not open with its CSRF token after the first part', async () => {
    const answer = await rawPost(
      withLtik('/course/instructor/badges'),
      { 'content-type': MULTIPART },
      (function* () {
        yield* part('name', 'Sneaky');
        yield* manyFields(500, MiB - 100);
      })(),
    );
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('This form could not be accepted');
    expect(answer.written).toBeLessThan(40 * MiB);
    expect(answer.headers.connection).toBe('close');
    expect(await t.laurel.ctx.models.templates.countDocuments({ name: 'Sneaky' })).toBe(0);
  });

  it('refuses a wrong X-CSRF-Token header before reading the body', async () => {
    const answer = await rawPost(
      withLtik('/course/instructor/rule-summary'),
      { 'content-type': MULTIPART, 'x-csrf-token': `${csrf}x` },
      manyFields(500, MiB - 100),
    );
    expect(answer.status).toBe(403);
    expect(answer.written).toBeLessThan(40 * MiB);
  });

  it('with a launch and its token, stops reading at the form cap', async () => {
    const answer = await rawPost(
      withLtik('/course/instructor/badges'),
      { 'content-type': MULTIPART },
      (function* () {
        yield* part('csrf', csrf);
        yield* manyFields(500, 16 * 1024);
        yield* manyFields(500, MiB - 100);
      })(),
    );
    expect([400, 413]).toContain(answer.status);
    expect(answer.written).toBeLessThan(40 * MiB);
  });

  it('refuses a declared length above the cap at once (413)', async () => {
    const answer = await rawPost(
      withLtik('/course/instructor/badges'),
      { 'content-type': MULTIPART, 'content-length': String(600 * MiB), 'x-csrf-token': csrf },
      manyFields(600, MiB - 200),
    );
    expect(answer.status).toBe(413);
    expect(json(answer).error).toBe('too_large');
    expect(answer.written).toBeLessThan(40 * MiB);
  });

  it('answers 400 in Laurel’s error shape to a multipart body without a boundary', async () => {
    for (const path of PATHS()) {
      const answer = await rawPost(withLtik(path), { 'content-type': 'multipart/form-data' }, [
        ...part('csrf', csrf),
        closing,
      ]);
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      expect(json(answer)).toEqual(expect.objectContaining({ error: 'invalid_request' }));
    }
  });

  it('answers 400 to a truncated multipart body', async () => {
    for (const path of PATHS()) {
      const answer = await rawPost(withLtik(path), { 'content-type': MULTIPART }, [
        ...part('csrf', csrf),
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nCut sh`,
      ]);
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      expect(json(answer)).toEqual(expect.objectContaining({ error: 'invalid_request' }));
    }
  });

  it('answers 400 to garbage after a multipart content type', async () => {
    for (const path of PATHS()) {
      const answer = await rawPost(withLtik(path), { 'content-type': MULTIPART }, [
        'this is not a multipart body at all',
      ]);
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
    }
  });

  it('refuses too many fields (4xx) and stores nothing', async () => {
    const answer = await rawPost(withLtik('/course/instructor/badges'), { 'content-type': MULTIPART }, [
      ...part('csrf', csrf),
      ...part('name', 'Crowded'),
      ...manyFields(1200, 1),
      closing,
    ]);
    expect(answer.status).toBe(400);
    expect(json(answer).error).toBe('invalid_request');
    expect(await t.laurel.ctx.models.templates.countDocuments({ name: 'Crowded' })).toBe(0);
  });

  it('refuses a field longer than the form allows (4xx), whatever its name', async () => {
    const answer = await rawPost(withLtik('/course/instructor/badges'), { 'content-type': MULTIPART }, [
      ...part('csrf', csrf),
      ...part('name', 'Long field'),
      ...part('unused', 'x'.repeat(100 * 1024)),
      closing,
    ]);
    expect(answer.status).toBe(400);
    expect(await t.laurel.ctx.models.templates.countDocuments({ name: 'Long field' })).toBe(0);
  });

  it('refuses a picture above the upload cap (413) and a second file (400)', async () => {
    const big = await rawPost(withLtik('/course/instructor/badges'), { 'content-type': MULTIPART }, [
      ...part('csrf', csrf),
      ...part('name', 'Big picture'),
      ...part('image', Buffer.alloc(2 * MiB + 1024, 1), { filename: 'big.png', type: 'image/png' }),
      closing,
    ]);
    expect(big.status).toBe(413);
    expect(json(big).error).toBe('too_large');
    const two = await rawPost(withLtik('/course/instructor/badges'), { 'content-type': MULTIPART }, [
      ...part('csrf', csrf),
      ...part('name', 'Two files'),
      ...part('image', Buffer.alloc(10, 1), { filename: 'a.png', type: 'image/png' }),
      ...part('other', Buffer.alloc(10, 1), { filename: 'b.png', type: 'image/png' }),
      closing,
    ]);
    expect(two.status).toBe(400);
    expect(await t.laurel.ctx.models.templates.countDocuments({ name: /Big picture|Two files/ })).toBe(0);
  });

  it('does not read a file sent before the CSRF token', async () => {
    const answer = await rawPost(withLtik('/course/instructor/badges'), { 'content-type': MULTIPART }, [
      ...part('image', Buffer.alloc(MiB, 1), { filename: 'a.png', type: 'image/png' }),
      ...part('csrf', csrf),
      closing,
    ]);
    expect(answer.status).toBe(403);
  });

  it('still takes the form as the page sends it: multipart with the token first, urlencoded for the summary', async () => {
    const created = await rawPost(withLtik('/course/instructor/badges'), { 'content-type': MULTIPART }, [
      ...part('csrf', csrf),
      ...part('name', 'Within limits'),
      ...part('groups[0][0][kind]', 'course-completed'),
      ...part('image', Buffer.alloc(0), { filename: '', type: 'application/octet-stream' }),
      closing,
    ]);
    expect(created.status).toBe(303);
    expect(await t.laurel.ctx.models.templates.countDocuments({ name: 'Within limits' })).toBe(1);

    const body = new URLSearchParams({
      csrf,
      name: 'x',
      'groups[0][0][kind]': 'course-completed',
    }).toString();
    const summary = await rawPost(
      withLtik('/course/instructor/rule-summary'),
      { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) },
      [body],
    );
    expect(summary.status).toBe(200);
    expect(json(summary)).toEqual({ summary: 'Earned when: course completed' });
  });

  it('bounds the urlencoded summary and the small forms too', async () => {
    const summary = await rawPost(
      withLtik('/course/instructor/rule-summary'),
      { 'content-type': 'application/x-www-form-urlencoded' },
      (function* () {
        yield `csrf=${encodeURIComponent(csrf)}&name=`;
        const chunk = Buffer.alloc(MiB, 'a');
        for (let i = 0; i < 500; i++) yield chunk;
      })(),
    );
    expect(summary.status).toBe(413);
    expect(summary.written).toBeLessThan(40 * MiB);

    const state = await rawPost(
      withLtik(`/course/instructor/badges/${badgeId}/state`),
      { 'content-type': 'application/x-www-form-urlencoded' },
      (function* () {
        yield `csrf=${encodeURIComponent(csrf)}&action=activate&pad=`;
        const chunk = Buffer.alloc(MiB, 'a');
        for (let i = 0; i < 500; i++) yield chunk;
      })(),
    );
    expect(state.status).toBe(413);
    expect(state.written).toBeLessThan(40 * MiB);

    // The deep-linking form carries its ltik as a field: its body is read first, 16 KiB at most.
    const deepLink = await rawPost(
      '/course/deep-link',
      { 'content-type': 'application/x-www-form-urlencoded' },
      (function* () {
        yield 'ltik=';
        const chunk = Buffer.alloc(MiB, 'a');
        for (let i = 0; i < 500; i++) yield chunk;
      })(),
    );
    expect(deepLink.status).toBe(413);
    expect(deepLink.written).toBeLessThan(40 * MiB);
  });
});
