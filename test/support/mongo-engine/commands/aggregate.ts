/** aggregate (cursor form only), run entirely by mingo's Aggregator. */
import type { Document } from 'bson';
import type { Query } from 'mingo';
import { bsonTypeName, isPlainObject, toNumber } from '../bson.js';
import { fail } from '../errors.js';
import type { Collection } from '../collection.js';
import { candidates, sortedMatches } from '../planner.js';
import { aggregateDocs, compileFilter, type QueryContext } from '../query.js';
import { checkFields, collectionName, nonNegative } from '../validate.js';
import { checkHint, queryContext, refuseIfSet } from './shared.js';
import type { CommandContext, Handler } from './types.js';

/**
 * The documents a pipeline starts from: those its leading $match may match (by index where one
 * helps), or for `$match`, `$sort`, [`$skip`,] `$limit` only the first ones in sort order. The
 * whole pipeline still runs over them, so the answer is the same as over the whole collection.
 */
function sourceOf(collection: Collection, pipeline: Document[], qctx: QueryContext): Document[] {
  let at = 0;
  let filter: Document | undefined;
  if (pipeline[0] && isPlainObject(pipeline[0].$match)) {
    filter = pipeline[0].$match;
    at = 1;
  }
  const sort = pipeline[at]?.$sort;
  if (isPlainObject(sort) && Object.values(sort).every((v) => v === 1 || v === -1)) {
    let need = 0;
    let next = at + 1;
    const skip = pipeline[next]?.$skip;
    if (typeof skip === 'number' && Number.isInteger(skip) && skip >= 0) {
      need += skip;
      next++;
    }
    const limit = pipeline[next]?.$limit;
    if (typeof limit === 'number' && Number.isInteger(limit) && limit > 0) {
      let query: Query | undefined;
      try {
        query = compileFilter(filter, qctx);
      } catch {
        // A bad $match (or stage) is reported by the pipeline itself, in mongod's order.
        return collection.documents();
      }
      const top = sortedMatches(collection, query, filter, sort, need + limit, qctx);
      if (top) return top.map(([, doc]) => doc);
    }
  }
  if (!filter) return collection.documents();
  return candidates(collection, filter, qctx).map(([, doc]) => doc);
}

function aggregate(ctx: CommandContext): Document {
  const { body } = ctx;
  // `aggregate: 1` runs a collection-less pipeline (e.g. one starting with $documents).
  const dbLevel = typeof body.aggregate !== 'string' && toNumber(body.aggregate) === 1;
  const name = dbLevel ? undefined : collectionName('aggregate', body, ctx.db);
  checkFields(
    'aggregate',
    body,
    {
      pipeline: { type: 'array', required: true },
      cursor: 'object',
      explain: 'bool',
      allowDiskUse: 'bool',
      collation: 'object',
      hint: 'objectOrString',
      let: 'object',
      bypassDocumentValidation: 'bool',
    },
    { generic: true, skip: 'aggregate' },
  );
  refuseIfSet('aggregate', body, ['explain']);
  if (!isPlainObject(body.cursor))
    fail(9, "The 'cursor' option is required, except for aggregate with the explain argument");
  checkFields('aggregate.cursor', body.cursor, { batchSize: 'number' });
  const batchSize = nonNegative('batchSize', body.cursor.batchSize);
  const pipeline = body.pipeline as unknown[];
  pipeline.forEach((stage) => {
    if (!isPlainObject(stage))
      fail(14, `Each element of the 'pipeline' array must be an object, not ${bsonTypeName(stage)}`);
  });
  const qctx = queryContext(ctx, { collation: body.collation, let: body.let });
  const streamAt = pipeline.findIndex((stage) => '$changeStream' in (stage as Document));
  if (streamAt > 0) fail(40602, '$changeStream is only valid as the first stage in a pipeline');
  if (streamAt === 0) {
    // As a standalone mongod: change streams need a replica set's oplog.
    if (!ctx.replica) fail(40573, 'The $changeStream stage is only supported on replica sets');
    return ctx.replica.streams.openStream(ctx.db, name, pipeline as Document[], batchSize, qctx);
  }
  const collection = name ? ctx.store.get(ctx.db, name) : undefined;
  checkHint(collection, body.hint);
  const source = collection ? sourceOf(collection, pipeline as Document[], qctx) : [];
  const results = aggregateDocs(source, pipeline as Document[], qctx);
  const ns = name ? `${ctx.db}.${name}` : `${ctx.db}.$cmd.aggregate`;
  return ctx.cursors.first(ns, results, batchSize);
}

export const aggregateCommands: Record<string, Handler> = { aggregate };
