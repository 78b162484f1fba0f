/**
 * Server-side cursors: a result set handed out batch by batch through getMore, as mongod
 * does (first batch 101 documents unless told otherwise; every batch at most 16 MiB).
 */
import { randomBytes } from 'node:crypto';
import { BSON, Long, type Document } from 'bson';
import { bsonTypeName } from './bson.js';
import { fail } from './errors.js';

const DEFAULT_FIRST_BATCH = 101;
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

interface OpenCursor {
  ns: string;
  docs: Document[];
  position: number;
}

export class Cursors {
  private readonly open = new Map<string, OpenCursor>();

  private take(cursor: OpenCursor, count: number): Document[] {
    const batch: Document[] = [];
    let bytes = 0;
    while (batch.length < count && cursor.position < cursor.docs.length) {
      const doc = cursor.docs[cursor.position];
      bytes += BSON.calculateObjectSize(doc);
      if (batch.length && bytes > MAX_BATCH_BYTES) break;
      batch.push(doc);
      cursor.position++;
    }
    return batch;
  }

  private newId(): Long {
    for (;;) {
      const id = Long.fromBytesLE([...randomBytes(8)]).and(Long.MAX_VALUE);
      if (!id.isZero() && !this.open.has(id.toString())) return id;
    }
  }

  /** The reply to a command that opens a cursor (find, aggregate, list*). */
  first(ns: string, docs: Document[], batchSize?: number, singleBatch = false): Document {
    const cursor: OpenCursor = { ns, docs, position: 0 };
    const firstBatch = this.take(cursor, batchSize ?? DEFAULT_FIRST_BATCH);
    let id = Long.ZERO;
    if (!singleBatch && cursor.position < docs.length) {
      id = this.newId();
      this.open.set(id.toString(), cursor);
    }
    return { cursor: { firstBatch, id, ns }, ok: 1 };
  }

  more(idValue: unknown, ns: string, batchSize?: number): Document {
    if (!Long.isLong(idValue)) {
      fail(
        14,
        `BSON field 'getMore.getMore' is the wrong type '${bsonTypeName(idValue)}', expected type 'long'`,
      );
    }
    const key = idValue.toString();
    const cursor = this.open.get(key);
    if (!cursor) fail(43, `cursor id ${key} not found`);
    if (cursor.ns !== ns) {
      fail(
        13,
        `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`,
      );
    }
    // A getMore without batchSize returns everything left (up to the byte limit).
    const nextBatch = this.take(cursor, batchSize || Number.MAX_SAFE_INTEGER);
    let id: Long = idValue;
    if (cursor.position >= cursor.docs.length) {
      this.open.delete(key);
      id = Long.ZERO;
    }
    return { cursor: { nextBatch, id, ns }, ok: 1 };
  }

  kill(ids: unknown[]): { killed: Long[]; notFound: Long[] } {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const id of ids) {
      if (!Long.isLong(id)) {
        fail(
          14,
          `BSON field 'killCursors.cursors' contains an element of type '${bsonTypeName(id)}', expected type 'long'`,
        );
      }
      (this.open.delete(id.toString()) ? killed : notFound).push(id);
    }
    return { killed, notFound };
  }

  /** Cursors over a collection that is dropped die with it. */
  dropNamespace(ns: string): void {
    for (const [key, cursor] of this.open) if (cursor.ns === ns) this.open.delete(key);
  }

  clear(): void {
    this.open.clear();
  }
}
