import { compactVerify, createLocalJWKSet, errors, type JSONWebKeySet } from 'jose';
import { outboundRequest, type OutboundPolicy } from '../../security/outboundFetch.js';

/** The key set Instructure publishes for signed Live Events (previous, current and next key; rotated monthly). */
export const CANVAS_LIVE_EVENTS_JWKS_URL = 'https://8axpcl50e4.execute-api.us-east-1.amazonaws.com/main/jwks';

/** How long a fetched key set is used before it is fetched again anyway. */
export const KEY_SET_MAX_AGE_MS = 10 * 60 * 1000;
/** An unknown `kid` fetches the set again, but at most once in this long per URL (a flood of bad kids stays cheap). */
export const KEY_SET_REFRESH_COOLDOWN_MS = 2 * 1000;

/** Why a signed message was refused; the message is for the log and the 401's text. */
export class LiveEventSignatureError extends Error {
  constructor(
    readonly reason: 'malformed' | 'key_set_unavailable' | 'unknown_key' | 'bad_signature',
    message: string,
  ) {
    super(message);
    this.name = 'LiveEventSignatureError';
  }
}

type CachedSet = {
  verify: ReturnType<typeof createLocalJWKSet>;
  kids: Set<string>;
  fetchedAt: number;
};

/**
 * The key sets that sign Live Events, fetched through Laurel's outgoing-request rules (public
 * addresses in production, time and size limits) and kept for KEY_SET_MAX_AGE_MS; a token naming a
 * `kid` the cached set lacks fetches the set again first (keys rotate monthly), at most once per
 * KEY_SET_REFRESH_COOLDOWN_MS. Only public keys are cached, so processes need not agree on it.
 */
export class LiveEventKeySets {
  private readonly cache = new Map<string, CachedSet>();
  private readonly inFlight = new Map<string, Promise<CachedSet>>();

  constructor(
    private readonly policy: OutboundPolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Verifies an RS256 compact JWS with the set at `url` and answers its payload bytes. */
  async verify(token: string, url: string): Promise<Uint8Array> {
    let kid: string | undefined;
    try {
      const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
        kid?: unknown;
      };
      kid = typeof header.kid === 'string' ? header.kid : undefined;
    } catch {
      throw new LiveEventSignatureError('malformed', 'The token header is not JSON.');
    }
    let set = await this.current(url);
    if (
      kid !== undefined &&
      !set.kids.has(kid) &&
      this.clock() - set.fetchedAt >= KEY_SET_REFRESH_COOLDOWN_MS
    )
      set = await this.fetch(url);
    if (kid !== undefined && !set.kids.has(kid))
      throw new LiveEventSignatureError(
        'unknown_key',
        `No key "${kid.slice(0, 100)}" in the Live Events key set.`,
      );
    try {
      const { payload } = await compactVerify(token, set.verify, { algorithms: ['RS256'] });
      return payload;
    } catch (err) {
      if (err instanceof errors.JWSSignatureVerificationFailed)
        throw new LiveEventSignatureError('bad_signature', 'The signature does not match the key set.');
      if (err instanceof errors.JOSEAlgNotAllowed)
        throw new LiveEventSignatureError('malformed', 'Only RS256 signatures are accepted.');
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
        throw new LiveEventSignatureError('unknown_key', 'No single key of the key set matches the token.');
      throw new LiveEventSignatureError(
        'malformed',
        `The token is not a valid JWS: ${(err as Error).message}`,
      );
    }
  }

  private async current(url: string): Promise<CachedSet> {
    const cached = this.cache.get(url);
    if (cached && this.clock() - cached.fetchedAt < KEY_SET_MAX_AGE_MS) return cached;
    try {
      return await this.fetch(url);
    } catch (err) {
      // A stale set still verifies what it can while the key set's host is down.
      if (cached) return cached;
      throw err;
    }
  }

  /** One fetch per URL at a time; concurrent callers share it. */
  private fetch(url: string): Promise<CachedSet> {
    const running = this.inFlight.get(url);
    if (running) return running;
    const started = this.load(url).finally(() => this.inFlight.delete(url));
    this.inFlight.set(url, started);
    return started;
  }

  private async load(url: string): Promise<CachedSet> {
    let jwks: JSONWebKeySet;
    try {
      const answer = await outboundRequest(this.policy, url, { headers: { accept: 'application/json' } });
      if (answer.status !== 200) throw new Error(`answered ${answer.status}`);
      jwks = JSON.parse(answer.body.toString('utf8')) as JSONWebKeySet;
      if (!jwks || !Array.isArray(jwks.keys)) throw new Error('no "keys" array');
    } catch (err) {
      throw new LiveEventSignatureError(
        'key_set_unavailable',
        `The Live Events key set could not be fetched: ${(err as Error).message}`,
      );
    }
    const kids = new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
    const set: CachedSet = { verify: createLocalJWKSet(jwks), kids, fetchedAt: this.clock() };
    this.cache.set(url, set);
    return set;
  }
}
