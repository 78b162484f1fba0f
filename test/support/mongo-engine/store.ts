/** All databases and their collections, in memory; nothing outlives the process. */
import type { Document } from 'bson';
import { Collection } from './collection.js';
import { fail } from './errors.js';
import type { StoredChange } from './change-log.js';

export class Store {
  private readonly dbs = new Map<string, Map<string, Collection>>();
  /** Given to every collection (replica-set mode: the oplog's append). */
  onChange?: (change: StoredChange) => void;

  databaseNames(): string[] {
    return [...this.dbs.keys()].filter((name) => this.dbs.get(name)?.size);
  }

  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** The collection, created implicitly as a write or createIndexes does in MongoDB. */
  ensure(db: string, name: string): { collection: Collection; created: boolean } {
    const existing = this.get(db, name);
    if (existing) return { collection: existing, created: false };
    return { collection: this.create(db, name), created: true };
  }

  create(db: string, name: string, options: Document = {}): Collection {
    if (this.get(db, name)) fail(48, `Collection already exists. NS: ${db}.${name}`);
    let collections = this.dbs.get(db);
    if (!collections) {
      collections = new Map();
      this.dbs.set(db, collections);
    }
    const collection = new Collection(db, name, options);
    collection.onChange = this.onChange;
    collections.set(name, collection);
    return collection;
  }

  drop(db: string, name: string): Collection | undefined {
    const collection = this.get(db, name);
    if (collection) this.dbs.get(db)?.delete(name);
    return collection;
  }

  dropDatabase(db: string): void {
    this.dbs.delete(db);
  }

  all(): Collection[] {
    return [...this.dbs.values()].flatMap((collections) => [...collections.values()]);
  }
}
