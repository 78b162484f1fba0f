/**
 * The query planner: picks an index whose keys narrow a query to fewer documents than a scan,
 * or whose order answers a sort so that a limited query stops early.
 *
 * Only the candidate set ever shrinks. Every candidate is still tested with the whole filter by
 * mingo, candidates are handed over in the collection's record order (as a scan would visit
 * them), and sorted results keep ties in record order (as mingo's stable sort does). So an
 * answer is the same with or without an index; test/engine/index-use.test.ts checks that
 * against a scan over random data and queries. What the planner uses from a filter:
 *
 * - equality on a field (`{a: v}`, `$eq`, `$in`) for null, numbers, strings, booleans, dates and
 *   ObjectIds; anything else (regexes, arrays, embedded documents, Long, Decimal128) is left
 *   to the filter, as are `$nor`, `$not`, `$expr` and every other operator;
 * - a top-level `$or` whose every branch (with the rest of the filter) has an index: the union;
 * - a range (`$gt`, `$gte`, `$lt`, `$lte` on a number, string, date or ObjectId) on the field
 *   after the equalities, within the bound's type as mingo compares (bounds on both sides only
 *   when no document holds an array there, since each bound may match another element);
 * - a sort on the index's next fields (either direction), on fields constant by equality, or on
 *   fields of an `$in`, merged, when no document holds an array or an unsortable value there.
 *
 * Sparse and partial indexes leave documents out and are never used; hidden ones neither.
 * A collation other than "simple" turns the planner off for that command.
 */
import type { Document } from 'bson';
import type { Query } from 'mingo';
import { isPlainObject } from './bson.js';
import type { Collection } from './collection.js';
import type { Index } from './indexes.js';
import {
  encodeQueryValue,
  RANK_DATE,
  RANK_NAN,
  RANK_NUMBER,
  RANK_OBJECT_ID,
  RANK_STRING,
  type Entry,
  type OrderedIndex,
  type Position,
  type Prim,
} from './ordered-index.js';
import { compileFilter, findDocs, normalizeSort, type QueryContext } from './query.js';

/** Counters for tests and the bench: what the engine looked at. */
export interface EngineStats {
  /** Reads that went through the planner (find, count, distinct, aggregate, writes' targets). */
  queries: number;
  /** Of those, answered from an index. */
  indexed: number;
  /** Index entries visited. */
  keysExamined: number;
  /** Documents tested against a filter (a scan examines every document). */
  docsExamined: number;
  /** The last plan: "COLLSCAN", or "IXSCAN <index>" with " SORT" when the index gave the order. */
  lastPlan: string;
  /** Time spent answering commands that came over the wire, in µs (decoding and encoding aside). */
  commandMicros: number;
  /** Commands answered over the wire (a bench counts round trips with it, without copying each one). */
  commands: number;
}

export const engineStats: EngineStats = {
  queries: 0,
  indexed: 0,
  keysExamined: 0,
  docsExamined: 0,
  lastPlan: '',
  commandMicros: 0,
  commands: 0,
};

export function resetEngineStats(): void {
  engineStats.queries = 0;
  engineStats.indexed = 0;
  engineStats.keysExamined = 0;
  engineStats.docsExamined = 0;
  engineStats.lastPlan = '';
  engineStats.commandMicros = 0;
  engineStats.commands = 0;
}

/**
 * "auto" uses an index when it is expected to be cheaper than a scan; "off" always scans (the
 * reference the differential test compares with); "always" uses any applicable index, so that
 * tests exercise the index path even on small or unselective data.
 */
export type IndexUse = 'auto' | 'off' | 'always';
const fromEnv = process.env.LAUREL_ENGINE_INDEXES;
/** LAUREL_ENGINE_INDEXES=off runs everything as scans (to tell a planner bug from another). */
let indexUse: IndexUse = fromEnv === 'off' || fromEnv === 'always' ? fromEnv : 'auto';

export function setIndexUse(mode: IndexUse): void {
  indexUse = mode;
}

