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
  // ltijs's state records carry only the query of a target link URI, for its launch handler's
  // req.query: Laurel's handler reads nothing of it (every launch goes to the page for its role), so they are
  // neither written nor read (see Insert and read). The state itself is checked by ltijs's signed
  // cookie, or by Laurel's login states (login-states.ts) on the cookieless paths.
  state: { name: 'lti_states', ttlSeconds: 600, unique: [{ state: 1 }] },
};

export const NONCE_REUSED = 'NONCE_ALREADY_RECEIVED';

/** What an ltik names of its session (LtikPayload): the keys of ltijs's two records of it. */
export type SessionKeys = {
  platformUrl: string;
  clientId: string;
  deploymentId: string;
  contextId: string;
  user: string;
};
export type SessionTokens = {
  idToken: Record<string, unknown> | null;
  contextToken: Record<string, unknown> | null;
};
// ltijs's own queries for them (Provider's sessionValidator).
const idTokenQuery = (s: SessionKeys) => ({
  iss: s.platformUrl,
  clientId: s.clientId,
  deploymentId: s.deploymentId,
  user: s.user,
});
const contextTokenQuery = (s: SessionKeys) => ({ contextId: s.contextId, user: s.user });

type Sealed = { iv: string; data: string };

/** What a login or launch reads several times (Laurel's checks, then ltijs's): a platform and its status. */
const READ_ONCE_PER_REQUEST = new Set(['platform', 'platformStatus']);
type Found = Record<string, unknown>[] | false;
/** Where a platform read within a request carries its status records (a field no record has). */
const STATUSES = '__laurelStatuses';
/** Where a read of Laurel's platforms carries ltijs's records of their issuer (platformRecordsLookup). */
const RECORDS = '__laurelLtiRecords';
/** Where a read of a launch's platform carries ltijs's tokens of its session (sessionTokensLookups). */
const ID_TOKENS = '__laurelIdTokens';
const CONTEXT_TOKENS = '__laurelContextTokens';

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
      .aggregate([{ $match: query }, ...this.statusLookup()])
      .toArray();
    this.withStatuses(docs, reads);
    return docs.length ? docs : false;
  }

  /**
   * A `$lookup` stage for a read of Laurel's platforms of one issuer (requestReads.ts): brings
   * ltijs's records of that issuer, each with its status, so that the login or launch that reads
   * both (Laurel's framing and checks, then ltijs) makes one round trip instead of two. Hand the
   * documents read to keepPlatformRecords.
   */
  platformRecordsLookup(issuer: string): Document {
    return {
      $lookup: {
        from: COLLECTIONS.platform!.name,
        pipeline: [{ $match: { platformUrl: issuer } }, ...this.statusLookup()],
        as: RECORDS,
      },
    };
  }

  /**
   * Takes ltijs's records out of documents read with platformRecordsLookup and keeps them as this
   * request's answers to ltijs's reads of them (by issuer and client id, by issuer alone, and their
   * statuses by key id). Outside a request with its own memory (readOncePerRequest) they are dropped.
   */
  keepPlatformRecords(issuer: string, docs: Document[]): void {
    const reads = this.requestReads.getStore();
    let records: Record<string, unknown>[] | undefined;
    for (const doc of docs) {
      records ??= doc[RECORDS] as Record<string, unknown>[] | undefined;
      delete doc[RECORDS];
    }
    if (!reads || !records) return;
    const keep = (name: string, query: Record<string, unknown>, found: Found) => {
      const id = JSON.stringify([name, query]);
      if (!reads.has(id)) reads.set(id, Promise.resolve(found));
    };
    for (const record of this.withStatuses(records, reads)) {
      if (typeof record.clientId === 'string')
        keep('platform', { platformUrl: issuer, clientId: record.clientId }, [record]);
    }
    keep('platform', { platformUrl: issuer }, records.length ? records : false);
  }

  /** Within a request, ltijs's status of each record (as read with it) becomes that request's answer. */
  private withStatuses(
    docs: Record<string, unknown>[],
    reads: Map<string, Promise<Found>>,
  ): Record<string, unknown>[] {
    for (const doc of docs) {
      const statuses = doc[STATUSES] as Record<string, unknown>[];
      delete doc[STATUSES];
      const statusId = JSON.stringify(['platformStatus', { id: doc.kid }]);
      if (typeof doc.kid === 'string' && !reads.has(statusId))
        reads.set(statusId, Promise.resolve(statuses.length ? statuses : false));
    }
    return docs;
  }

  /**
   * `$lookup` stages for a read of the launch's platform (requestReads.ts): ltijs's two records of
   * an ltik's session, its id_token and its context token, exactly as ltijs reads them, so that a
   * course page reads its platform and session in one round trip. Take them out with takeSessionTokens.
   */
  sessionTokensLookups(session: SessionKeys): Document[] {
    const one = (name: string, query: Document, as: string): Document => ({
      $lookup: {
        from: COLLECTIONS[name]!.name,
        pipeline: [{ $match: query }, { $limit: 1 }, { $project: { _id: 0 } }],
        as,
      },
    });
    return [
      one('idtoken', idTokenQuery(session), ID_TOKENS),
      one('contexttoken', contextTokenQuery(session), CONTEXT_TOKENS),
    ];
  }

  /** The tokens read with sessionTokensLookups, taken out of the document that carried them. */
  takeSessionTokens(doc: Document): SessionTokens {
    const idTokens = doc[ID_TOKENS] as Record<string, unknown>[] | undefined;
    const contextTokens = doc[CONTEXT_TOKENS] as Record<string, unknown>[] | undefined;
    delete doc[ID_TOKENS];
    delete doc[CONTEXT_TOKENS];
    return { idToken: idTokens?.[0] ?? null, contextToken: contextTokens?.[0] ?? null };
  }

  /** ltijs's two records of an ltik's session, read on their own (two round trips). */
  async sessionTokens(session: SessionKeys): Promise<SessionTokens> {
    const [idTokens, contextTokens] = await Promise.all([
      this.Get(false, 'idtoken', idTokenQuery(session)),
      this.Get(false, 'contexttoken', contextTokenQuery(session)),
    ]);
    return {
      idToken: idTokens ? idTokens[0]! : null,
      contextToken: contextTokens ? contextTokens[0]! : null,
    };
  }

  private statusLookup(): Document[] {
    return [
      {
        $lookup: {
          from: COLLECTIONS.platformStatus!.name,
          localField: 'kid',
          foreignField: 'id',
          as: STATUSES,
        },
      },
      { $project: { _id: 0, [`${STATUSES}._id`]: 0 } },
    ];
  }

  private async read(key: string | false, name: string, query: Record<string, unknown>): Promise<Found> {
    // ltijs reads a nonce before inserting it; the insert alone decides (the unique index refuses a
    // nonce seen before, with the error ltijs's read would give, even for two replays at once), so
    // the read is a round trip per launch that can only agree with it.
    if (name === 'nonce') return false;
    // ltijs's state records are never written (see COLLECTIONS): a round trip per launch saved.
    if (name === 'state') return false;
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
    if (name === 'state') return true;
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
