import { AsyncLocalStorage } from 'node:async_hooks';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { LtiDatabasePlugin } from 'ltijs';
import type { Collection, Db, Document } from 'mongodb';
import type { Connection } from 'mongoose';

/**
 * ltijs's storage, on Laurel's own connection (the `database.plugin` ltijs accepts). Its built-in
 * store uses the global mongoose 7 singleton, which allows one connection per process and a
 * collection named `platforms` that clashes with Laurel's; here every collection is prefixed
 * `lti_` and lives and dies with the Laurel instance that owns the connection.
 */
const COLLECTIONS: Record<
  string,
  { name: string; ttlSeconds?: number; unique?: Document[]; indexes?: Document[] }
> = {
  idtoken: {
    name: 'lti_id_tokens',
    ttlSeconds: 24 * 3600,
    indexes: [{ iss: 1, clientId: 1, deploymentId: 1, user: 1 }],
  },
  contexttoken: { name: 'lti_context_tokens', ttlSeconds: 24 * 3600, indexes: [{ contextId: 1, user: 1 }] },
  platform: { name: 'lti_platforms', unique: [{ platformUrl: 1, clientId: 1 }, { kid: 1 }] },
  platformStatus: { name: 'lti_platform_statuses', unique: [{ id: 1 }] },
  privatekey: { name: 'lti_private_keys', unique: [{ kid: 1 }] },
  publickey: { name: 'lti_public_keys', unique: [{ kid: 1 }] },
  accesstoken: {
    name: 'lti_access_tokens',
    ttlSeconds: 3600,
    unique: [{ platformUrl: 1, clientId: 1, scopes: 1 }],
  },
  // ltijs keeps nonces 10 s; kept longer here so that a replay is refused whatever the token's age
  // checks, and unique so that two concurrent replays cannot both pass ltijs's read-then-insert.
  nonce: { name: 'lti_nonces', ttlSeconds: 2 * 3600, unique: [{ nonce: 1 }] },
  state: { name: 'lti_states', ttlSeconds: 600, unique: [{ state: 1 }] },
};

export const NONCE_REUSED = 'NONCE_ALREADY_RECEIVED';

type Sealed = { iv: string; data: string };

/** What a login or launch reads several times (Laurel's checks, then ltijs's): a platform and its status. */
const READ_ONCE_PER_REQUEST = new Set(['platform', 'platformStatus']);
type Found = Record<string, unknown>[] | false;
/** Where a platform read within a request carries its status records (a field no record has). */
const STATUSES = '__laurelStatuses';

export class LtiDatabase implements LtiDatabasePlugin {
  private readonly keys = new Map<string, Buffer>();
  private readonly requestReads = new AsyncLocalStorage<Map<string, Promise<Found>>>();

  constructor(private readonly connection: Connection) {}

  private get db(): Db {
    const db = this.connection.db;
    if (!db) throw new Error('the LTI store needs an open database connection');
    return db;
  }

  /** The collection behind one of ltijs's names. */
  collection(name: string): Collection {
    const spec = COLLECTIONS[name];
    if (!spec) throw new Error(`ltijs asked for an unknown collection "${name}"`);
    return this.db.collection(spec.name);
  }

  async setup(): Promise<boolean> {
    for (const spec of Object.values(COLLECTIONS)) {
      const collection = this.db.collection(spec.name);
      if (spec.ttlSeconds)
        await collection.createIndex({ createdAt: 1 }, { expireAfterSeconds: spec.ttlSeconds });
      for (const keys of spec.unique ?? []) await collection.createIndex(keys, { unique: true });
      for (const keys of spec.indexes ?? []) await collection.createIndex(keys);
    }
    return true;
  }

  /** The connection belongs to Laurel, which closes it; nothing of ltijs's own stays open. */
  async Close(): Promise<boolean> {
    return true;
  }

  /**
   * Runs the rest of a request (`next`) with its own memory of platform reads: Laurel's login checks
   * and ltijs's login read the same platform record and status, once now. Nothing outlives the
   * request, so a platform changed by an administrator is seen by the next request.
   */
  readOncePerRequest(next: () => void): void {
    this.requestReads.run(new Map(), next);
  }

  async Get(key: string | false, name: string, query: Record<string, unknown> = {}): Promise<Found> {
    const reads = key === false && READ_ONCE_PER_REQUEST.has(name) ? this.requestReads.getStore() : undefined;
    if (!reads) return this.read(key, name, query);
    const id = JSON.stringify([name, query]);
    let read = reads.get(id);
    if (!read) {
      read = name === 'platform' ? this.readPlatformsWithStatus(query, reads) : this.read(key, name, query);
      reads.set(id, read);
    }
    // Copies: ltijs and Laurel each get records of their own.
    return read.then((docs) => docs && docs.map((doc) => ({ ...doc })));
  }