export function getIndexUse(): IndexUse {
  return indexUse;
}

type Key = [number, Prim];

interface RangeOp {
  op: '$gt' | '$gte' | '$lt' | '$lte';
  rank: number;
  value: Prim;
}

interface PathConstraint {
  eq?: Key[];
  ranges: RangeOp[];
}

const RANGE_OPS = new Set(['$gt', '$gte', '$lt', '$lte']);
const RANGE_RANKS = new Set([RANK_NUMBER, RANK_STRING, RANK_DATE, RANK_OBJECT_ID]);
/** At most this many point lookups from a product of `$in` lists. */
const MAX_INTERVALS = 2000;

function dedupe(keys: Key[]): Key[] {
  const out: Key[] = [];
  for (const key of keys) if (!out.some((k) => k[0] === key[0] && k[1] === key[1])) out.push(key);
  return out;
}

function setEq(constraint: PathConstraint, keys: Key[]): void {
  // Two equalities on one path can both hold (on different array elements): keep either one.
  if (!constraint.eq || keys.length < constraint.eq.length) constraint.eq = dedupe(keys);
}

/** What the top-level conjunction of a filter says about single paths. */
function extract(filter: Document, out: Map<string, PathConstraint>): void {
  for (const [path, value] of Object.entries(filter)) {
    if (path === '$and') {
      if (Array.isArray(value)) for (const part of value) if (isPlainObject(part)) extract(part, out);
      continue;
    }
    if (path.startsWith('$') || !path) continue;
    let constraint = out.get(path);
    if (!constraint) {
      constraint = { ranges: [] };
      out.set(path, constraint);
    }
    const operators = isPlainObject(value) ? Object.keys(value) : [];
    if (operators.length && operators.every((op) => op.startsWith('$'))) {
      for (const op of operators) {
        const operand = (value as Document)[op];
        if (op === '$eq') {
          const key = encodeQueryValue(operand);
          if (key) setEq(constraint, [key]);
        } else if (op === '$in' && Array.isArray(operand)) {
          const keys = operand.map(encodeQueryValue);
          if (keys.every((key) => key !== undefined)) setEq(constraint, keys as Key[]);
        } else if (RANGE_OPS.has(op)) {
          const key = encodeQueryValue(operand);
          if (key && RANGE_RANKS.has(key[0]))
            constraint.ranges.push({ op: op as RangeOp['op'], rank: key[0], value: key[1] });
        }
      }
    } else if (!operators.length) {
      const key = encodeQueryValue(value);
      if (key) setEq(constraint, [key]);
    }
  }
}

/** The values one field may take within an interval (undefined ends are open within the rank). */
interface FieldBound {
  rank: number;
  lo?: Prim;
  loInc: boolean;
  hi?: Prim;
  hiInc: boolean;
}

function rangeBound(ranges: RangeOp[], multikey: boolean): FieldBound | undefined {
  if (!ranges.length) return undefined;
  const rank = ranges[0].rank;
  const bound: FieldBound = { rank, loInc: true, hiInc: true };
  // With arrays, `{$gt: 1, $lt: 5}` may hold through two elements: one side only, then.
  for (const range of multikey ? ranges.slice(0, 1) : ranges) {
    if (range.rank !== rank) continue;
    const inclusive = range.op === '$gte' || range.op === '$lte';
    if (range.op === '$gt' || range.op === '$gte') {
      if (bound.lo === undefined || range.value > bound.lo || (range.value === bound.lo && !inclusive)) {
        bound.lo = range.value;
        bound.loInc = inclusive;
      }
    } else if (bound.hi === undefined || range.value < bound.hi || (range.value === bound.hi && !inclusive)) {
      bound.hi = range.value;
      bound.hiInc = inclusive;
    }
  }
  return bound;
}

