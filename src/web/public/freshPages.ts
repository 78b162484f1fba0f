import type { Connection } from 'mongoose';
import { perContext, type Context } from '../../context.js';

/**
 * Finished verification pages (the HTML of `/credentials/:id`), reused for a moment: a page view
 * costs six reads (credential, template, learner, issuer profile, sharing, status list) and a
 * render, and a page shared on a social network is viewed by many at once.
 *
 * How fresh a reused page is, honestly:
 * - In this process: exact. Any write this process makes to the collections a page is made of
 *   (credentials, people, templates, issuer profiles, badge sharings, status lists), through any
 *   model or raw collection of a watched connection, drops every stored page at once (a revocation,
 *   a hidden badge, a renamed learner show on the next view). A page whose reads overlapped such a
 *   write is never reused.
 * - Made by another process: shown at most `PUBLIC_PAGE_FRESH_MS` late (1 s by default; 0 turns
 *   the reuse off). Nothing is shared between processes and nothing has to agree (ARCHITECTURE: a
 *   per-process cache), so that delay is the whole bound. The public status list a verifier reads
 *   is not cached here, and the signed JSON and downloads are read on every request.
 * - Time: a page is not reused once the credential's expiry has passed since it was made, nor if
 *   the clock moved backwards.
 *
 * Rate limits and admission still run for every view (they come before the route).
 */
export type FreshPagesStats = { hits: number; stored: number; dropped: number };

type Entry = {
  html: string;
  /** The write generation when the page's reads began: a later write makes it stale. */
  generation: number;
  /** ctx.now() when the page's reads began. */
  madeAt: number;
  /** The credential's expiry, if any (ms since the epoch). */
  expiresAt: number | null;
};

/** Collections a verification page is made of (their names in MongoDB). */
const PAGE_COLLECTIONS = new Set([
  'credentials',
  'people',
  'templates',
  'issuer_profiles',
  'badge_sharings',
  'status_lists',
]);
/** The collection methods that may change documents (mongoose's operation events name them). */
const WRITES = new Set([
  'insertOne',
  'insertMany',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndReplace',
  'findOneAndDelete',
  'bulkWrite',
  'drop',
]);

/**
 * Bumped when a watched write starts and again when it ends, process-wide (several Laurel instances
 * in one process, as tests run them, see each other's writes).
 */
let generation = 0;
const watched = new WeakSet<Connection>();

/**
 * Watches a connection's writes to the page collections. Mongoose reports every collection call
 * (model queries, documents saved and raw `model.collection` calls alike) as operation events.
 */
export function watchPageWrites(connection: Connection): void {
  if (watched.has(connection)) return;
  watched.add(connection);
  const onWrite = (op: { collectionName?: string; method?: string }) => {
    if (op.method && WRITES.has(op.method) && op.collectionName && PAGE_COLLECTIONS.has(op.collectionName))
      generation++;
  };
  connection.on('operation-start', onWrite);
  connection.on('operation-end', onWrite);
}

export class FreshPages {
  readonly stats: FreshPagesStats = { hits: 0, stored: 0, dropped: 0 };
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ctx: Pick<Context, 'now'>,
    private readonly freshMs: number,
    private readonly maxEntries = 200,
  ) {}

  /** A stored page still fresh for this credential and holder key, if any. */
  get(credentialId: string, holderKey: string | null): string | undefined {
    if (this.freshMs <= 0) return undefined;
    const key = entryKey(credentialId, holderKey);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (!this.fresh(entry, this.ctx.now().getTime())) {
      this.entries.delete(key);
      this.stats.dropped++;
      return undefined;
    }
    this.stats.hits++;
    return entry.html;
  }

  /** Taken before a page's reads: what `store` needs to know whether they overlapped a write. */
  begin(): { generation: number; madeAt: number } {
    return { generation, madeAt: this.ctx.now().getTime() };
  }

  store(
    credentialId: string,
    holderKey: string | null,
    html: string,
    made: { generation: number; madeAt: number },
    expiresAt: Date | null | undefined,
  ): void {
    if (this.freshMs <= 0 || made.generation !== generation) return;
    const key = entryKey(credentialId, holderKey);
    this.entries.delete(key);
    this.entries.set(key, { html, ...made, expiresAt: expiresAt ? expiresAt.getTime() : null });
    this.stats.stored++;
    if (this.entries.size > this.maxEntries) this.prune();
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private fresh(entry: Entry, now: number): boolean {
    if (entry.generation !== generation) return false;
    const age = now - entry.madeAt;
    if (age < 0 || age >= this.freshMs) return false;
    // Made before the expiry and now past it: the page would still say valid.
    return !(entry.expiresAt !== null && entry.madeAt < entry.expiresAt && now >= entry.expiresAt);
  }

  /** Drops stale pages, then the oldest ones, down to the bound (memory stays small: pages live a second). */
  private prune(): void {
    const now = this.ctx.now().getTime();
    for (const [key, entry] of this.entries) if (!this.fresh(entry, now)) this.entries.delete(key);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** Holder keys are hex or base64url; a separator they cannot contain keeps the pairs apart. */
const entryKey = (credentialId: string, holderKey: string | null) => `${credentialId} ${holderKey ?? ''}`;

/** The fresh pages of a Laurel, watching the writes of its connection. */
export const freshPages = perContext((ctx) => {
  watchPageWrites(ctx.models.credentials.db);
  return new FreshPages(ctx, ctx.config.publicPageFreshMs);
});
