/**
 * One collection: documents in insertion order (a Map keeps it, and replacement keeps a
 * document's place) and its indexes. Stored documents are never mutated, only replaced,
 * so open cursors keep the versions they were given.
 */
import { UUID, type Document } from 'bson';
import { fail } from './errors.js';
import { formatDocument } from './format.js';
import { ID_INDEX_SPEC, Index, compareSpecs } from './indexes.js';
import type { StoredChange } from './change-log.js';

export class Collection {
  readonly uuid = new UUID();
  readonly ns: string;
  private readonly docs = new Map<number, Document>();
  private nextId = 1;
  private readonly indexList: Index[];
  /** Told of every stored change (replica-set mode: the oplog); absent on a standalone. */
  onChange?: (change: StoredChange) => void;

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Document = {},
  ) {
    this.ns = `${db}.${name}`;
    this.indexList = [new Index(ID_INDEX_SPEC, this.ns)];
  }

  get size(): number {
    return this.docs.size;
  }

  get indexes(): readonly Index[] {
    return this.indexList;
  }

  documents(): Document[] {
    return [...this.docs.values()];
  }

  entries(): [number, Document][] {
    return [...this.docs.entries()];
  }

  get(id: number): Document | undefined {
    return this.docs.get(id);
  }

  private check(doc: Document, self?: number): void {
    for (const index of this.indexList) {
      const error = index.conflict(doc, self);
      if (error) throw error;
    }
  }

  /** Stores a new document (with its _id already set); a duplicate key throws 11000. */
  insert(doc: Document): number {
    this.check(doc);
    const id = this.nextId++;
    for (const index of this.indexList) index.add(id, doc);
    this.docs.set(id, doc);
    this.onChange?.({ op: 'insert', db: this.db, coll: this.name, after: doc });
    return id;
  }

  /** `kind` is what a change stream reports: an update by operators or pipeline, or a replacement. */
  replace(id: number, doc: Document, kind: 'update' | 'replace' = 'update'): void {
    const old = this.docs.get(id);
    if (!old) fail(1, `record ${id} vanished from ${this.ns} during a write`);
    // Only the indexes whose keys may have changed: an update rarely touches most of them.
    const touched = this.indexList.filter((index) => index.mayDiffer(old, doc));
    for (const index of touched) {
      const error = index.conflict(doc, id);
      if (error) throw error;
    }
    for (const index of touched) {
      index.remove(id, old);
      index.add(id, doc);
    }
    this.docs.set(id, doc);
    this.onChange?.({ op: kind, db: this.db, coll: this.name, before: old, after: doc });
  }

  remove(id: number): void {
    const old = this.docs.get(id);
    if (!old) return;
    for (const index of this.indexList) index.remove(id, old);
    this.docs.delete(id);
    this.onChange?.({ op: 'delete', db: this.db, coll: this.name, before: old });
  }

  findIndex(name: string): Index | undefined {
    return this.indexList.find((index) => index.name === name);
  }

  /**
   * Adds an index, as mongod's catalogue does: the same spec again is a no-op (false),
   * a clash by name or by key is an error, and a unique index over duplicates fails to build.
   */
  addIndex(spec: Document): boolean {
    const shown = formatDocument(spec);
    const byName = this.findIndex(String(spec.name));
    if (byName) {
      const comparison = compareSpecs(spec, byName.spec);
      if (comparison === 'identical') return false;
      if (comparison === 'different') {
        fail(
          86,
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${shown}, existing index: ${formatDocument(byName.spec)}`,
        );
      }
      fail(
        85,
        `An equivalent index already exists with the same name but different options. Requested index: ${shown}, existing index: ${formatDocument(byName.spec)}`,
      );
    }
    for (const existing of this.indexList) {
      const comparison = compareSpecs(spec, existing.spec);
      if (comparison === 'identical')
        fail(85, `Index already exists with a different name: ${existing.name}`);
      if (comparison === 'equivalent') {
        fail(
          85,
          `An equivalent index already exists with a different name and options. Requested index: ${shown}, existing index: ${formatDocument(existing.spec)}`,
        );
      }
    }
    const index = new Index(spec, this.ns);
    if (index.unique) {
      const probe = new Index(spec, this.ns, false);
      for (const [id, doc] of this.docs) {
        const error = probe.conflict(doc, id);
        if (error) {
          const prefix = `Index build failed: ${new UUID().toHexString()}: Collection ${this.ns} ( ${this.uuid.toHexString()} ) :: caused by :: `;
          throw probe.duplicateError({ text: '', value: (error.extra.keyValue ?? {}) as Document }, prefix);
        }
        probe.add(id, doc);
      }
    } else {
      // Still computed so that parallel arrays are refused when the index is built.
      for (const doc of this.docs.values()) index.keysOf(doc);
    }
    for (const [id, doc] of this.docs) index.add(id, doc);
    this.indexList.push(index);
    return true;
  }

  dropIndex(name: string): void {
    if (name === '_id_') fail(72, 'cannot drop _id index');
    const at = this.indexList.findIndex((index) => index.name === name);
    if (at < 0) fail(27, `index not found with name [${name}]`);
    this.indexList.splice(at, 1);
  }

  dropAllIndexes(): void {
    this.indexList.splice(1);
  }
}