function inBounds(entry: Entry, bounds: FieldBound[]): boolean {
  const key = entry.key;
  for (let f = 0; f < bounds.length; f++) {
    const b = bounds[f];
    if (key[2 * f] !== b.rank) return false;
    const v = key[2 * f + 1];
    if (b.lo !== undefined && (v < b.lo || (v === b.lo && !b.loInc))) return false;
    if (b.hi !== undefined && (v > b.hi || (v === b.hi && !b.hiInc))) return false;
  }
  return true;
}

/** Where an entry stands against the first ("start") or last ("end") corner of the bounds, in stored order. */
function againstCorner(entry: Entry, bounds: FieldBound[], directions: number[], start: boolean): number {
  const key = entry.key;
  for (let f = 0; f < bounds.length; f++) {
    const d = directions[f];
    const b = bounds[f];
    const rank = key[2 * f] as number;
    if (rank !== b.rank) return (rank < b.rank ? -1 : 1) * d;
    const low = start === d > 0;
    const corner = low ? b.lo : b.hi;
    // An open end lies beyond every value of the rank.
    if (corner === undefined) return (low ? 1 : -1) * d;
    const v = key[2 * f + 1];
    if (v !== corner) return (v < corner ? -1 : 1) * d;
  }
  return 0;
}

interface Interval {
  bounds: FieldBound[];
  start: Position;
  end: Position;
}

interface SortCover {
  /** Index field positions that give the order, with the sort's direction for each. */
  covered: { pos: number; dir: number }[];
  forward: boolean;
  /** Every sort field is covered or constant: runs need no further sorting. */
  complete: boolean;
}

interface Plan {
  index: Index;
  ordered: OrderedIndex;
  intervals: Interval[];
  /** Entries within the intervals. */
  count: number;
  /** Some field is bounded (otherwise the plan is a whole-index walk for a sort). */
  bounded: boolean;
  sort?: SortCover;
}

function coverSort(
  sort: Record<string, 1 | -1>,
  ordered: OrderedIndex,
  eqSets: Key[][],
): SortCover | undefined {
  const p = eqSets.length;
  const covered: { pos: number; dir: number }[] = [];
  let constant = 0;
  let next = p;
  let ratio = 0;
  for (const [field, dir] of Object.entries(sort)) {
    const pos = ordered.fields.indexOf(field);
    if (pos < 0 || ordered.unsortable[pos] > 0) break;
    if (pos < p) {
      if (eqSets[pos].length === 1) constant++;
      else covered.push({ pos, dir });
      continue;
    }
    if (pos !== next) break;
    const r = dir * ordered.directions[pos];
    if (ratio && r !== ratio) break;
    ratio = r;
    covered.push({ pos, dir });
    next++;
  }
  if (!covered.length) return undefined;
  return {
    covered,
    forward: ratio >= 0,
    complete: covered.length + constant === Object.keys(sort).length,
  };
}

function planFor(
  index: Index,
  constraints: Map<string, PathConstraint>,
  sort: Record<string, 1 | -1> | undefined,
): Plan | undefined {
  const ordered = index.ordered;
  if (!ordered || index.hidden) return undefined;
  const fields = ordered.fields;
  const eqSets: Key[][] = [];
  let product = 1;
  let truncated = false;
  for (const field of fields) {
    const eq = constraints.get(field)?.eq;
    if (!eq) break;
    if (product * eq.length > MAX_INTERVALS) {
      truncated = true;
      break;
    }
    product *= eq.length;
    eqSets.push(eq);
  }
  const p = eqSets.length;
  const rangeField = !truncated && p < fields.length ? constraints.get(fields[p]) : undefined;
  const range = rangeField ? rangeBound(rangeField.ranges, ordered.multikey[p] > 0) : undefined;
  const cover = sort ? coverSort(sort, ordered, eqSets) : undefined;
  const bounded = p > 0 || range !== undefined;
  if (!bounded && !cover) return undefined;

  let combos: FieldBound[][] = [[]];
  for (const set of eqSets) {
    const next: FieldBound[][] = [];
    for (const combo of combos) {
      for (const [rank, value] of set)
        next.push([...combo, { rank, lo: value, loInc: true, hi: value, hiInc: true }]);
    }
    combos = next;
  }
  if (range) {
    // mingo compares NaN as equal to any number, so a number range may match it: visit NaN too.
    const nan: FieldBound | undefined =
      range.rank === RANK_NUMBER ? { rank: RANK_NAN, loInc: true, hiInc: true } : undefined;
    combos = combos.flatMap((combo) =>
      nan
        ? [
            [...combo, range],
            [...combo, nan],
          ]
        : [[...combo, range]],
    );
  }
  const list = ordered.entries;
  const dirs = ordered.directions;
  let count = 0;
  const intervals = combos.map((bounds) => {
    const start = list.lowerBound((e) => againstCorner(e, bounds, dirs, true) >= 0);
    const end = list.lowerBound((e) => againstCorner(e, bounds, dirs, false) > 0);
    count += list.countBetween(start, end);
    return { bounds, start, end };
  });
  return { index, ordered, intervals, count, bounded, sort: cover };
}

