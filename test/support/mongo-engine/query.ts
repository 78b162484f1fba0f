/**
 * The one place that calls mingo for matching, sorting, projection and aggregation,
 * translating its errors into mongod's codes. No matching is written by hand.
 */
import type { Document } from 'bson';
import { Aggregator, ProcessingMode, Query } from 'mingo';
import type { CollationSpec, Options } from 'mingo/types';
import { MingoError } from 'mingo/util';
import { isPlainObject, toNumber } from './bson.js';
import { defaultQuery } from './mingo-context.js';
import { CommandError, fail } from './errors.js';

export interface QueryContext {
  collation?: Document;
  variables?: Document;
  /** Other collections of the same database, for $lookup and friends. */
  resolveCollection?: (name: string) => Document[];
}

export function mingoOptions(ctx: QueryContext = {}, mode = ProcessingMode.CLONE_OFF): Partial<Options> {
  const options: { -readonly [K in keyof Options]?: Options[K] } = { processingMode: mode };
  // "simple" is MongoDB's name for plain binary comparison, mingo's default.
  if (ctx.collation && ctx.collation.locale !== 'simple')
    options.collation = ctx.collation as unknown as CollationSpec;
  if (ctx.variables) options.variables = ctx.variables;
  if (ctx.resolveCollection) options.collectionResolver = ctx.resolveCollection;
  return options;
}

/** Runs a mingo call, turning its complaints into the errors mongod gives for the same input. */
export function withMingo<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof CommandError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const unknownOperator = /unknown (?:query |top level )?operator:? (\$\w+)/i.exec(message);
    if (unknownOperator)
      fail(2, `unknown ${/top level/.test(message) ? 'top level ' : ''}operator: ${unknownOperator[1]}`);
    const unknownStage = /unregistered pipeline operator (\$\w+)/.exec(message);
    if (unknownStage) fail(40324, `Unrecognized pipeline stage name: '${unknownStage[1]}'`);
    if (error instanceof MingoError) fail(2, `${what}: ${message}`);
    fail(2, `${what} failed: ${message}`);
  }
}

export function compileFilter(filter: Document | undefined, ctx: QueryContext = {}): Query {
  // The common case (no collation, no variables) shares one set of options (mingo-context.ts); a
  // filter never reads other collections (only an aggregation's $lookup does).
  if (isDefault(ctx)) return withMingo('filter', () => defaultQuery(filter ?? {}));
  return withMingo('filter', () => new Query(filter ?? {}, mingoOptions(ctx)));
}

const isDefault = (ctx: QueryContext) =>
  (!ctx.collation || ctx.collation.locale === 'simple') && !ctx.variables;

/** A sort spec with numeric directions, checked as mongod checks it. */
export function normalizeSort(sort: Document | undefined): Record<string, 1 | -1> | undefined {
  if (!sort || !Object.keys(sort).length) return undefined;
  const out: Record<string, 1 | -1> = {};
  for (const [field, direction] of Object.entries(sort)) {
    if (isPlainObject(direction))
      fail(2, `$meta sort by '${String(direction.$meta)}' is not supported by the test engine`);
    const n = toNumber(direction);
    if (n !== 1 && n !== -1)
      fail(15975, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    out[field] = n;
  }
  return out;
}

export interface FindArgs {
  filter?: Document;
  sort?: Document;
  projection?: Document;
  skip?: number;
  limit?: number;
}

/** filter → sort → skip → limit → projection, in MongoDB's order, all by mingo. */
export function findDocs(docs: Document[], args: FindArgs, ctx: QueryContext = {}): Document[] {
  const query = compileFilter(args.filter, ctx);
  const sort = normalizeSort(args.sort);
  return withMingo('find', () => {
    const projection = args.projection && Object.keys(args.projection).length ? args.projection : undefined;
    const cursor = query.find<Document>(docs, projection);
    if (sort) cursor.sort(sort);
    if (args.skip) cursor.skip(args.skip);
    // A limit of 0 means "no limit" to MongoDB, but "nothing" to mingo.
    if (args.limit) cursor.limit(args.limit);
    return cursor.all();
  });
}

/** Stages that mongod has but this engine does not carry; refused by name, never guessed at. */
const REFUSED_STAGES = new Set([
  '$out',
  '$merge',
  '$changeStream',
  '$changeStreamSplitLargeEvent',
  '$collStats',
  '$indexStats',
  '$currentOp',
  '$listSessions',
  '$listLocalSessions',
  '$listSearchIndexes',
  '$planCacheStats',
  '$search',
  '$searchMeta',
  '$vectorSearch',
  '$geoNear',
  '$shardedDataDistribution',
]);

function checkPipeline(pipeline: unknown[]): void {
  pipeline.forEach((stage) => {
    if (!isPlainObject(stage)) fail(14, "Each element of the 'pipeline' array must be an object");
    const names = Object.keys(stage);
    if (names.length !== 1)
      fail(40323, 'A pipeline stage specification object must contain exactly one field.');
    const name = names[0];
    if (REFUSED_STAGES.has(name)) {
      fail(115, `${name} is not supported by the Laurel test engine (test equipment, read-only pipelines)`);
    }
    const spec = stage[name];
    if (name === '$lookup' && isPlainObject(spec)) {
      if (spec.from !== undefined && typeof spec.from !== 'string') {
        fail(115, '$lookup from another database is not supported by the Laurel test engine');
      }
      if (Array.isArray(spec.pipeline)) checkPipeline(spec.pipeline);
    }
    if (name === '$facet' && isPlainObject(spec)) {
      for (const sub of Object.values(spec)) if (Array.isArray(sub)) checkPipeline(sub);
    }
  });
}

/** Stages that only read the documents they are given (they build new ones, or pass them on). */
const READ_ONLY_STAGES = new Set(['$match', '$group', '$count', '$sort', '$limit', '$skip', '$sortByCount']);

export function aggregateDocs(docs: Document[], pipeline: Document[], ctx: QueryContext = {}): Document[] {
  checkPipeline(pipeline);
  // Inputs are cloned when some stage may write into the documents it is given; a pipeline of
  // read-only stages (a count, a grouping) runs on the stored documents, which it never changes.
  const readOnly = pipeline.every((stage) => READ_ONLY_STAGES.has(Object.keys(stage)[0] ?? ''));
  const mode = readOnly ? ProcessingMode.CLONE_OFF : ProcessingMode.CLONE_INPUT;
  return withMingo('aggregate', () => new Aggregator(pipeline, mingoOptions(ctx, mode)).run<Document>(docs));
}
