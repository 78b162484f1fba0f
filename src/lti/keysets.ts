import type { JWK } from 'jose';

/** How long a fetched key set is used at most before it is fetched again. */
export const KEYSET_MAX_AGE_MS = 5 * 60_000;
/** A key id missing from a key set fetches it again, but at most this often per URL. */
export const KEYSET_REFETCH_COOLDOWN_MS = 30_000;

/** `missFetchAt`: when a missing key id last made this set be fetched again (for the cool-down). */
type Entry = { keys: JWK[]; fetchedAt: number; missFetchAt: number };

export type KeysetStats = { fetches: number; hits: number };

/**
 * The LMSs' public key sets (JWKS), fetched once and used for every launch until they are
 * KEYSET_MAX_AGE_MS old (OIDC clients cache them the same way; jose's default is 10 minutes): a
 * launch then costs no round trip to the LMS. An id_token signed with a key the stored set lacks
 * (the LMS rotated its key) fetches the set again at once; such fetches happen at most once per
 * KEYSET_REFETCH_COOLDOWN_MS per URL, so forged key ids cannot make Laurel hammer the LMS. A
 * failed fetch is not kept. Concurrent fetches of one URL share one request.
 *
 * Per process, and nothing has to agree: a key set is the LMS's public document; two processes
 * holding sets fetched at different moments accept the same tokens, except for a key the LMS
 * withdrew, which each stops accepting within KEYSET_MAX_AGE_MS.
 */
export class KeysetCache {
  readonly stats: KeysetStats = { fetches: 0, hits: 0 };
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();

  constructor(
    private readonly fetchKeys: (url: string) => Promise<JWK[]>,
    private readonly now: () => number = () => performance.now(),
    private readonly maxEntries = 1000,
  ) {}

  /** The key set at `url`, fresh enough, holding `kid` if the LMS publishes it. */
  async keys(url: string, kid?: string): Promise<JWK[]> {
    const entry = this.entries.get(url);
    const now = this.now();
    const fresh = entry !== undefined && now - entry.fetchedAt < KEYSET_MAX_AGE_MS;
    const lacksKid = kid !== undefined && !entry?.keys.some((k) => k.kid === kid);
    const coolingDown = entry !== undefined && now - entry.missFetchAt < KEYSET_REFETCH_COOLDOWN_MS;
    if (fresh && (!lacksKid || coolingDown)) {
      this.stats.hits++;
      return entry.keys;
    }
    return (await this.fetch(url, fresh && lacksKid)).keys;
  }

  /** The stored key set at `url` while it is fresh, without fetching (undefined otherwise). */
  stored(url: string): JWK[] | undefined {
    const entry = this.entries.get(url);
    if (!entry || this.now() - entry.fetchedAt >= KEYSET_MAX_AGE_MS) return undefined;
    this.stats.hits++;
    return entry.keys;
  }

  private fetch(url: string, forMissingKid: boolean): Promise<Entry> {
    let running = this.pending.get(url);
    if (!running) {
      this.stats.fetches++;
      const startedAt = this.now();
      const previousMiss = this.entries.get(url)?.missFetchAt ?? -Infinity;
      running = this.fetchKeys(url)
        .then((keys) => {
          const entry = {
            keys,
            fetchedAt: this.now(),
            missFetchAt: forMissingKid ? startedAt : previousMiss,
          };
          this.entries.delete(url);
          this.entries.set(url, entry);
          while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
          return entry;
        })
        .finally(() => this.pending.delete(url));
      this.pending.set(url, running);
    }
    return running;
  }
}