function plansOf(
  collection: Collection,
  filter: Document | undefined,
  sort: Record<string, 1 | -1> | undefined,
  ctx: QueryContext,
): Plan[] {
  if (indexUse === 'off') return [];
  if (ctx.collation && ctx.collation.locale !== 'simple') return [];
  const constraints = new Map<string, PathConstraint>();
  if (filter) extract(filter, constraints);
  if (!constraints.size && !sort) return [];
  const plans: Plan[] = [];
  for (const index of collection.indexes) {
    const plan = planFor(index, constraints, sort);
    if (plan) plans.push(plan);
  }
  return plans;
}

function bestFilterPlan(plans: Plan[]): Plan | undefined {
  let best: Plan | undefined;
  for (const plan of plans) if (plan.bounded && (!best || plan.count < best.count)) best = plan;
  return best;
}

function before(a: Position, b: Position): boolean {
  return a.chunk < b.chunk || (a.chunk === b.chunk && a.offset < b.offset);
}

/** Record ids within plans' intervals, each once, in record order. */
function idsOf(...plans: Plan[]): number[] {
  const ids: number[] = [];
  for (const plan of plans) {
    const list = plan.ordered.entries;
    for (const interval of plan.intervals) {
      for (let pos = interval.start; before(pos, interval.end); pos = list.next(pos)) {
        const entry = list.at(pos) as Entry;
        engineStats.keysExamined++;
        if (inBounds(entry, interval.bounds)) ids.push(entry.id);
      }
    }
  }
  ids.sort((a, b) => a - b);
  let n = 0;
  for (let i = 0; i < ids.length; i++) if (!i || ids[i] !== ids[i - 1]) ids[n++] = ids[i];
  ids.length = n;
  return ids;
}

function scan(collection: Collection): [number, Document][] {
  engineStats.lastPlan = 'COLLSCAN';
  engineStats.docsExamined += collection.size;
  return collection.entries();
}

/**
 * The documents a filter may match, as [record id, document] in record order: all of them
 * (a scan), or those an index reaches. Callers still test each one with the filter.
 */
export function candidates(
  collection: Collection,
  filter: Document | undefined,
  ctx: QueryContext = {},
): [number, Document][] {
  engineStats.queries++;
  // An `_id` equality reaches at most one document: no other plan can do better.
  const byId = idPlan(collection, filter, ctx);
  const plan = byId ?? bestFilterPlan(plansOf(collection, filter, undefined, ctx));
  const union = byId ? undefined : orPlans(collection, filter, ctx);
  const unionCount = union?.reduce((n, p) => n + p.count, 0) ?? Infinity;
  let chosen: Plan[] | undefined = plan && (!union || plan.count <= unionCount) ? [plan] : union;
  const count = chosen === union ? unionCount : (plan?.count ?? Infinity);
  if (indexUse === 'auto' && count >= collection.size) chosen = undefined;
  if (!chosen) return scan(collection);
  engineStats.indexed++;
  engineStats.lastPlan =
    chosen.length === 1 && chosen !== union
      ? `IXSCAN ${chosen[0].index.name}`
      : `OR ${chosen.map((p) => `IXSCAN ${p.index.name}`).join(', ')}`;
  const out: [number, Document][] = [];
  for (const id of idsOf(...chosen)) out.push([id, collection.get(id) as Document]);
  engineStats.docsExamined += out.length;
  return out;
}

