import { Types } from 'mongoose';
import type { ProviderDeps, ProviderTransport } from '../../src/providers/http.js';
import { admin, registerTestPlatform } from '../support/api.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';

/**
 * Laurel as a web process only: no job runs by itself, so each test drives the provider outbox and
 * the sync with its own clock and transport, step by step.
 */
export async function startWebLaurel(): Promise<TestLaurel> {
  return startTestLaurel({ LAUREL_ROLE: 'web' });
}

/** Real HTTP to the fakes, giving up after `timeoutMs` (a "timeout" is then an unknown outcome). */
export function fetchTransport(timeoutMs = 1000): ProviderTransport {
  return async (req) => {
    const res = await fetch(req.url, {
      method: req.method,
      headers: {
        accept: 'application/json',
        ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...req.headers,
      },
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
  };
}

/** A clock the test moves, and a sleep that only records what it was asked to wait. */
export function testDeps(start = new Date('2026-03-01T10:00:00Z'), timeoutMs = 1000) {
  let now = start.getTime();
  const slept: number[] = [];
  const deps: ProviderDeps = {
    transport: fetchTransport(timeoutMs),
    now: () => new Date(now),
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
  return { deps, slept, advance: (ms: number) => (now += ms), at: () => new Date(now) };
}

export async function makePerson(
  t: TestLaurel,
  platformId: string,
  over: { userId?: string; name?: string | null; email?: string | null } = {},
) {
  const userId = over.userId ?? '57';
  return t.laurel.ctx.models.people.create({
    platformId: new Types.ObjectId(platformId),
    ids: [userId],
    lmsUserId: userId,
    name: over.name === undefined ? 'Ada Lovelace' : over.name,
    email: over.email === undefined ? 'ada@example.edu' : over.email,
    createKey: `${platformId}:${userId}`,
  });
}

/** A synced template given a requirement and activated, as an instructor would. */
export async function activateSynced(t: TestLaurel, templateId: string): Promise<void> {
  const patched = await admin(t, 'PATCH', `/templates/${templateId}`, {
    groups: [{ requirements: [{ event: 'course.completed' }] }],
  });
  if (patched.status !== 200) throw new Error(`patch failed: ${JSON.stringify(patched.body)}`);
  const activated = await admin(t, 'POST', `/templates/${templateId}/activate`);
  if (activated.status !== 200) throw new Error(`activate failed: ${JSON.stringify(activated.body)}`);
}

export { admin, registerTestPlatform };
