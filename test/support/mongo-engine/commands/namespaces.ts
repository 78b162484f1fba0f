/** Databases and collections: create, drop, dropDatabase, listCollections, listDatabases. */
import { BSON, type Document } from 'bson';
import { fail } from '../errors.js';
import { compileFilter, withMingo } from '../query.js';
import { ID_INDEX_SPEC } from '../indexes.js';
import { checkFields, collectionName, nonNegative, truthy } from '../validate.js';
import { refuseIfSet } from './shared.js';
import type { CommandContext, Handler } from './types.js';

function create(ctx: CommandContext): Document {
  const { body } = ctx;
  const name = collectionName('create', body, ctx.db);
  checkFields(
    'create',
    body,
    {
      capped: 'bool',
      autoIndexId: 'bool',
      size: 'number',
      max: 'number',
      storageEngine: 'object',
      validator: 'object',
      validationLevel: 'string',
      validationAction: 'string',
      indexOptionDefaults: 'object',
      viewOn: 'string',
      pipeline: 'array',
      collation: 'object',
      timeseries: 'object',
      clusteredIndex: 'any',
      expireAfterSeconds: 'number',
      changeStreamPreAndPostImages: 'object',
      idIndex: 'object',
      encryptedFields: 'object',
      recordPreImages: 'bool',
    },
    { generic: true, skip: 'create' },
  );
  // Kinds of collection this engine does not have are refused rather than created plain.
  refuseIfSet('create', body, [
    'capped',
    'viewOn',
    'pipeline',
    'timeseries',
    'clusteredIndex',
    'validator',
    'collation',
    'encryptedFields',
    'expireAfterSeconds',
  ]);
  ctx.store.create(ctx.db, name);
  return { ok: 1 };
}

function drop(ctx: CommandContext): Document {
  const name = collectionName('drop', ctx.body, ctx.db);
  checkFields('drop', ctx.body, {}, { generic: true, skip: 'drop' });
  const collection = ctx.store.drop(ctx.db, name);
  if (!collection) fail(26, 'ns not found');
  ctx.cursors.dropNamespace(collection.ns);
  ctx.replica?.set.changes.append({ op: 'drop', db: ctx.db, coll: name });
  return { nIndexesWas: collection.indexes.length, ns: collection.ns, ok: 1 };
}

function dropDatabase(ctx: CommandContext): Document {
  checkFields('dropDatabase', ctx.body, {}, { generic: true, skip: 'dropDatabase' });
  const collections = ctx.store.collections(ctx.db);
  for (const collection of collections) ctx.cursors.dropNamespace(collection.ns);
  ctx.store.dropDatabase(ctx.db);
  // mongod logs a drop of each collection, then the database's.
  for (const collection of collections)
    ctx.replica?.set.changes.append({ op: 'drop', db: ctx.db, coll: collection.name });
  if (collections.length) ctx.replica?.set.changes.append({ op: 'dropDatabase', db: ctx.db });
  return { dropped: ctx.db, ok: 1 };
}

function listCollections(ctx: CommandContext): Document {
  const { body } = ctx;
  checkFields(
    'listCollections',
    body,
    {
      filter: 'object',
      nameOnly: 'bool',
      authorizedCollections: 'bool',
      cursor: 'object',
      includePendingDrops: 'bool',
    },
    { generic: true, skip: 'listCollections' },
  );
  const nameOnly = truthy(body.nameOnly);
  const entries = ctx.store.collections(ctx.db).map((collection) =>
    nameOnly
      ? { name: collection.name, type: 'collection' }
      : {
          name: collection.name,
          type: 'collection',
          options: collection.options,
          info: { readOnly: false, uuid: collection.uuid },
          idIndex: ID_INDEX_SPEC,
        },
  );
  const filter = compileFilter(body.filter as Document | undefined);
  const matched = entries.filter((entry) => withMingo('listCollections', () => filter.test(entry)));
  const cursor = (body.cursor as Document | undefined) ?? {};
  return ctx.cursors.first(
    `${ctx.db}.$cmd.listCollections`,
    matched,
    nonNegative('batchSize', cursor.batchSize),
  );
}

function listDatabases(ctx: CommandContext): Document {
  const { body } = ctx;
  if (ctx.db !== 'admin') fail(13, 'listDatabases may only be run against the admin database.');
  checkFields(
    'listDatabases',
    body,
    { filter: 'object', nameOnly: 'bool', authorizedDatabases: 'bool' },
    {
      generic: true,
      skip: 'listDatabases',
    },
  );
  const all = ctx.store.databaseNames().map((name) => {
    const sizeOnDisk = ctx.store
      .collections(name)
      .reduce((sum, c) => sum + c.documents().reduce((n, doc) => n + BSON.calculateObjectSize(doc), 0), 0);
    return { name, sizeOnDisk, empty: ctx.store.collections(name).every((c) => c.size === 0) };
  });
  const filter = compileFilter(body.filter as Document | undefined);
  const databases = all.filter((db) => withMingo('listDatabases', () => filter.test(db)));
  if (truthy(body.nameOnly)) return { databases: databases.map(({ name }) => ({ name })), ok: 1 };
  const totalSize = databases.reduce((n, db) => n + db.sizeOnDisk, 0);
  return { databases, totalSize, totalSizeMb: Math.floor(totalSize / (1024 * 1024)), ok: 1 };
}

export const namespaceCommands: Record<string, Handler> = {
  create,
  drop,
  dropDatabase,
  listCollections,
  listDatabases,
};
