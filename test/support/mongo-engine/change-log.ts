/**
 * The engine's oplog in replica-set mode: every stored change, in order, with the cluster time it
 * was written at. Change streams read it; getMores waiting for new entries (awaitData) are woken
 * when one is appended. Stored documents are never mutated (collection.ts), so entries keep
 * references to them instead of copies.
 */
import type { Document, Timestamp } from 'bson';
import { ClusterClock, compareTimestamps } from './cluster-clock.js';

export type ChangeOp = 'insert' | 'update' | 'replace' | 'delete' | 'drop' | 'dropDatabase';

/** What a collection or a drop reports; the log adds the time. */
export interface StoredChange {
  op: ChangeOp;
  db: string;
  /** Absent for dropDatabase. */
  coll?: string;
  /** The document before the write (update, replace, delete). */
  before?: Document;
  /** The document after the write (insert, update, replace). */
  after?: Document;
}

export interface ChangeEntry extends StoredChange {
  ts: Timestamp;
  wall: Date;
}

/**
 * How many entries are kept. mongod's oplog is a capped collection too: resuming from before the
 * oldest entry fails with ChangeStreamHistoryLost, as it does here.
 */
const DEFAULT_RETAINED = 200_000;

export class ChangeLog {
  private entries: ChangeEntry[] = [];
  private readonly waiters = new Set<() => void>();
  /** The time of the newest entry dropped to keep the log bounded (none yet: undefined). */
  private truncatedAt: Timestamp | undefined;

  constructor(
    readonly clock: ClusterClock,
    private readonly retained = DEFAULT_RETAINED,
  ) {}

  append(change: StoredChange): ChangeEntry {
    const entry: ChangeEntry = { ...change, ts: this.clock.tick(), wall: new Date() };
    this.entries.push(entry);
    if (this.entries.length > this.retained * 1.1) {
      const cut = this.entries.length - this.retained;
      this.truncatedAt = this.entries[cut - 1].ts;
      this.entries = this.entries.slice(cut);
    }
    for (const wake of [...this.waiters]) wake();
    return entry;
  }

  /** True when entries after `ts` may have been dropped (mongod: ChangeStreamHistoryLost). */
  lostAfter(ts: Timestamp): boolean {
    return this.truncatedAt !== undefined && compareTimestamps(ts, this.truncatedAt) < 0;
  }

  /** The index of the first entry written after `ts`. */
  indexAfter(ts: Timestamp): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (compareTimestamps(this.entries[mid].ts, ts) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The entry written exactly at `ts`, if it is still kept. */
  at(ts: Timestamp): ChangeEntry | undefined {
    const index = this.indexAfter(ts) - 1;
    const entry = this.entries[index];
    return entry && compareTimestamps(entry.ts, ts) === 0 ? entry : undefined;
  }

  entry(index: number): ChangeEntry | undefined {
    return this.entries[index];
  }

  get length(): number {
    return this.entries.length;
  }

  /** Calls `wake` on the next append; the returned function cancels. */
  onAppend(wake: () => void): () => void {
    const once = () => {
      this.waiters.delete(once);
      wake();
    };
    this.waiters.add(once);
    return () => this.waiters.delete(once);
  }
}
