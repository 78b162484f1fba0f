import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { IssuerProfileDoc } from '../../db/models/issuerProfile.js';
import type { StatusListDoc } from '../../db/models/statusList.js';
import { publishedKey, publishedProfile } from '../../issuers/openbadges/issuerProfiles.js';
import { laurelResolver } from '../../issuers/openbadges/laurelDocuments.js';
import { parseLaurelUrl } from '../../issuers/openbadges/urls.js';
import { verifyDataIntegrityCredential, type VerificationResult } from '../../issuers/openbadges/verify.js';
import { asArray, checkDates, idOf, isObject, str } from '../../issuers/openbadges/verifyChecks.js';
import { HttpError } from '../../errors.js';
import type { PublicCredential } from './load.js';

/** Clock skew allowed on a credential's dates (the verifier's default, 5 minutes). */
const CLOCK_SKEW_SECONDS = 300;

export type VerificationCacheOptions = {
  /** Results kept per process, least recently used dropped first. */
  maxEntries?: number;
  /** How long a passing result is kept at most, although nothing it depends on changed. */
  validMs?: number;
  /**
   * How long a failing result is kept. Short: a failure may be passing trouble (the database did
   * not answer, a status list signed a moment ago on a process whose clock runs ahead).
   */
  invalidMs?: number;
  /** Cold verifications run at once in this process (each is tens of milliseconds of CPU). */
  maxConcurrent?: number;
  /** Cold verifications waiting for a turn before pages answer 503 instead of queueing more. */
  maxWaiting?: number;
};

export type VerificationCacheStats = {
  /** Verifications actually run (signature checked, status list read). */
  verifications: number;
  /** Page views answered from a stored result (or one already being computed). */
  hits: number;
  /** Verifications whose result was not stored: they read documents the key does not cover. */
  uncacheable: number;
  /** Page views refused with 503 because too many cold verifications were waiting. */
  shed: number;
};

type StoredResult = Omit<VerificationResult, 'credential'>;
/** `expiresAt` is on the performance.now() clock; Infinity while the verification runs. */
type Entry = { result: Promise<StoredResult>; expiresAt: number };

/** What a verification of one credential reads besides the credential: issuer profiles and status lists. */
type Snapshot = {
  profiles: Map<string, IssuerProfileDoc | null>;
  lists: Map<string, Pick<StatusListDoc, 'revision' | 'signedRevision'> | null>;
};

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/**
 * The verification result of the public page, computed once per (credential, its signed
 * content, the issuer profile it names, the revision of its status list) and reused for every
 * later view until one of those changes.
 *
 * It is a per-process cache, and its key holds everything the answer depends on, so processes
 * never disagree (ARCHITECTURE: no in-memory caches that must agree): each computes a result once,
 * and a revocation (which moves the status list's revision), a re-signed list (signedRevision),
 * a new issuer key or name (the published profile) or a re-signed credential (its content hash)
 * is a new key, seen by every process on its next view. The one time-dependent check, the
 * credential's dates, is recomputed on every view. The page's banner (revoked, expired) comes
 * from the credential document, read on every view, so a revocation shows at once.
 */
