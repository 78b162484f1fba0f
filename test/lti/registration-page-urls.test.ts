/**
 * Issue 19, item 5: the pages of a registration name only addresses that exist. Every Laurel URL, every
 * `METHOD /path` and every link the registration's pages print (finished, refused, help; Moodle and
 * Canvas) is requested, with the ids the page gave, and none may answer 404. The setup guides are checked
 * the same way by test/foundation/documented-routes.test.ts.
 */
import { signatureHeader } from '../../src/events/signature.js';
import { ADMIN_KEY, admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, startTestPlatform, type TestPlatform } from '../support/lms-platform/index.js';
import { follow, startLaurelForLti } from './helpers.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
type Printed = { methods: Method[]; path: string; text: string };

/** What a page prints as an address of Laurel: in `<code>` (URLs and `METHOD /path`) and in links. */
function printedAddresses(html: string, publicUrl: string): Printed[] {
  const found: Printed[] = [];
  const add = (methods: Method[], url: string, text: string) => {
    const u = new URL(url, publicUrl);
    if (u.origin !== new URL(publicUrl).origin || /…|\.\.\./.test(u.pathname)) return;
    found.push({ methods, path: u.pathname, text });
  };
  const escaped = publicUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const m of html.matchAll(/<code>([\s\S]*?)<\/code>/g)) {
    const text = decodeEntities(m[1]!);
    const route = /^(GET|POST|PUT|PATCH|DELETE) (\/\S+)$/.exec(text.trim());
    if (route) add([route[1] as Method], route[2]!, text);
    for (const u of text.matchAll(new RegExp(`${escaped}/[^\\s"'<>]*`, 'g')))
      add(['GET', 'POST'], u[0], text);
  }
  for (const m of html.matchAll(/href="([^"#]+)"/g)) {
    const href = decodeEntities(m[1]!);
    if (href.startsWith('/') || href.startsWith(publicUrl)) add(['GET'], href, href);
  }
  return found;
}

describe('the registration pages name only addresses that exist', () => {
  let t: TestLaurel;
  const platforms: TestPlatform[] = [];
  beforeAll(async () => {
    t = await startLaurelForLti();
  });
  afterAll(async () => {
    await Promise.all(platforms.map((p) => p.close()));
    await t?.stop();
  });

  /** The statuses of each method of one printed address, with the admin key and an empty JSON body. */
  async function answers(printed: Printed): Promise<number[]> {
    const statuses: number[] = [];
    for (const method of printed.methods) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
      const res = await fetch(`${t.url}${printed.path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body } : {}),
        redirect: 'manual',
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    return statuses;
  }

  async function expectAllServed(html: string, least: number): Promise<Printed[]> {
    const printed = printedAddresses(html, t.laurel.config.publicUrl);
    expect(printed.length).toBeGreaterThanOrEqual(least);
    const missing: string[] = [];
    for (const p of printed) {
      const statuses = await answers(p);
      // Each address answers at least one of the ways it can be used, and never 404.
      if (statuses.every((s) => s === 404))
        missing.push(`${p.methods.join('/')} ${p.path} (printed as "${p.text}")`);
    }
    expect(missing).toEqual([]);
    return printed;
  }

  for (const flavour of ['moodle', 'canvas'] as const) {
    it(`on the page that ends a ${flavour} registration`, async () => {
      const p = await startTestPlatform({
        toolUrl: t.laurel.config.publicUrl,
        flavour,
        host: '127.0.0.1',
        seedDemo: true,
      });
      platforms.push(p);
      const link = await admin(t, 'POST', '/registration-links', { name: `Check ${flavour}`, lms: flavour });
      const res = await follow(t, p.registrationStartUrl({ registrationUrl: link.body.url }));
      expect(res.status).toBe(200);
      const printed = await expectAllServed(res.body, 3);
      const id = /Laurel platform id<\/dt><dd><code>([0-9a-f]{24})<\/code>/.exec(res.body)?.[1];
      expect(id).toBeTruthy();
      const paths = printed.map((x) => x.path);
      expect(paths).toContain('/api/v1/events');
      expect(paths).toContain(`/api/v1/webhooks/${flavour}/${id}`);
      expect(paths).toContain(`/api/v1/platforms/${id}/issuer`);

      // The webhook address is the receiver of this very platform: signed, it is taken (Moodle's
      // connection test), and unsigned it is refused, not missing.
      const secret = /id="webhook-secret"[^>]*value="([0-9a-f]{64})"/.exec(res.body)![1]!;
      const url = `${t.url}/api/v1/webhooks/${flavour}/${id}`;
      if (flavour === 'moodle') {
        const raw = JSON.stringify({ platform: id, test: true });
        const signed = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-laurel-signature': signatureHeader(secret, raw) },
          body: raw,
        });
        expect(signed.status).toBe(200);
        expect(((await signed.json()) as { test: { platform: { id: string } } }).test.platform.id).toBe(id);
      }
      const unsigned = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(unsigned.status).toBe(401);
    });
  }

  it('on the page that refuses a registration without a link, and the one a person opening the link sees', async () => {
    const p = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour: 'moodle',
      host: '127.0.0.1',
    });
    platforms.push(p);
    const refused = await follow(
      t,
      p.registrationStartUrl({ registrationUrl: `${t.laurel.config.publicUrl}/lti/register` }),
    );
    expect(refused.status).toBe(403);
    await expectAllServed(refused.body, 1);
    const help = await follow(t, '/lti/register');
    expect(help.status).toBe(200);
    const printed = await expectAllServed(help.body, 3);
    expect(printed.map((x) => x.path)).toEqual(expect.arrayContaining(['/lti/login', '/lti/launch']));
  });
});
