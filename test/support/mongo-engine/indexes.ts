/**
 * Index specifications and unique-key bookkeeping. Unique indexes keep a key map for E11000;
 * every index that is neither sparse nor partial also keeps its keys in order (ordered-index.ts)
 * for the query planner (planner.ts), which only ever narrows candidates with them.
 */
import type { Document } from 'bson';
import type { Query } from 'mingo';
import { canonical, isPlainObject, toNumber, isNumeric } from './bson.js';
import { CommandError, fail } from './errors.js';
import { formatDocument } from './format.js';
import { OrderedIndex } from './ordered-index.js';
import { compileFilter } from './query.js';

const MISSING = Symbol('missing');

/** Options an index spec may carry; anything else is refused as mongod refuses it (197). */
const KNOWN_OPTIONS = new Set([
  'key',
  'name',
  'v',
  'unique',
  'sparse',
  'expireAfterSeconds',
  'partialFilterExpression',
  'background',
  'hidden',
  'ns',
  'collation',
  'storageEngine',
  'weights',
  'default_language',
  'language_override',
  'textIndexVersion',
  '2dsphereIndexVersion',
  'bits',
  'min',
  'max',
  'wildcardProjection',
  'prepareUnique',
]);
/** Options that change what the index is (mongod's "uniquely identifying" options). */
const IDENTIFYING = ['key', 'unique', 'sparse', 'partialFilterExpression', 'collation'];
/** Options that matter when comparing specs at all; v, background and ns do not. */
const COMPARED = [...IDENTIFYING, 'expireAfterSeconds', 'hidden'];

export const ID_INDEX_SPEC: Document = { v: 2, key: { _id: 1 }, name: '_id_' };

/** Validates a createIndexes entry and returns the spec as listIndexes will show it. */
export function normalizeSpec(raw: unknown): Document {
  if (!isPlainObject(raw)) fail(14, "BSON field 'createIndexes.indexes' contains a non-object entry");
  const shown = formatDocument(raw);
  for (const field of Object.keys(raw)) {
    if (!KNOWN_OPTIONS.has(field)) {
      fail(197, `The field '${field}' is not valid for an index specification. Specification: ${shown}`);
    }
  }
  const key = raw.key;
  if (!isPlainObject(key) || !Object.keys(key).length) {
    fail(67, `Error in specification ${shown} :: caused by :: The 'key' field must be a non-empty object`);
  }
  for (const [field, direction] of Object.entries(key)) {
    if (typeof direction === 'string') {
      fail(
        67,
        `Error in specification ${shown} :: caused by :: '${direction}' indexes are not supported by the Laurel test engine`,
      );
    }
    if (!isNumeric(direction) || toNumber(direction) === 0 || field.includes('$**')) {
      fail(
        67,
        `Error in specification ${shown} :: caused by :: Values in v:2 index key pattern cannot be of type ${typeof direction === 'object' ? 'object' : typeof direction}. Only numbers > 0, numbers < 0, and strings are allowed.`,
      );
    }
  }
  if (typeof raw.name !== 'string' || raw.name === '') {
    fail(
      9,
      `Error in specification ${shown} :: caused by :: The 'name' field is a required property of an index specification`,
    );
  }
  for (const unsupported of ['collation', 'weights', 'wildcardProjection', 'storageEngine']) {
    if (raw[unsupported] !== undefined)
      fail(67, `Index option '${unsupported}' is not supported by the Laurel test engine`);
  }
  const isId = Object.keys(key).length === 1 && key._id !== undefined;
  if (isId) {
    for (const option of ['unique', 'sparse', 'expireAfterSeconds', 'partialFilterExpression']) {
      if (raw[option] !== undefined) {
        fail(
          197,
          `The field '${option}' is not valid for an _id index specification. Specification: ${shown}`,
        );
      }
    }
  }
  if (raw.expireAfterSeconds !== undefined) {
    const seconds = toNumber(raw.expireAfterSeconds);
    if (!isNumeric(raw.expireAfterSeconds) || !(seconds >= 0) || seconds > 2147483647) {
      fail(
        2,
        `TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number. Specification: ${shown}`,
      );
    }
  }
  if (raw.partialFilterExpression !== undefined) {
    if (!isPlainObject(raw.partialFilterExpression))
      fail(2, "'partialFilterExpression' for an index must be a document");
    compileFilter(raw.partialFilterExpression);
  }
  // mongod lists v, key, name first, then the options as given (without the legacy ns/background noise kept).
  const spec: Document = { v: 2, key, name: raw.name };
  for (const [field, value] of Object.entries(raw)) {
    if (field === 'v' || field === 'key' || field === 'name' || field === 'ns') continue;
    if (field === 'unique' || field === 'sparse' || field === 'hidden') {
      // mongod stores these only when true.
      if (value === true || (isNumeric(value) && toNumber(value) !== 0)) spec[field] = true;
      continue;
    }
    spec[field] = value;
  }
  return spec;
}

export type Comparison = 'identical' | 'equivalent' | 'different';

export function compareSpecs(a: Document, b: Document): Comparison {
  const same = (field: string) => canonical(a[field] ?? null) === canonical(b[field] ?? null);
  if (!IDENTIFYING.every(same)) return 'different';
  return COMPARED.every(same) ? 'identical' : 'equivalent';
}

