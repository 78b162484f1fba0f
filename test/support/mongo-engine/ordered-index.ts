/**
 * The ordered side of an index: every document's keys, kept sorted, so that the planner can
 * narrow a query to the documents an equality, a range or a sort can reach.
 *
 * Matching stays mingo's (query.ts); these keys only ever choose *candidates*, and every
 * candidate is still tested with the whole filter. So a key must never leave out a document
 * mingo would match: extraction is generous (every value a path reaches, through arrays at
 * any depth, and null wherever a path runs out), and values are encoded so that two values
 * mingo calls equal get the same key, and the order within a type is mingo's order.
 *
 * Type ranks follow mingo's sort order across types (null < number < string < boolean < date <
 * objectId), which is what a sort answered from the index must reproduce. Values the planner
 * never looks up or sorts on (embedded documents, arrays, Long, Decimal128, regexes, NaN...)
 * share one "other" key and make the field unusable for sorting, as NaN does.
 */
import type { Document } from 'bson';
import { bsonTag, isPlainObject } from './bson.js';

export const RANK_NULL = 2;
/** NaN: mingo finds it "equal" to every number in $gte/$lte, so number ranges visit it too. */
export const RANK_NAN = 2.5;
export const RANK_NUMBER = 3;
export const RANK_STRING = 4;
export const RANK_BOOLEAN = 9;
export const RANK_DATE = 10;
export const RANK_OBJECT_ID = 20;
export const RANK_OTHER = 30;

export type Prim = number | string;

/** One index entry: its key as [rank0, value0, rank1, value1, ...] and the record it points to. */
export interface Entry {
  key: Prim[];
  id: number;
}

/** The key of a value a query may look up, or undefined when the planner leaves it to a scan. */
export function encodeQueryValue(value: unknown): [number, Prim] | undefined {
  if (value === null) return [RANK_NULL, 0];
  if (typeof value === 'string') return [RANK_STRING, value];
  if (typeof value === 'number')
    return Number.isNaN(value) ? undefined : [RANK_NUMBER, value === 0 ? 0 : value];
  if (typeof value === 'boolean') return [RANK_BOOLEAN, value ? 1 : 0];
  if (value instanceof Date) {
    const time = value.getTime();
    return Number.isNaN(time) ? undefined : [RANK_DATE, time];
  }
  if (bsonTag(value) === 'ObjectId')
    return [RANK_OBJECT_ID, (value as { toHexString(): string }).toHexString()];
  return undefined;
}

/** The key a stored value is filed under. */
function encodeStored(value: unknown): [number, Prim] {
  if (typeof value === 'number' && Number.isNaN(value)) return [RANK_NAN, 0];
  return encodeQueryValue(value) ?? [RANK_OTHER, ''];
}

const DIGITS = /^\d+$/;

interface FieldKeys {
  keys: Prim[];
  /** An array on the path, or a value that is not a plain sortable scalar. */
  unsortable: boolean;
  /** An array on the path: the field is multikey for this document. */
  multikey: boolean;
}

function push(acc: FieldKeys, rank: number, value: Prim): void {
  const keys = acc.keys;
  for (let i = 0; i < keys.length; i += 2) if (keys[i] === rank && keys[i + 1] === value) return;
  keys.push(rank, value);
}

function collect(value: unknown, parts: string[], at: number, acc: FieldKeys): void {
  if (value === undefined || value === null) {
    push(acc, RANK_NULL, 0);
    return;
  }
  if (Array.isArray(value)) {
    acc.unsortable = true;
    acc.multikey = true;
    if (!value.length) {
      // An empty array: no element to match, but the document still needs an entry.
      push(acc, at === parts.length ? RANK_OTHER : RANK_NULL, at === parts.length ? '' : 0);
      return;
    }
    if (at < parts.length && DIGITS.test(parts[at])) collect(value[Number(parts[at])], parts, at + 1, acc);
    for (const element of value) collect(element, parts, at, acc);
    return;
  }
  if (at === parts.length) {
    const [rank, key] = encodeStored(value);
    if (rank === RANK_OTHER || rank === RANK_NAN) acc.unsortable = true;
    push(acc, rank, key);
    return;
  }
  if (isPlainObject(value)) {
    const part = parts[at];
    collect(Object.prototype.hasOwnProperty.call(value, part) ? value[part] : undefined, parts, at + 1, acc);
    return;
  }
  // A scalar where the path goes on: the path is missing.
  push(acc, RANK_NULL, 0);
}

/** A sorted list in chunks: inserts and removals touch one small array, lookups are binary searches. */
const CHUNK = 256;

export interface Position {
  chunk: number;
  offset: number;
}

export class SortedEntries {
  private chunks: Entry[][] = [];
  size = 0;

  constructor(private readonly compare: (a: Entry, b: Entry) => number) {}

