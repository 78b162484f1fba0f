import { createRequire } from 'node:module';
import type { JWK } from 'jose';
import { perContext, type Context } from '../context.js';
import { outboundRequest } from '../security/outboundFetch.js';
import { KeysetCache } from './keysets.js';
import { refusal } from './refusals.js';
import { lmsOutboundPolicy } from './registration.js';

const KEYS_TIMEOUT_MS = 5_000;
const MAX_KEYSET_BYTES = 256 * 1024;

/**
 * The platform's public keys, fetched under the same rules as every request to an LMS: in
 * production only public addresses (or LMS_ALLOWED_HOSTS), a time limit, a size cap.
 */
async function fetchKeyset(ctx: Context, url: string): Promise<JWK[]> {
  let answer: Awaited<ReturnType<typeof outboundRequest>>;
  try {
    answer = await outboundRequest(
      { ...lmsOutboundPolicy(ctx.config), timeoutMs: KEYS_TIMEOUT_MS, maxBytes: MAX_KEYSET_BYTES },
      url,
      { headers: { accept: 'application/json' } },
    );
  } catch (err) {
    ctx.logger.warn({ err, url }, "the LMS's key set could not be fetched");
    throw refusal.keysUnreachable();
  }
  if (answer.status < 200 || answer.status >= 300) throw refusal.keysUnreachable();
  try {
    const keys = (JSON.parse(answer.body.toString('utf8')) as { keys?: unknown }).keys;
    if (!Array.isArray(keys)) throw new Error('no keys');
    return keys as JWK[];
  } catch {
    throw refusal.keysUnreachable();
  }
}

/** Every Laurel's cache in this process, for ltijs's key set request (which names no Laurel). */
const live = new Set<WeakRef<KeysetCache>>();

/** The key sets of a Laurel's platforms (fetched under its outbound rules). */
export const platformKeysets = perContext((ctx) => {
  const cache = new KeysetCache((url) => fetchKeyset(ctx, url));
  live.add(new WeakRef(cache));
  return cache;
});

function storedKeys(url: string): JWK[] | undefined {
  for (const ref of live) {
    const cache = ref.deref();
    if (!cache) {
      live.delete(ref);
      continue;
    }
    const keys = cache.stored(url);
    if (keys) return keys;
  }
  return undefined;
}

/**
 * ltijs fetches the platform's key set on every launch it validates (`got.get(url).json()` in its
 * Auth.validateToken, its only one-argument `get`), outside Laurel's outbound rules. Its HTTP client
 * is answered here from Laurel's key set cache when it holds that URL fresh (Laurel fetched it
 * before ltijs runs, see preLaunchChecks); anything else goes to ltijs's client as before.
 */
const ltijsHttp = createRequire(import.meta.url)('ltijs/dist/Utils/Http.js') as {
  get: (...args: unknown[]) => unknown;
};
const ltijsGet = ltijsHttp.get;
ltijsHttp.get = function (this: unknown, ...args: unknown[]) {
  if (args.length === 1 && typeof args[0] === 'string') {
    const keys = storedKeys(args[0]);
    if (keys) return { json: () => Promise.resolve({ keys: structuredClone(keys) }) };
  }
  return ltijsGet.apply(this, args);
};
