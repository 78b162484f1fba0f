/**
 * mingo's operators, set up once for the whole engine instead of once per filter.
 *
 * `new Query(filter)` from mingo's index copies every operator table (several hundred entries)
 * into a fresh context, and its `$in` hashes the whole list again for every document it tests
 * (an ObjectId hashes in microseconds): a filter with 100 ids over 500 documents cost more than
 * all the rest of a batch. Here the same operators (mingo's own, as its index registers them) live
 * in one context, filters are compiled against one shared set of options, and `$in`/`$nin` build
 * their lookup once per filter. Answers are mingo's: `$in` is mingo's definition, with the hash
 * set kept (test/engine/mingo-context.test.ts compares both over many values).
 */
import { Context } from 'mingo/core';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import type { Query } from 'mingo';
import { Query as QueryBase } from 'mingo/query';
import { hashCode, isEqual, resolve } from 'mingo/util';
import { bsonTag } from './bson.js';

const isPrimitive = (v: unknown) => (typeof v !== 'object' && typeof v !== 'function') || v === null;

/**
 * The values of an `$in` list, answering exactly what mingo's HashMap answers for `has`: a
 * primitive by SameValueZero, anything else by its hash and then `isEqual`. ObjectIds and Dates,
 * which mingo hashes slowly, are keyed by what its `isEqual` compares (the hex text, the time).
 */
export class ValueSet {
  private readonly primitives = new Set<unknown>();
  private readonly objectIds = new Map<unknown, Set<string>>();
  private readonly dates = new Set<number>();
  private readonly others = new Map<number, unknown[]>();

  constructor(values: readonly unknown[]) {
    for (const value of values) {
      if (isPrimitive(value)) this.primitives.add(value);
      else if (isObjectId(value)) {
        const ctor = (value as object).constructor;
        const set = this.objectIds.get(ctor) ?? new Set<string>();
        set.add(String(value));
        this.objectIds.set(ctor, set);
      } else if (isPlainDate(value)) this.dates.add((value as Date).getTime());
      else {
        const hash = hashCode(value);
        const bucket = this.others.get(hash);
        if (bucket) bucket.push(value);
        else this.others.set(hash, [value]);
      }
    }
  }

  has(value: unknown): boolean {
    if (isPrimitive(value)) return this.primitives.has(value);
    if (isObjectId(value))
      return this.objectIds.get((value as object).constructor)?.has(String(value)) ?? false;
    if (isPlainDate(value)) return this.dates.has((value as Date).getTime());
    const bucket = this.others.get(hashCode(value));
    return bucket !== undefined && bucket.some((k) => isEqual(k, value));
  }
}

function isObjectId(value: unknown): boolean {
  return (
    bsonTag(value) === 'ObjectId' && typeof (value as { toHexString?: unknown }).toHexString === 'function'
  );
}

/** A Date with a time (an invalid Date equals only itself in mingo: left to the generic path). */
function isPlainDate(value: unknown): boolean {
  return value instanceof Date && value.constructor === Date && !Number.isNaN(value.getTime());
}

const isRegExp = (v: unknown): v is RegExp => v instanceof RegExp;

/** mingo's `$in` predicate (operators/_predicates.js) over a resolved value, with the list's set built once. */
function inPredicate(b: unknown[]): (a: unknown) => boolean {
  const set = new ValueSet(b);
  const hasNull = b.some((v) => v === null);
  const patterns = b.filter(isRegExp);
  return (a) => {
    if (a === null || a === undefined) return hasNull;
    const values = Array.isArray(a) ? a : [a];
    for (const v of values) if (set.has(v)) return true;
    return (
      patterns.length > 0 && values.some((v) => typeof v === 'string' && patterns.some((re) => re.test(v)))
    );
  };
}

type QueryOperator = (selector: string, value: unknown, options: unknown) => (doc: unknown) => boolean;
const builtIn = queryOperators as unknown as Record<string, QueryOperator>;

let captured: unknown;

function fastIn(negate: boolean): QueryOperator {
  return (selector, value, options) => {
    captured ??= options;
    // Anything but a list goes to mingo's own operator, which reports it as it always has.
    if (!Array.isArray(value)) return builtIn[negate ? '$nin' : '$in'](selector, value, options);
    const test = inPredicate(value);
    const resolveOptions = { unwrapArray: true };
    return (doc) => {
      const found = test(resolve(doc as never, selector, resolveOptions));
      return negate ? !found : found;
    };
  };
}

const CONTEXT = Context.init({
  accumulator: accumulatorOperators,
  expression: expressionOperators,
  pipeline: pipelineOperators,
  projection: projectionOperators,
  query: { ...queryOperators, $in: fastIn(false), $nin: fastIn(true) },
  window: windowOperators,
} as never);

/**
 * The options every default filter shares (no collation, no variables, no other collections):
 * mingo's defaults with the context above. A ComputeOptions instance given to a Query is reused
 * as it is (mingo copies only its small per-query locals), so nothing is copied per filter. mingo
 * does not export the class; its instance is the one its compiler hands to an operator.
 */
function sharedOptions(): unknown {
  if (!captured) new QueryBase({ _: { $in: [] } }, { context: CONTEXT } as never);
  return captured;
}

/** A compiled filter with the default options (the caller maps mingo's errors). */
export function defaultQuery(filter: object): Query {
  return new QueryBase(filter, sharedOptions() as never) as unknown as Query;
}
