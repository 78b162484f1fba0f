import { signatureHeader } from '../../src/events/signature.js';
import { DEV_DEFAULTS } from './dev-env.js';
import type { TestLaurel } from './laurel.js';

export const ADMIN_KEY = DEV_DEFAULTS.ADMIN_API_KEY!;

export type ApiAnswer = { status: number; body: any; headers: Headers };

/** One admin API call over real HTTP. */
export async function admin(t: TestLaurel, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const res = await fetch(`${t.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

export type TestPlatformRecord = { id: string; issuer: string; webhookSecret: string };

let counter = 0;
/** Registers a platform through the admin API and returns its id and webhook secret. */
export async function registerTestPlatform(
  t: TestLaurel,
  over: Record<string, unknown> = {},
): Promise<TestPlatformRecord> {
  counter++;
  const issuer = (over.issuer as string) ?? `https://lms${counter}.example.edu`;
  const answer = await admin(t, 'POST', '/platforms', {
    name: `Test LMS ${counter}`,
    lms: 'moodle',
    issuer,
    clientId: `client-${counter}`,
    authLoginUrl: `${issuer}/mod/lti/auth.php`,
    authTokenUrl: `${issuer}/mod/lti/token.php`,
    jwksUrl: `${issuer}/mod/lti/certs.php`,
    deploymentIds: ['1'],
    ...over,
  });
  if (answer.status !== 201) throw new Error(`platform registration failed: ${JSON.stringify(answer.body)}`);
  return { id: answer.body.id, issuer, webhookSecret: answer.body.webhookSecret };
}

/** POSTs events signed as an LMS plugin would sign them. */
export async function sendEvents(
  t: TestLaurel,
  secret: string,
  body: unknown,
  options: { now?: number; signature?: string; raw?: string } = {},
): Promise<ApiAnswer> {
  const raw = options.raw ?? JSON.stringify(body);
  const res = await fetch(`${t.url}/api/v1/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-laurel-signature': options.signature ?? signatureHeader(secret, raw, options.now ?? Date.now()),
    },
    body: raw,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

let eventCounter = 0;
/** A generic learning event with sensible defaults. */
export function event(platform: string, over: Record<string, any> = {}) {
  eventCounter++;
  return {
    id: `evt-${Date.now()}-${eventCounter}`,
    type: 'activity.grade.updated',
    occurredAt: new Date().toISOString(),
    platform,
    course: { id: '101' },
    user: { id: '57', email: 'ada@example.edu', name: 'Ada Lovelace' },
    data: { activityId: 'quiz-1' },
    ...over,
  };
}

/** Waits until every stored event has been processed by the job queue. */
export async function settled(t: TestLaurel, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await t.laurel.ctx.models.events.countDocuments({
      status: { $in: ['pending', 'processing'] },
    });
    if (open === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('learning events were not processed in time');
}