  /**
   * Within a request, a platform record is read with its status (ltijs asks for it next, by the
   * record's `kid`, and so do Laurel's checks): one round trip instead of two. The status is kept as
   * that request's answer to `Get(false, 'platformStatus', { id: kid })`.
   */
  private async readPlatformsWithStatus(
    query: Record<string, unknown>,
    reads: Map<string, Promise<Found>>,
  ): Promise<Found> {
    const docs = await this.collection('platform')
      .aggregate([
        { $match: query },
        {
          $lookup: {
            from: COLLECTIONS.platformStatus!.name,
            localField: 'kid',
            foreignField: 'id',
            as: STATUSES,
          },
        },
        { $project: { _id: 0, [`${STATUSES}._id`]: 0 } },
      ])
      .toArray();
    for (const doc of docs) {
      const statuses = doc[STATUSES] as Record<string, unknown>[];
      delete doc[STATUSES];
      const statusId = JSON.stringify(['platformStatus', { id: doc.kid }]);
      if (typeof doc.kid === 'string' && !reads.has(statusId))
        reads.set(statusId, Promise.resolve(statuses.length ? statuses : false));
    }
    return docs.length ? docs : false;
  }

  private async read(key: string | false, name: string, query: Record<string, unknown>): Promise<Found> {
    // ltijs reads a nonce before inserting it; the insert alone decides (the unique index refuses a
    // nonce seen before, with the error ltijs's read would give, even for two replays at once), so
    // the read is a round trip per launch that can only agree with it.
    if (name === 'nonce') return false;
    const docs = await this.collection(name)
      .find(query, { projection: { _id: 0 } })
      .toArray();
    if (docs.length === 0) return false;
    if (!key) return docs as Record<string, unknown>[];
    return docs.map((doc) => {
      const value = JSON.parse(this.open(doc as unknown as Sealed, key)) as Record<string, unknown>;
      if (doc.createdAt instanceof Date) value.createdAt = doc.createdAt.getTime();
      return value;
    });
  }

  async Insert(
    key: string | false,
    name: string,
    item: Record<string, unknown>,
    index?: Record<string, unknown>,
  ) {
    try {
      await this.collection(name).insertOne(this.document(key, name, item, index));
    } catch (err) {
      if (name === 'nonce' && (err as { code?: number }).code === 11000) throw new Error(NONCE_REUSED);
      throw err;
    }
    return true;
  }

  async Replace(
    key: string | false,
    name: string,
    query: Record<string, unknown>,
    item: Record<string, unknown>,
    index?: Record<string, unknown>,
  ) {
    await this.collection(name).replaceOne(query, this.document(key, name, item, index), { upsert: true });
    return true;
  }

  async Modify(
    key: string | false,
    name: string,
    query: Record<string, unknown>,
    modification: Record<string, unknown>,
  ) {
    const collection = this.collection(name);
    if (!key) {
      await collection.updateOne(query, { $set: modification });
      return true;
    }
    const found = await collection.findOne(query);
    if (!found) return true;
    const value = { ...(JSON.parse(this.open(found as unknown as Sealed, key)) as object), ...modification };
    await collection.updateOne(query, { $set: this.seal(JSON.stringify(value), key) });
    return true;
  }

  async Delete(name: string, query: Record<string, unknown>) {
    await this.collection(name).deleteMany(query);
    return true;
  }

  private document(
    key: string | false,
    name: string,
    item: Record<string, unknown>,
    index?: Record<string, unknown>,
  ): Document {
    const body: Document = key ? { ...index, ...this.seal(JSON.stringify(item), key) } : { ...item };
    // A fresh createdAt restarts the expiry, as ltijs's schema default does on each write.
    if (COLLECTIONS[name]?.ttlSeconds) body.createdAt = new Date();
    return body;
  }

  // Keys and access tokens are sealed with the LTI key (AES-256-GCM), as ltijs seals them in its own store.
  private keyFor(secret: string): Buffer {
    let key = this.keys.get(secret);
    if (!key) {
      key = createHash('sha256').update(secret).digest();
      this.keys.set(secret, key);
    }
    return key;
  }

  private seal(plaintext: string, secret: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keyFor(secret), iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { iv: iv.toString('hex'), data: body.toString('hex') };
  }

  private open(sealed: Sealed, secret: string): string {
    const raw = Buffer.from(sealed.data, 'hex');
    const decipher = createDecipheriv('aes-256-gcm', this.keyFor(secret), Buffer.from(sealed.iv, 'hex'));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]).toString(
      'utf8',
    );
  }
}