export class VerificationCache {
  readonly stats: VerificationCacheStats = { verifications: 0, hits: 0, uncacheable: 0, shed: 0 };
  private readonly entries = new Map<string, Entry>();
  private readonly options: Required<VerificationCacheOptions>;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly ctx: Context,
    options: VerificationCacheOptions = {},
  ) {
    this.options = {
      maxEntries: options.maxEntries ?? 2000,
      validMs: options.validMs ?? 15 * 60_000,
      invalidMs: options.invalidMs ?? 30_000,
      maxConcurrent: options.maxConcurrent ?? 2,
      maxWaiting: options.maxWaiting ?? 100,
    };
  }

  /** Forgets every stored result (tests, and an operator's escape hatch). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** The verification result of a credential's public page; null while it is not signed. */
  async verify(pc: PublicCredential): Promise<VerificationResult | null> {
    const signed = pc.credential.signed;
    if (!signed) return null;
    const snapshot = await this.snapshot(pc, signed);
    const key = cacheKey(this.ctx, String(pc.credential._id), signed, snapshot);
    let entry = this.entries.get(key);
    if (entry && entry.expiresAt <= performance.now()) {
      this.entries.delete(key);
      entry = undefined;
    }
    if (entry) {
      this.stats.hits++;
      // Least recently used goes first: a hit moves the entry to the end.
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      entry = this.compute(key, signed, snapshot);
    }
    const result = await entry.result;
    return withLiveDates(result, signed, this.ctx.now());
  }

  private compute(key: string, signed: Record<string, unknown>, snapshot: Snapshot): Entry {
    if (this.running >= this.options.maxConcurrent && this.waiting.length >= this.options.maxWaiting) {
      this.stats.shed++;
      throw new HttpError(
        503,
        'busy',
        'Too many credentials are being verified right now. Please reload the page in a few seconds.',
      );
    }
    // Shared by every view of the same key while it runs, so a burst of views verifies once.
    const entry = { expiresAt: Number.POSITIVE_INFINITY } as Entry;
    entry.result = (async () => {
      await this.turn();
      try {
        this.stats.verifications++;
        const read = { other: false, lists: new Map<string, string>() };
        const result = await verifyDataIntegrityCredential(signed, {
          resolvers: [snapshotResolver(this.ctx, snapshot, read)],
          now: this.ctx.now(),
          maxClockSkewSeconds: CLOCK_SKEW_SECONDS,
        });
        // Stored only if the verification read nothing but the documents the key names, as the
        // key names them (a status list re-signed meanwhile makes this result newer than its key).
        const exact =
          !read.other &&
          [...read.lists].every(([id, version]) => versionOf(snapshot.lists.get(id)) === version);
        if (!exact) {
          this.stats.uncacheable++;
          this.entries.delete(key);
        } else {
          // How long a result is kept is real time (not ctx.now, the clock credentials are judged by).
          entry.expiresAt =
            performance.now() + (result.valid ? this.options.validMs : this.options.invalidMs);
        }
        const { credential: _credential, ...stored } = result;
        return stored;
      } finally {
        this.release();
      }
    })();
    entry.result.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    this.entries.set(key, entry);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return entry;
  }

  private async turn(): Promise<void> {
    if (this.running < this.options.maxConcurrent) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    // The turn passes straight to the next waiter, so `running` stays as it is.
    if (next) next();
    else this.running--;
  }

  /** The issuer profiles and status list revisions the credential names, read now. */
  private async snapshot(pc: PublicCredential, signed: Record<string, unknown>): Promise<Snapshot> {
    const { issuers, lists } = laurelDocumentsNamedBy(this.ctx, signed);
    const profiles = new Map<string, IssuerProfileDoc | null>();
    const missing: string[] = [];
    for (const id of issuers) {
      if (pc.issuer && String(pc.issuer._id) === id) profiles.set(id, pc.issuer);
      else missing.push(id);
    }
    // The list the credential's page already read with it (same moment, same revisions) is not read again.
    const known = pc.statusList && lists.has(String(pc.statusList._id)) ? pc.statusList : null;
    const unread = [...lists].filter((id) => id !== String(known?._id));
    const [found, listDocs] = await Promise.all([
      missing.length
        ? this.ctx.models.issuerProfiles
            .find({ _id: { $in: missing.map((id) => new Types.ObjectId(id)) } })
            .lean<IssuerProfileDoc[]>()
        : [],
      unread.length
        ? this.ctx.models.statusLists
            .find(
              { _id: { $in: unread.map((id) => new Types.ObjectId(id)) } },
              { revision: 1, signedRevision: 1 },
            )
            .lean<Pick<StatusListDoc, '_id' | 'revision' | 'signedRevision'>[]>()
        : [],
    ]);
    for (const id of missing) profiles.set(id, found.find((p) => String(p._id) === id) ?? null);
    const listVersions: Snapshot['lists'] = new Map();
    for (const id of lists)
      listVersions.set(
        id,
        listDocs.find((l) => String(l._id) === id) ?? (id === String(known?._id) ? known : null),
      );
    return { profiles, lists: listVersions };
  }
}