/** The `_id` index's plan for a filter with a plain `_id` value (the commonest write target). */
function idPlan(collection: Collection, filter: Document | undefined, ctx: QueryContext): Plan | undefined {
  if (indexUse === 'off' || !filter || filter._id === undefined) return undefined;
  if (ctx.collation && ctx.collation.locale !== 'simple') return undefined;
  const key = encodeQueryValue(filter._id);
  const index = collection.indexes[0];
  if (!key || !index || index.name !== '_id_') return undefined;
  return planFor(index, new Map([['_id', { eq: [key], ranges: [] }]]), undefined);
}

/**
 * For a filter with a top-level `$or`: one plan per branch (each branch with the rest of the
 * filter), when every branch has one. A match matches some branch, so the union holds it.
 */
function orPlans(
  collection: Collection,
  filter: Document | undefined,
  ctx: QueryContext,
): Plan[] | undefined {
  if (indexUse === 'off' || !filter || !Array.isArray(filter.$or) || !filter.$or.length) return undefined;
  const rest: Document = { ...filter };
  delete rest.$or;
  const plans: Plan[] = [];
  for (const branch of filter.$or as unknown[]) {
    if (!isPlainObject(branch)) return undefined;
    const plan = bestFilterPlan(plansOf(collection, { $and: [rest, branch] }, undefined, ctx));
    if (!plan) return undefined;
    plans.push(plan);
  }
  return plans;
}

/** A cursor over one interval, in the direction the sort needs. */
interface Walk {
  interval: Interval;
  pos: Position;
}

/**
 * The first `need` matches of a sorted query (or a few more: whole runs of equal sort keys),
 * as [record id, document] in sort order, walking an index that gives the order; or undefined
 * when no index is worth it (the caller then scans and sorts).
 */
export function sortedMatches(
  collection: Collection,
  query: Query,
  filter: Document | undefined,
  sortSpec: Document,
  need: number,
  ctx: QueryContext = {},
): [number, Document][] | undefined {
  const sort = normalizeSort(sortSpec);
  if (!sort || need <= 0) return undefined;
  const plans = plansOf(collection, filter, sort, ctx);
  const filterPlan = bestFilterPlan(plans);
  const filterCount = filterPlan?.count ?? collection.size;
  let chosen: Plan | undefined;
  let cost = Infinity;
  for (const plan of plans) {
    if (!plan.sort) continue;
    // Entries walked before `need` matches, if the rest of the filter is spread evenly.
    const walked = Math.min(plan.count, (need * plan.count) / Math.max(1, Math.min(filterCount, plan.count)));
    if (walked < cost) {
      cost = walked;
      chosen = plan;
    }
  }
  // A selective filter plan whose candidates are sorted afterwards may still be cheaper.
  const sortAfter = filterCount * (1 + Math.log2(filterCount + 1) / 8);
  if (!chosen || (indexUse === 'auto' && sortAfter < cost)) return undefined;
  engineStats.queries++;
  engineStats.indexed++;
  engineStats.lastPlan = `IXSCAN ${chosen.index.name} SORT`;
  try {
    return walkSorted(collection, chosen, query, sort, need, ctx);
  } catch {
    // A filter that fails on some document: let the caller's scan fail as it always has.
    return undefined;
  }
}

