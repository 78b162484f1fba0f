/**
 * The TTL monitor: removes documents whose indexed date is older than the index's
 * expireAfterSeconds. mongod sweeps every 60 s; test equipment sweeps every second by default.
 */
import type { Document } from 'bson';
import { datesUpTo } from './planner.js';
import type { Store } from './store.js';

/** The date a document expires by: the field's date, or the earliest date in an array. */
function expiryBase(doc: Document, path: string): number | undefined {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Document)[part];
  }
  const dates = (Array.isArray(value) ? value : [value]).filter((v): v is Date => v instanceof Date);
  if (!dates.length) return undefined;
  return Math.min(...dates.map((d) => d.getTime()));
}

export function sweepExpired(store: Store, now = Date.now()): number {
  let removed = 0;
  for (const collection of store.all()) {
    for (const index of collection.indexes) {
      const seconds = index.ttlSeconds;
      if (seconds === undefined) continue;
      const field = index.fields[0];
      const cutoff = now - seconds * 1000;
      // The index's ordered keys hold every date a document has there: only those up to the cutoff can expire.
      const ids = index.ordered ? datesUpTo(index.ordered, cutoff) : undefined;
      const entries = ids
        ? ids.map((id) => [id, collection.get(id)] as [number, Document | undefined])
        : collection.entries();
      for (const [id, doc] of entries) {
        if (!doc) continue;
        const base = expiryBase(doc, field);
        if (base !== undefined && base + seconds * 1000 <= now) {
          collection.remove(id);
          removed++;
        }
      }
    }
  }
  return removed;
}

export function startTtlMonitor(store: Store, intervalMs: number): () => void {
  const timer = setInterval(() => sweepExpired(store), intervalMs);
  // The sweeper alone must never keep a test process alive.
  timer.unref();
  return () => clearInterval(timer);
}