const caches = new WeakMap<Context, VerificationCache>();

/** The verification cache of a Laurel (one per context, so tests running several never share one). */
export function verificationCache(ctx: Context, options?: VerificationCacheOptions): VerificationCache {
  let cache = caches.get(ctx);
  if (!cache) {
    cache = new VerificationCache(ctx, options);
    caches.set(ctx, cache);
  }
  return cache;
}

const versionOf = (list: Pick<StatusListDoc, 'revision' | 'signedRevision'> | null | undefined) =>
  list ? `${list.revision}.${list.signedRevision}` : 'none';

/** The ids of Laurel's issuer profiles (issuer, signing keys) and status lists a credential names. */
function laurelDocumentsNamedBy(ctx: Context, signed: Record<string, unknown>) {
  const issuers = new Set<string>();
  const lists = new Set<string>();
  const note = (url: string | null) => {
    const target = url ? parseLaurelUrl(ctx.config.publicUrl, url) : null;
    if (target?.kind === 'issuer') issuers.add(target.id);
    if (target?.kind === 'key') issuers.add(target.issuerId);
    if (target?.kind === 'statusList') lists.add(target.id);
  };
  note(idOf(signed.issuer));
  for (const proof of asArray(signed.proof as unknown[]))
    if (isObject(proof)) note(idOf(proof.verificationMethod));
  for (const entry of asArray(signed.credentialStatus as unknown[]))
    if (isObject(entry)) note(str(entry.statusListCredential));
  return { issuers, lists };
}

/**
 * Everything the verification result depends on: the credential, its signed content, the issuer
 * profiles as published (name, URL, keys) and the status lists' revisions. `revision` moves with
 * every revocation and `signedRevision` with every re-signed list (the only writes to `signed`).
 */
function cacheKey(ctx: Context, id: string, signed: Record<string, unknown>, snapshot: Snapshot): string {
  const profiles = [...snapshot.profiles]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([pid, p]) => `${pid}=${p ? sha256(JSON.stringify(publishedProfile(ctx, p))) : 'none'}`);
  const lists = [...snapshot.lists]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([lid, l]) => `${lid}=${versionOf(l)}`);
  return `${id}|${sha256(JSON.stringify(signed))}|${profiles.join(',')}|${lists.join(',')}`;
}

/**
 * Laurel's documents for the verification: the issuer profiles and keys from the snapshot the key
 * was made of, status lists from the database (noting which revision was read), anything else
 * through laurelResolver (noted, so the result is not stored under a key that does not cover it).
 */
function snapshotResolver(
  ctx: Context,
  snapshot: Snapshot,
  read: { other: boolean; lists: Map<string, string> },
) {
  const fallback = laurelResolver(ctx);
  return async (url: string): Promise<unknown> => {
    const target = parseLaurelUrl(ctx.config.publicUrl, url);
    if (!target) return undefined;
    if (target.kind === 'issuer' && snapshot.profiles.has(target.id)) {
      const profile = snapshot.profiles.get(target.id);
      return profile ? publishedProfile(ctx, profile) : undefined;
    }
    if (target.kind === 'key' && snapshot.profiles.has(target.issuerId)) {
      const profile = snapshot.profiles.get(target.issuerId);
      return (profile && publishedKey(ctx, profile, target.publicKeyMultibase)) ?? undefined;
    }
    if (target.kind === 'statusList') {
      const list = await ctx.models.statusLists.findById(target.id).lean<StatusListDoc>();
      read.lists.set(target.id, versionOf(list));
      return list?.signed ?? undefined;
    }
    read.other = true;
    return fallback(url);
  };
}

/** A stored result with its dates check made again for this moment (expiry needs no revision to change). */
function withLiveDates(stored: StoredResult, signed: Record<string, unknown>, now: Date): VerificationResult {
  const checks = stored.checks.map((c) =>
    c.check === 'expiry' ? checkDates(signed, now, CLOCK_SKEW_SECONDS * 1000) : c,
  );
  return { ...stored, credential: signed, checks, valid: checks.length > 0 && checks.every((c) => c.ok) };
}