function walkSorted(
  collection: Collection,
  plan: Plan,
  query: Query,
  sort: Record<string, 1 | -1>,
  need: number,
  ctx: QueryContext,
): [number, Document][] {
  const cover = plan.sort as SortCover;
  const list = plan.ordered.entries;
  const walks: Walk[] = plan.intervals.map((interval) => ({
    interval,
    pos: cover.forward ? interval.start : list.previous(interval.end),
  }));
  const current = (walk: Walk): Entry | undefined => {
    const { pos, interval } = walk;
    if (cover.forward) return before(pos, interval.end) ? list.at(pos) : undefined;
    return pos.chunk >= 0 && !before(pos, interval.start) ? list.at(pos) : undefined;
  };
  const advance = (walk: Walk) => {
    walk.pos = cover.forward ? list.next(walk.pos) : list.previous(walk.pos);
  };
  const compare = (a: Entry, b: Entry): number => {
    for (const { pos, dir } of cover.covered) {
      const ra = a.key[2 * pos];
      const rb = b.key[2 * pos];
      if (ra !== rb) return ra < rb ? -dir : dir;
      const va = a.key[2 * pos + 1];
      const vb = b.key[2 * pos + 1];
      if (va !== vb) return va < vb ? -dir : dir;
    }
    return 0;
  };
  const out: [number, Document][] = [];
  for (;;) {
    let lead: Entry | undefined;
    for (const walk of walks) {
      const entry = current(walk);
      if (entry && (!lead || compare(entry, lead) < 0)) lead = entry;
    }
    if (!lead) break;
    // One run: every entry whose sort key equals the lead's, from every interval.
    let ids: number[] = [];
    for (const walk of walks) {
      for (let entry = current(walk); entry && compare(entry, lead) === 0; entry = current(walk)) {
        engineStats.keysExamined++;
        if (inBounds(entry, walk.interval.bounds)) ids.push(entry.id);
        advance(walk);
      }
    }
    // Most runs hold one record; several are put in record order, each once.
    if (ids.length > 1) ids = [...new Set(ids)].sort((a, b) => a - b);
    let run: [number, Document][] = [];
    for (const id of ids) {
      const doc = collection.get(id) as Document;
      engineStats.docsExamined++;
      if (query.test(doc)) run.push([id, doc]);
    }
    if (run.length > 1 && !cover.complete) {
      // Ties on the index's fields: the rest of the sort, by mingo (stable, so record order stays).
      const idOf = new Map(run.map(([id, doc]) => [doc, id] as const));
      run = findDocs(
        run.map(([, doc]) => doc),
        { sort },
        ctx,
      ).map((doc) => [idOf.get(doc) as number, doc]);
    }
    out.push(...run);
    if (out.length >= need) break;
  }
  return out;
}

/** Records with a date at most `cutoff` (ms) in the index's first field, in record order (for the TTL monitor). */
export function datesUpTo(ordered: OrderedIndex, cutoff: number): number[] {
  const bounds: FieldBound[] = [{ rank: RANK_DATE, hi: cutoff, loInc: true, hiInc: true }];
  const list = ordered.entries;
  const dirs = ordered.directions;
  const plan = {
    intervals: [
      {
        bounds,
        start: list.lowerBound((e) => againstCorner(e, bounds, dirs, true) >= 0),
        end: list.lowerBound((e) => againstCorner(e, bounds, dirs, false) > 0),
      },
    ],
    ordered,
  } as Plan;
  return idsOf(plan);
}

/** find's documents: filter, sort, skip, limit and projection, with an index where one helps. */
export function findInCollection(
  collection: Collection | undefined,
  args: { filter?: Document; sort?: Document; projection?: Document; skip?: number; limit?: number },
  ctx: QueryContext,
): Document[] {
  if (!collection) return findDocs([], args, ctx);
  const query = compileFilter(args.filter, ctx);
  if (args.sort && args.limit) {
    const top = sortedMatches(collection, query, args.filter, args.sort, (args.skip ?? 0) + args.limit, ctx);
    if (top) {
      return findDocs(
        top.map(([, doc]) => doc),
        { projection: args.projection, skip: args.skip, limit: args.limit },
        ctx,
      );
    }
  }
  const docs = candidates(collection, args.filter, ctx).map(([, doc]) => doc);
  return findDocs(docs, args, ctx);
}
