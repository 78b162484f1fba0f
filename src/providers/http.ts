import type { Config } from '../config.js';
import { lmsOutboundPolicy } from '../lti/registration.js';
import { OutboundError, outboundRequest } from '../security/outboundFetch.js';

/**
 * The one way Laurel talks to Credly and Accredible: a request, an answer, and every failure as a
 * ProviderError that says whether trying again can help. The transport is injectable so that tests
 * (and the retry logic) never wait for real time or a real network.
 */

export type ProviderRequest = {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
};
export type ProviderAnswer = { status: number; headers: Record<string, string | undefined>; text: string };
export type ProviderTransport = (req: ProviderRequest) => Promise<ProviderAnswer>;

/** What the provider code needs from outside: the transport, a clock, and a way to wait. */
export type ProviderDeps = {
  transport: ProviderTransport;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
};

/**
 * - `network`: no answer (timeout, refused, cut): the outcome of a POST is unknown.
 * - `rate-limited`: 429; `retryAfterMs` holds the service's Retry-After when it sent one (as it does
 *   for a 503, which says how long the service expects to be unavailable).
 * - `server`: 5xx. `validation`: 422 (or 400): the service refused the content; retrying the same
 *   request cannot help. `auth`: 401/403, a configuration problem. `not-found`: 404. `client`: other 4xx.
 */
export type ProviderErrorKind =
  'network' | 'rate-limited' | 'server' | 'validation' | 'auth' | 'not-found' | 'client';

export class ProviderError extends Error {
  constructor(
    readonly provider: 'credly' | 'accredible',
    readonly kind: ProviderErrorKind,
    message: string,
    readonly status: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
  /** Whether the same request may succeed later (backoff applies). */
  get retryable(): boolean {
    return this.kind === 'network' || this.kind === 'server' || this.kind === 'rate-limited';
  }
}

/** Retry-After in milliseconds: delta seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}

/**
 * The human part of a service's error body, whatever shape it came in: Credly's
 * `{errors:[{message,field}]}` or `{data:{message}}`, Accredible's `errors` (a string, a list or a
 * field map), `error`, `data`, or plain text.
 */
export function errorMessageOf(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim().slice(0, 500) || '(no message)';
  }
  const describe = (value: unknown): string | null => {
    if (value == null) return null;
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) {
      const parts = value.map(describe).filter((p): p is string => !!p);
      return parts.length ? parts.join('; ') : null;
    }
    if (typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (typeof o.message === 'string')
        return typeof o.field === 'string' && o.field ? `${o.field}: ${o.message}` : o.message;
      const parts = Object.entries(o).map(([k, v]) => {
        const d = describe(v);
        return d ? `${k} ${d}` : null;
      });
      const joined = parts.filter((p): p is string => !!p);
      return joined.length ? joined.join('; ') : null;
    }
    return String(value);
  };
  if (body && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    for (const key of ['errors', 'error', 'message', 'data']) {
      const d = describe(o[key]);
      if (d) return d.slice(0, 500);
    }
  }
  return text.trim().slice(0, 500) || '(no message)';
}

/** Sends a request and returns its JSON body (null for an empty body), or throws a ProviderError. */
export async function callJson(
  deps: ProviderDeps,
  provider: 'credly' | 'accredible',
  req: ProviderRequest,
): Promise<unknown> {
  let answer: ProviderAnswer;
  try {
    answer = await deps.transport(req);
  } catch (err) {
    throw new ProviderError(
      provider,
      'network',
      `${provider} could not be reached: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const { status } = answer;
  if (status >= 200 && status < 300) {
    if (!answer.text.trim()) return null;
    try {
      return JSON.parse(answer.text);
    } catch {
      throw new ProviderError(
        provider,
        'server',
        `${provider} answered ${status} with a body that is not JSON`,
        status,
      );
    }
  }
  const message = errorMessageOf(answer.text);
  const kind: ProviderErrorKind =
    status === 429
      ? 'rate-limited'
      : status >= 500
        ? 'server'
        : status === 401 || status === 403
          ? 'auth'
          : status === 404
            ? 'not-found'
            : status === 422 || status === 400
              ? 'validation'
              : 'client';
  const retryAfterMs =
    status === 429 || status === 503 ? parseRetryAfter(answer.headers['retry-after'], deps.now()) : null;
  throw new ProviderError(provider, kind, message, status, retryAfterMs);
}

const TIMEOUT_MS = 15_000;
const MAX_BYTES = 4 * 1024 * 1024;

/**
 * The production transport: outboundRequest under the same policy as calls to an LMS (in production
 * only public addresses, unless LMS_ALLOWED_HOSTS names the host: a private `baseUrl` needs it too).
 */
export function defaultTransport(config: Pick<Config, 'env' | 'lmsAllowedHosts'>): ProviderTransport {
  const policy = { ...lmsOutboundPolicy(config), timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES };
  return async (req) => {
    try {
      const answer = await outboundRequest(policy, req.url, {
        method: req.method,
        headers: {
          accept: 'application/json',
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...req.headers,
        },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
      });
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(answer.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      return { status: answer.status, headers, text: answer.body.toString('utf8') };
    } catch (err) {
      if (err instanceof OutboundError) throw new Error(`${err.reason}: ${err.message}`);
      throw err;
    }
  };
}

export function defaultProviderDeps(ctx: { config: Config; now: () => Date }): ProviderDeps {
  return {
    transport: defaultTransport(ctx.config),
    now: ctx.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/**
 * Reads (GETs, searches) are safe to repeat: up to `tries` attempts in-process on retryable errors,
 * waiting Retry-After, or the service's rate window on a bare 429 (`rateLimitMs`), or a growing delay;
 * a wait over `maxWaitMs` gives up instead. Writes never go through this.
 */
export async function withReadRetries<T>(
  deps: ProviderDeps,
  read: () => Promise<T>,
  options: { tries?: number; baseMs?: number; rateLimitMs?: number; maxWaitMs?: number } = {},
): Promise<T> {
  const tries = options.tries ?? 4;
  const baseMs = options.baseMs ?? 500;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof ProviderError) || !err.retryable || attempt >= tries) throw err;
      // A 429 without Retry-After waits the service's counting window; other failures back off quickly.
      const wait =
        err.retryAfterMs ??
        (err.kind === 'rate-limited' ? (options.rateLimitMs ?? baseMs) : baseMs * 2 ** (attempt - 1));
      if (wait > maxWaitMs) throw err;
      await deps.sleep(wait);
    }
  }
}
