/** Shared set-up of the LTI tests: Laurel at a known PUBLIC_URL, and test LMS platforms registered with it. */
import { admin } from '../support/api.js';
import { freePort, startTestLaurel, type TestLaurel } from '../support/laurel.js';
import {
  decodeEntities,
  parseForms,
  startTestPlatform,
  type Flavour,
  type StartTestPlatformOptions,
  type TestPlatform,
} from '../support/lms-platform/index.js';

/** Laurel reached as localhost; the platforms run on 127.0.0.1, so the two are different sites, as in an LMS. */
export async function startLaurelForLti(
  env: Record<string, string> = {},
  options: Parameters<typeof startTestLaurel>[1] = {},
): Promise<TestLaurel> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      return await startTestLaurel(
        { PORT: String(port), PUBLIC_URL: `http://localhost:${port}`, ...env },
        options,
      );
    } catch (err) {
      if (attempt >= 2 || !String((err as Error).message).includes('EADDRINUSE')) throw err;
    }
  }
}

export type RegisteredPlatform = { platform: TestPlatform; id: string; webhookSecret: string };

/** A test LMS platform of one flavour, registered with Laurel through the admin API. */
export async function startRegisteredPlatform(
  t: TestLaurel,
  flavour: Flavour,
  options: Partial<StartTestPlatformOptions> = {},
  registration: Record<string, unknown> = {},
): Promise<RegisteredPlatform> {
  const platform = await startTestPlatform({
    toolUrl: t.laurel.config.publicUrl,
    flavour,
    host: '127.0.0.1',
    seedDemo: true,
    ...options,
  });
  const answer = await admin(t, 'POST', '/platforms', { ...platform.registrationInfo(), ...registration });
  if (answer.status !== 201) {
    await platform.close();
    throw new Error(`registering the ${flavour} platform failed: ${JSON.stringify(answer.body)}`);
  }
  return { platform, id: answer.body.id, webhookSecret: answer.body.webhookSecret };
}

/** The href values of a page's links, entities decoded. */
export function linksOf(html: string): string[] {
  const out: string[] = [];
  const re = /<a\s[^>]*href="([^"]*)"/g;
  for (let m = re.exec(html); m; m = re.exec(html)) out.push(decodeEntities(m[1]!));
  return out;
}

export function ltikOf(url: string): string | null {
  return new URL(url, 'http://x').searchParams.get('ltik');
}

/** A GET of a Laurel page with the page's own link, as the browser inside the iframe would follow it. */
export async function follow(
  t: TestLaurel,
  href: string,
): Promise<{ status: number; body: string; url: string }> {
  const url = new URL(href, t.url).toString();
  const res = await fetch(url, { headers: { accept: 'text/html' }, redirect: 'follow' });
  return { status: res.status, body: await res.text(), url: res.url };
}

export { parseForms };

/** Asserts a page is for people: no stack trace, no ltijs error codes. */
export function expectHumanPage(html: string): void {
  expect(html).toContain('<!doctype html>');
  expect(html).not.toMatch(/\bat [^\s]+ \(?[^\s]*\.(ts|js):\d+/);
  expect(html).not.toMatch(
    /MISSING_VALIDATION_COOKIE|NONCE_ALREADY_RECEIVED|UNREGISTERED_PLATFORM|"status":\s*401/,
  );
}
