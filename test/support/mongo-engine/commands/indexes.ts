/** createIndexes, listIndexes and dropIndexes. */
import type { Document } from 'bson';
import { canonical, isPlainObject } from '../bson.js';
import { fail } from '../errors.js';
import { formatDocument } from '../format.js';
import { normalizeSpec } from '../indexes.js';
import { checkFields, collectionName, nonNegative } from '../validate.js';
import type { CommandContext, Handler } from './types.js';

function createIndexes(ctx: CommandContext): Document {
  const { body } = ctx;
  const name = collectionName('createIndexes', body, ctx.db);
  checkFields(
    'createIndexes',
    body,
    {
      indexes: { type: 'array', required: true },
      commitQuorum: 'any',
      ignoreUnknownIndexOptions: 'bool',
    },
    { generic: true, skip: 'createIndexes' },
  );
  const requested = body.indexes as unknown[];
  if (!requested.length) fail(2, 'Must specify at least one index to create');
  // Every spec is checked before any index is built, as mongod does.
  const specs = requested.map(normalizeSpec);
  const { collection, created } = ctx.store.ensure(ctx.db, name);
  const before = collection.indexes.length;
  const added: string[] = [];
  try {
    for (const spec of specs) if (collection.addIndex(spec)) added.push(String(spec.name));
  } catch (error) {
    // The request builds all of its indexes or none.
    for (const indexName of added) collection.dropIndex(indexName);
    if (created) ctx.store.drop(ctx.db, name);
    throw error;
  }
  const after = collection.indexes.length;
  if (!added.length)
    return { numIndexesBefore: before, numIndexesAfter: after, note: 'all indexes already exist', ok: 1 };
  return { numIndexesBefore: before, numIndexesAfter: after, createdCollectionAutomatically: created, ok: 1 };
}

function listIndexes(ctx: CommandContext): Document {
  const { body } = ctx;
  const name = collectionName('listIndexes', body, ctx.db);
  checkFields(
    'listIndexes',
    body,
    { cursor: 'object', includeBuildUUIDs: 'bool', includeIndexBuildInfo: 'bool' },
    {
      generic: true,
      skip: 'listIndexes',
    },
  );
  const collection = ctx.store.get(ctx.db, name);
  if (!collection) fail(26, `ns does not exist: ${ctx.db}.${name}`);
  const cursor = isPlainObject(body.cursor) ? body.cursor : {};
  const batchSize = nonNegative('batchSize', cursor.batchSize);
  return ctx.cursors.first(
    `${ctx.db}.${name}`,
    collection.indexes.map((index) => index.spec),
    batchSize,
  );
}

function dropIndexes(ctx: CommandContext): Document {
  const { body } = ctx;
  const command = ctx.name;
  const name = collectionName(command, body, ctx.db);
  checkFields(command, body, { index: { type: 'any', required: true } }, { generic: true, skip: command });
  const collection = ctx.store.get(ctx.db, name);
  if (!collection) fail(26, `ns not found ${ctx.db}.${name}`);
  const nIndexesWas = collection.indexes.length;
  const target = body.index;
  if (target === '*') {
    collection.dropAllIndexes();
  } else if (typeof target === 'string') {
    collection.dropIndex(target);
  } else if (Array.isArray(target)) {
    for (const indexName of target) {
      if (typeof indexName !== 'string')
        fail(14, `BSON field '${command}.index' must be a string, an object or an array of strings`);
      if (!collection.findIndex(indexName)) fail(27, `index not found with name [${indexName}]`);
    }
    for (const indexName of target as string[]) collection.dropIndex(indexName);
  } else if (isPlainObject(target)) {
    const found = collection.indexes.find((index) => canonical(index.spec.key) === canonical(target));
    if (!found) fail(27, `can't find index with key: ${formatDocument(target)}`);
    collection.dropIndex(found.name);
  } else {
    fail(
      14,
      `BSON field '${command}.index' is the wrong type, expected a string, an object or an array of strings`,
    );
  }
  return { nIndexesWas, ok: 1 };
}

export const indexCommands: Record<string, Handler> = {
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
};
