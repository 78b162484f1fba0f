/**
 * Generated bad input (fast-check) against every JSON route of the admin API, the signed LMS feeds
 * (bodies signed with the right secret, so the parsing and validation behind the signature are what
 * is probed), the course forms of an instructor and the query strings of every GET: always an answer
 * below 500 in Laurel's error shape, and a refused request stores nothing.
 */
import { jest } from '@jest/globals';
import fc from 'fast-check';
import { signatureHeader } from '../../src/events/signature.js';
import { ADMIN_KEY, event } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { listRoutes, type AppRoute } from '../support/routes.js';
import { launch } from '../support/lms-platform/index.js';
import {
  ltikOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';
import { activeTemplate, awardIssued } from '../backpack/helpers.js';

jest.setTimeout(300_000);

/** Keys that would be operators or paths if they reached a MongoDB filter or update. */
const hostileKey = fc.constantFrom(
  '$where',
  '$ne',
  '$gt',
  '$set',
  'a.b',
  '__proto__',
  'constructor',
  '$',
  '.',
  '',
);
const oddText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    '\ud800',
    '\u202e',
    'ﷺ'.repeat(50),
    'x'.repeat(100_000),
    '{"$gt":""}',
    '../../etc',
  ),
);
const leaf = fc.oneof(oddText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
/** JSON values with hostile keys mixed in, nested a few levels. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(hostileKey, fc.string({ maxLength: 12 })), tie('value'), { maxKeys: 5 }),
})).value;
/** What a body may be: JSON of any shape, or text that is not JSON at all. */
const body = fc.oneof(
  hostileJson.map((v) => JSON.stringify(v) ?? 'null'),
  fc.constantFrom('', '{', '[1,', '{"a":1}{"b":2}', 'null', '"text"', '\u0000'),
  fc.string({ maxLength: 200 }),
);
const RUNS = Number(process.env.LAUREL_PROPERTY_RUNS ?? 12);

describe('generated bad input never breaks Laurel', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let routes: AppRoute[];
  let badgeId: string;
  let credentialId: string;
  let instructor: { ltik: string; csrf: string };

  const fill = (path: string) =>
    path.replace(/:(\w+)/g, (_m, key: string) =>
      key === 'platformId' || (key === 'id' && path.startsWith('/api/v1/platforms'))
        ? moodle.id
        : key === 'cid'
          ? credentialId
          : key === 'id' && path.includes('/badges/')
            ? badgeId
            : key === 'id'
              ? credentialId
              : 'x',
    );

  /** How many documents the collections a request could write hold, to prove a refusal wrote nothing. */
  async function counts(): Promise<string> {
    const m = t.laurel.ctx.models;
    const all = await Promise.all(
      [
        m.platforms,
        m.templates,
        m.credentials,
        m.events,
        m.people,
        m.courses,
        m.audit,
        m.progress,
        m.registrationLinks,
        m.providerSettings,
      ].map((model) =>
        (model as unknown as { countDocuments(f: object): Promise<number> }).countDocuments({}),
      ),
    );
    return all.join(',');
  }

  async function expectRefusedCleanly(label: string, res: Response, before: string): Promise<void> {
    const text = await res.text();
    expect({ label, status: res.status < 500 }).toEqual({ label, status: true });
    if (res.status >= 400) {
      if ((res.headers.get('content-type') ?? '').includes('json')) {
        const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
        expect({ label, error: typeof parsed.error, message: typeof parsed.message }).toEqual({
          label,
          error: 'string',
          message: 'string',
        });
      }
      expect({ label, counts: await counts() }).toEqual({ label, counts: before });
    }
  }

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    const p = moodle.platform;
    const page = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    const ltik = ltikOf(page.url)!;
    // The badge form carries the CSRF token of this launch.
    const form = await fetch(`${t.url}/course/instructor/badges/new?ltik=${encodeURIComponent(ltik)}`);
    instructor = { ltik, csrf: /name="csrf" value="([^"]+)"/.exec(await form.text())![1]! };
    // Ada launches once, so that Laurel knows her before the award.
    await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.ada.sub });
    badgeId = await activeTemplate(t, moodle, 'Property Badge');
    credentialId = await awardIssued(t, badgeId, p.demo!.users.ada.sub);
    const app = t.laurel.app as unknown as { router: { stack: never[] } };
    routes = listRoutes(app.router.stack);
    // The award, the roster and the recalculation after activation run in the background: wait until
    // nothing moves, so that a count that changes later is the probe's doing.
    let last = '';
    for (let still = 0, tries = 0; still < 6 && tries < 100; tries++) {
      const now = await counts();
      still = now === last ? still + 1 : 0;
      last = now;
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  afterAll(async () => {
    await moodle?.platform.close();
    await t?.stop();
  });

  it('admin API routes with a body answer every generated body below 500, and store nothing when refusing', async () => {
    const withBody = routes.filter(
      (r) =>
        r.path.startsWith('/api/v1/') &&
        ['POST', 'PUT', 'PATCH'].includes(r.method) &&
        !/\/(events|webhooks)\b/.test(r.path) &&
        // These act on what exists (sync, rotate, retry), so a body is ignored and a call succeeds.
        !/\/(rotate-key|webhook-secret|retry|sync|approve|activate|withdraw|image)$/.test(r.path),
    );
    expect(withBody.length).toBeGreaterThan(8);
    for (const r of withBody) {
      await fc.assert(
        fc.asyncProperty(body, async (raw) => {
          const before = await counts();
          const res = await fetch(`${t.url}${fill(r.path)}`, {
            method: r.method,
            headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
            body: raw,
          });
          await expectRefusedCleanly(`${r.method} ${r.path} ${raw.slice(0, 80)}`, res, before);
        }),
        { numRuns: RUNS, seed: 20261207 },
      );
    }
  });

  it('signed LMS feeds answer every generated body, signed with the right secret, below 500', async () => {
    const feeds = ['/api/v1/events', `/api/v1/webhooks/moodle/${moodle.id}`];
    for (const path of feeds) {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            body,
            // Events that are almost right: one field replaced by something hostile.
            fc
              .tuple(
                fc.constantFrom('id', 'type', 'occurredAt', 'user', 'course', 'data', 'platform'),
                hostileJson,
              )
              .map(([field, value]) => JSON.stringify({ ...event(moodle.id), [field]: value })),
          ),
          async (raw) => {
            const before = await counts();
            const res = await fetch(`${t.url}${path}`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'x-laurel-signature': signatureHeader(moodle.webhookSecret, raw, Date.now()),
              },
              body: raw,
            });
            await expectRefusedCleanly(`${path} ${raw.slice(0, 80)}`, res, before);
          },
        ),
        { numRuns: RUNS * 3, seed: 20261207 },
      );
    }
  });

  it('query strings with operators, arrays and odd text never reach a filter: every GET answers below 500', async () => {
    const gets = routes.filter((r) => r.method === 'GET' && r.path.startsWith('/api/v1/'));
    const query = fc
      .array(
        fc.tuple(
          fc.constantFrom(
            'platformId',
            'courseId',
            'userId',
            'templateId',
            'status',
            'cursor',
            'limit',
            'action',
          ),
          fc.constantFrom('[$ne]', '[$gt]', '[]', '.x', '[0]', ''),
          oddText,
        ),
        { minLength: 1, maxLength: 4 },
      )
      .map((parts) =>
        parts.map(([k, op, v]) => `${k}${op}=${encodeURIComponent(v.slice(0, 2000))}`).join('&'),
      );
    for (const r of gets) {
      await fc.assert(
        fc.asyncProperty(query, async (q) => {
          const res = await fetch(`${t.url}${fill(r.path)}?${q}`, {
            headers: { authorization: `Bearer ${ADMIN_KEY}` },
          });
          const text = await res.text();
          expect({ route: r.path, q, status: res.status < 500 }).toEqual({ route: r.path, q, status: true });
          // A filter with an operator never widens an answer to another platform's data.
          expect(text).not.toContain('"$ne"');
        }),
        { numRuns: RUNS, seed: 20261207 },
      );
    }
  });

  it("an instructor's course forms answer generated form bodies below 500 with a page for people", async () => {
    const forms = routes.filter((r) => r.method === 'POST' && r.path.startsWith('/course/instructor'));
    expect(forms.length).toBeGreaterThan(5);
    const formBody = fc
      .array(
        fc.tuple(
          fc.oneof(
            hostileKey,
            fc.constantFrom('name', 'groups[0][requirements][0][op]', 'state', 'learners', 'reason'),
            fc.string({ maxLength: 10 }),
          ),
          oddText,
        ),
        {
          maxLength: 6,
        },
      )
      .map((pairs) => {
        const params = new URLSearchParams();
        params.set('csrf', instructor.csrf);
        for (const [k, v] of pairs) params.append(k, v.slice(0, 5000));
        return params.toString();
      });
    for (const r of forms) {
      await fc.assert(
        fc.asyncProperty(formBody, async (raw) => {
          const res = await fetch(`${t.url}${fill(r.path)}?ltik=${encodeURIComponent(instructor.ltik)}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
            body: raw,
            redirect: 'manual',
          });
          const text = await res.text();
          expect({ route: r.path, status: res.status < 500 }).toEqual({ route: r.path, status: true });
          expect(text).not.toMatch(/at [\w.]+ \(.*:\d+:\d+\)/);
        }),
        { numRuns: RUNS, seed: 20261207 },
      );
    }
  });

  it('hostile multipart bodies to the picture upload are refused with a 4xx', async () => {
    const cases: [string, string][] = [
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nnot a png\r\n--x--\r\n',
      ],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="image"\r\n\r\n'],
      ['multipart/form-data', '--x--'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\n{}\r\n--x--\r\n',
      ],
    ];
    for (const [type, raw] of cases) {
      const before = await counts();
      const res = await fetch(`${t.url}/api/v1/templates/${badgeId}/image`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': type },
        body: raw,
      });
      expect({ raw, status: res.status >= 400 && res.status < 500 }).toEqual({ raw, status: true });
      await expectRefusedCleanly(raw, res, before);
    }
  });
});