  /** The first position whose entry satisfies `after` (which must be false…false true…true). */
  lowerBound(after: (entry: Entry) => boolean): Position {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = chunks[mid];
      if (after(chunk[chunk.length - 1])) hi = mid;
      else lo = mid + 1;
    }
    if (lo === chunks.length) return { chunk: lo, offset: 0 };
    const chunk = chunks[lo];
    let a = 0;
    let b = chunk.length - 1;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (after(chunk[mid])) b = mid;
      else a = mid + 1;
    }
    return { chunk: lo, offset: a };
  }

  insert(entry: Entry): void {
    const compare = this.compare;
    // Keys that grow with time (ids, dates, counters) land after the last entry: one comparison
    // instead of a search from the top through chunks scattered in memory.
    const last = this.chunks[this.chunks.length - 1];
    if (last && compare(last[last.length - 1], entry) < 0) {
      this.size++;
      last.push(entry);
      if (last.length > 2 * CHUNK) this.chunks.push(last.splice(CHUNK));
      return;
    }
    const at = this.lowerBound((e) => compare(e, entry) > 0);
    this.size++;
    if (!this.chunks.length) {
      this.chunks.push([entry]);
      return;
    }
    // Past the end: append to the last chunk.
    const index = at.chunk === this.chunks.length ? at.chunk - 1 : at.chunk;
    const chunk = this.chunks[index];
    const offset = at.chunk === this.chunks.length ? chunk.length : at.offset;
    chunk.splice(offset, 0, entry);
    if (chunk.length > 2 * CHUNK) this.chunks.splice(index + 1, 0, chunk.splice(CHUNK));
  }

  remove(entry: Entry): boolean {
    const compare = this.compare;
    const at = this.lowerBound((e) => compare(e, entry) >= 0);
    const chunk = this.chunks[at.chunk];
    if (!chunk || compare(chunk[at.offset], entry) !== 0) return false;
    chunk.splice(at.offset, 1);
    if (!chunk.length) this.chunks.splice(at.chunk, 1);
    this.size--;
    return true;
  }

  /** The entry at a position, or undefined past either end. */
  at(position: Position): Entry | undefined {
    return this.chunks[position.chunk]?.[position.offset];
  }

  next(position: Position): Position {
    const chunk = this.chunks[position.chunk];
    if (chunk && position.offset + 1 < chunk.length)
      return { chunk: position.chunk, offset: position.offset + 1 };
    return { chunk: position.chunk + 1, offset: 0 };
  }

  previous(position: Position): Position {
    if (position.offset > 0) return { chunk: position.chunk, offset: position.offset - 1 };
    const chunk = position.chunk - 1;
    return { chunk, offset: chunk >= 0 ? this.chunks[chunk].length - 1 : 0 };
  }

  /** How many entries lie from `from` (included) to `to` (excluded). */
  countBetween(from: Position, to: Position): number {
    if (to.chunk < from.chunk || (to.chunk === from.chunk && to.offset <= from.offset)) return 0;
    if (from.chunk === to.chunk) return to.offset - from.offset;
    let n = (this.chunks[from.chunk]?.length ?? 0) - from.offset;
    for (let c = from.chunk + 1; c < to.chunk; c++) n += this.chunks[c].length;
    return n + to.offset;
  }

  /** Every entry in order (for tests that check the index against a rebuild). */
  toArray(): Entry[] {
    return this.chunks.flat();
  }
}

/** Compares two entries in the index's stored order (each field in its declared direction), then by record. */
export function entryComparator(directions: number[]): (a: Entry, b: Entry) => number {
  const n = directions.length;
  return (a, b) => {
    const ka = a.key;
    const kb = b.key;
    for (let f = 0; f < n; f++) {
      const ra = ka[2 * f];
      const rb = kb[2 * f];
      if (ra !== rb) return ra < rb ? -directions[f] : directions[f];
      const va = ka[2 * f + 1];
      const vb = kb[2 * f + 1];
      if (va !== vb) return va < vb ? -directions[f] : directions[f];
    }
    return a.id - b.id;
  };
}

/** Keys of one index over its fields, kept in sync with the collection's documents. */
export class OrderedIndex {
  readonly entries: SortedEntries;
  readonly directions: number[];
  private readonly paths: string[][];
  /** Per field: how many documents have an array or an unsortable value there. */
  readonly unsortable: number[];
  /** Per field: how many documents reach an array on the path. */
  readonly multikey: number[];

  constructor(
    readonly fields: string[],
    key: Document,
  ) {
    this.directions = fields.map((field) => (Number(String(key[field])) < 0 ? -1 : 1));
    this.paths = fields.map((field) => field.split('.'));
    this.entries = new SortedEntries(entryComparator(this.directions));
    this.unsortable = fields.map(() => 0);
    this.multikey = fields.map(() => 0);
  }

  /** Every key of a document (the product of its fields' keys), and what the fields held. */
  private keysOf(doc: Document): { keys: Prim[][]; perField: FieldKeys[] } {
    const perField = this.paths.map((parts) => {
      const acc: FieldKeys = { keys: [], unsortable: false, multikey: false };
      collect(doc, parts, 0, acc);
      return acc;
    });
    let keys: Prim[][] = [[]];
    for (const field of perField) {
      if (field.keys.length === 2) {
        for (const key of keys) key.push(field.keys[0], field.keys[1]);
        continue;
      }
      const next: Prim[][] = [];
      for (const key of keys) {
        for (let i = 0; i < field.keys.length; i += 2) next.push([...key, field.keys[i], field.keys[i + 1]]);
      }
      keys = next;
    }
    return { keys, perField };
  }

  private count(perField: FieldKeys[], delta: number): void {
    perField.forEach((field, i) => {
      if (field.unsortable) this.unsortable[i] += delta;
      if (field.multikey) this.multikey[i] += delta;
    });
  }

  add(id: number, doc: Document): void {
    const { keys, perField } = this.keysOf(doc);
    for (const key of keys) this.entries.insert({ key, id });
    this.count(perField, 1);
  }

  remove(id: number, doc: Document): void {
    const { keys, perField } = this.keysOf(doc);
    for (const key of keys) this.entries.remove({ key, id });
    this.count(perField, -1);
  }
}
