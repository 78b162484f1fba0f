/** aggregate (cursor form only), run entirely by mingo's Aggregator. */
import type { Document } from 'bson';
import { bsonTypeName, isPlainObject, toNumber } from '../bson.js';
import { fail } from '../errors.js';
import { aggregateDocs } from '../query.js';
import { checkFields, collectionName, nonNegative } from '../validate.js';
import { checkHint, queryContext, refuseIfSet } from './shared.js';
import type { CommandContext, Handler } from './types.js';

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
  const collection = name ? ctx.store.get(ctx.db, name) : undefined;
  checkHint(collection, body.hint);
  const source = collection?.documents() ?? [];
  const results = aggregateDocs(
    source,
    pipeline as Document[],
    queryContext(ctx, { collation: body.collation, let: body.let }),
  );
  const ns = name ? `${ctx.db}.${name}` : `${ctx.db}.$cmd.aggregate`;
  return ctx.cursors.first(ns, results, batchSize);
}

export const aggregateCommands: Record<string, Handler> = { aggregate };