/** Every value a path reaches, expanding arrays as a multikey index does. */
function valuesAt(value: unknown, parts: string[]): unknown[] {
  if (value === undefined) return [MISSING];
  if (!parts.length) {
    if (Array.isArray(value)) return value.length ? value : [undefined];
    return [value];
  }
  const [head, ...rest] = parts;
  if (Array.isArray(value)) {
    if (/^\d+$/.test(head)) return valuesAt(value[Number(head)], rest);
    const found = value.flatMap((element) =>
      isPlainObject(element) ? valuesAt(element[head], rest) : [MISSING],
    );
    const present = found.filter((v) => v !== MISSING);
    return present.length ? present : [MISSING];
  }
  if (isPlainObject(value)) return valuesAt(value[head], rest);
  return [MISSING];
}

export interface IndexKey {
  text: string;
  value: Document;
}

export class Index {
  readonly name: string;
  readonly fields: string[];
  /** The top-level fields the keys come from. */
  private readonly tops: string[];
  readonly unique: boolean;
  private readonly sparse: boolean;
  private readonly partial: Query | undefined;
  /** For unique indexes: key text → record ids holding it. */
  private readonly entries = new Map<string, Set<number>>();
  /** Keys in order, for the planner; none for sparse and partial indexes (they leave documents out). */
  readonly ordered: OrderedIndex | undefined;

  constructor(
    readonly spec: Document,
    private readonly ns: string,
    /** False for a throwaway copy that only checks uniqueness (an index build's probe). */
    keepOrder = true,
  ) {
    this.name = String(spec.name);
    this.fields = Object.keys(spec.key as Document);
    this.tops = [...new Set(this.fields.map((field) => field.split('.')[0]))];
    this.unique = spec.unique === true || this.name === '_id_';
    this.sparse = spec.sparse === true;
    this.partial = spec.partialFilterExpression
      ? compileFilter(spec.partialFilterExpression as Document)
      : undefined;
    this.ordered =
      !keepOrder || this.sparse || this.partial
        ? undefined
        : new OrderedIndex(this.fields, spec.key as Document);
  }

  /** Hidden indexes are kept up to date but never chosen by the planner, as in mongod. */
  get hidden(): boolean {
    return this.spec.hidden === true;
  }

  /** Seconds after which a document expires, for a single-field TTL index. */
  get ttlSeconds(): number | undefined {
    if (this.spec.expireAfterSeconds === undefined || this.fields.length !== 1) return undefined;
    return toNumber(this.spec.expireAfterSeconds);
  }

  /**
   * False when `next` surely has the keys `previous` had: each indexed field's top-level value is
   * the very same (stored documents are never mutated, so the same object holds the same values).
   * A partial index's filter may read any field, so it always counts as changed.
   */
  mayDiffer(previous: Document, next: Document): boolean {
    if (this.partial) return true;
    for (const top of this.tops) if (previous[top] !== next[top]) return true;
    return false;
  }

  /** The last document keyed: a write checks a document for conflicts, then files it (same keys). */
  private memo: { doc: Document; keys: IndexKey[] } | undefined;

  /** The keys a document produces; none when sparse or partial leaves it out. */
  keysOf(doc: Document): IndexKey[] {
    // Stored documents are never mutated, so the same object has the same keys.
    if (this.memo?.doc === doc) return this.memo.keys;
    const keys = this.computeKeys(doc);
    this.memo = { doc, keys };
    return keys;
  }

  private computeKeys(doc: Document): IndexKey[] {
    if (this.partial && !this.partial.test(doc)) return [];
    const perField = this.fields.map((field) => valuesAt(doc, field.split('.')));
    if (this.sparse && perField.every((values) => values.every((v) => v === MISSING))) return [];
    const multikey = perField.filter((values) => values.length > 1);
    if (multikey.length > 1) fail(171, `cannot index parallel arrays [${this.fields.join('] [')}]`);
    // One value per field (no array on any path) is one tuple, the usual case.
    let tuples: unknown[][] = multikey.length ? [[]] : [perField.map((values) => values[0])];
    if (multikey.length) {
      for (const values of perField) tuples = tuples.flatMap((tuple) => values.map((v) => [...tuple, v]));
    }
    const seen = new Map<string, IndexKey>();
    for (const tuple of tuples) {
      const value: Document = {};
      // A missing field is indexed as null, as in MongoDB.
      this.fields.forEach((field, i) => (value[field] = tuple[i] === MISSING ? null : tuple[i]));
      const text = this.fields.map((field) => canonical(value[field])).join('|');
      seen.set(text, { text, value });
    }
    return [...seen.values()];
  }

  duplicateError(key: IndexKey, prefix = ''): CommandError {
    return new CommandError(
      11000,
      `${prefix}E11000 duplicate key error collection: ${this.ns} index: ${this.name} dup key: ${formatDocument(key.value)}`,
      { keyPattern: this.spec.key, keyValue: key.value },
    );
  }

  /** The duplicate-key error `doc` would cause, ignoring the record it replaces. */
  conflict(doc: Document, self?: number): CommandError | undefined {
    if (!this.unique) return undefined;
    for (const key of this.keysOf(doc)) {
      const holders = this.entries.get(key.text);
      if (holders && [...holders].some((id) => id !== self)) return this.duplicateError(key);
    }
    return undefined;
  }

  add(id: number, doc: Document): void {
    this.ordered?.add(id, doc);
    if (!this.unique) return;
    for (const key of this.keysOf(doc)) {
      const holders = this.entries.get(key.text) ?? new Set<number>();
      holders.add(id);
      this.entries.set(key.text, holders);
    }
  }

  remove(id: number, doc: Document): void {
    this.ordered?.remove(id, doc);
    if (!this.unique) return;
    for (const key of this.keysOf(doc)) {
      const holders = this.entries.get(key.text);
      holders?.delete(id);
      if (holders && !holders.size) this.entries.delete(key.text);
    }
  }
}
