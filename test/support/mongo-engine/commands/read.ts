/** Reads: find with getMore/killCursors, count and distinct. */
import type { Document } from 'bson';
import { resolve } from 'mingo/util';
import { canonical, toNumber } from '../bson.js';
import { fail } from '../errors.js';
import { candidates, findInCollection } from '../planner.js';
import { compileFilter, withMingo } from '../query.js';
import { checkFields, collectionName, nonNegative, truthy } from '../validate.js';
import { checkHint, queryContext, refuseIfSet } from './shared.js';
import type { CommandContext, Handler } from './types.js';

function find(ctx: CommandContext): Document {
  const { body } = ctx;
  const name = collectionName('find', body, ctx.db);
  checkFields(
    'find',
    body,
    {
      filter: 'object',
      projection: 'object',
      sort: 'object',
      hint: 'objectOrString',
      skip: 'number',
      limit: 'number',
      batchSize: 'number',
      singleBatch: 'bool',
      collation: 'object',
      let: 'object',
      allowDiskUse: 'bool',
      noCursorTimeout: 'bool',
      allowPartialResults: 'bool',
      readOnce: 'bool',
      returnKey: 'bool',
      showRecordId: 'bool',
      tailable: 'bool',
      awaitData: 'bool',
      oplogReplay: 'bool',
      min: 'object',
      max: 'object',
      maxScan: 'number',
    },
    { generic: true, skip: 'find' },
  );
  if (truthy(body.tailable))
    fail(
      2,
      `error processing query: ns=${ctx.db}.${name} tailable cursor requested on non capped collection`,
    );
  refuseIfSet('find', body, ['min', 'max', 'returnKey', 'showRecordId', 'awaitData']);
  const skip = nonNegative('skip', body.skip);
  const limit = nonNegative('limit', body.limit);
  const batchSize = nonNegative('batchSize', body.batchSize);
  const collection = ctx.store.get(ctx.db, name);
  checkHint(collection, body.hint);
  const args = { filter: body.filter, sort: body.sort, projection: body.projection, skip, limit };
  const qctx = queryContext(ctx, { collation: body.collation, let: body.let });
  // Run even on a missing collection, so a bad filter or sort fails the same way there.
  const docs = findInCollection(collection, args, qctx);
  // The limit is already applied, so the cursor closes when the limited set runs out.
  return ctx.cursors.first(`${ctx.db}.${name}`, docs, batchSize, truthy(body.singleBatch));
}

/** The fields a getMore may carry, checked alike for query and change-stream cursors. */
export function checkGetMore(body: Document): void {
  checkFields(
    'getMore',
    body,
    {
      collection: { type: 'string', required: true },
      batchSize: 'number',
      term: 'any',
      lastKnownCommittedOpTime: 'any',
    },
    { generic: true, skip: 'getMore' },
  );
}

function getMore(ctx: CommandContext): Document {
  const { body } = ctx;
  checkGetMore(body);
  const batchSize = nonNegative('batchSize', body.batchSize);
  return ctx.cursors.more(body.getMore, `${ctx.db}.${String(body.collection)}`, batchSize);
}

function killCursors(ctx: CommandContext): Document {
  collectionName('killCursors', ctx.body, ctx.db);
  checkFields(
    'killCursors',
    ctx.body,
    { cursors: { type: 'array', required: true } },
    { generic: true, skip: 'killCursors' },
  );
  const { killed, notFound } = ctx.cursors.kill(ctx.body.cursors as unknown[]);
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

function count(ctx: CommandContext): Document {
  const { body } = ctx;
  const name = collectionName('count', body, ctx.db);
  checkFields(
    'count',
    body,
    {
      query: 'object',
      limit: 'number',
      skip: 'number',
      hint: 'objectOrString',
      collation: 'object',
      fields: 'object',
    },
    { generic: true, skip: 'count' },
  );
  const skip = nonNegative('skip', body.skip) ?? 0;
  // A negative limit counts like its absolute value, as in mongod.
  const limit = body.limit === undefined || body.limit === null ? 0 : Math.abs(toNumber(body.limit));
  const qctx = queryContext(ctx, { collation: body.collation });
  const query = compileFilter(body.query, qctx);
  const collection = ctx.store.get(ctx.db, name);
  checkHint(collection, body.hint);
  const filter = body.query as Document | undefined;
  const matched = collection
    ? withMingo(
        'count',
        () => candidates(collection, filter, qctx).filter(([, doc]) => query.test(doc)).length,
      )
    : 0;
  const n = Math.max(0, matched - skip);
  return { n: limit ? Math.min(n, limit) : n, ok: 1 };
}

function distinct(ctx: CommandContext): Document {
  const { body } = ctx;
  const name = collectionName('distinct', body, ctx.db);
  checkFields(
    'distinct',
    body,
    {
      key: { type: 'string', required: true },
      query: 'object',
      collation: 'object',
      hint: 'objectOrString',
    },
    { generic: true, skip: 'distinct' },
  );
  const qctx = queryContext(ctx, { collation: body.collation });
  const query = compileFilter(body.query, qctx);
  const key = String(body.key);
  const seen = new Map<string, unknown>();
  const collection = ctx.store.get(ctx.db, name);
  const docs = collection ? candidates(collection, body.query as Document | undefined, qctx) : [];
  for (const [, doc] of docs) {
    if (!withMingo('distinct', () => query.test(doc))) continue;
    const value = resolve(doc, key);
    // Arrays contribute their elements (one level), as in mongod.
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === undefined) continue;
      const text = canonical(v);
      if (!seen.has(text)) seen.set(text, v);
    }
  }
  return { values: [...seen.values()], ok: 1 };
}

export const readCommands: Record<string, Handler> = { find, getMore, killCursors, count, distinct };
