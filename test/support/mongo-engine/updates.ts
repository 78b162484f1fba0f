/**
 * Update documents applied with mingo's update operators (mingo/updater), plus the parts
 * mingo leaves to the server: $setOnInsert, the immutable _id, replacement documents and
 * the document an upsert inserts.
 */
import type { Document } from 'bson';
import { updateOne, type Modifier, type PipelineStage } from 'mingo/updater';
import { cloneDeep, isEqual } from 'mingo/util';
import { bsonTypeName, canonical, cloneDoc, isPlainObject, sameValue } from './bson.js';
import { fail } from './errors.js';
import { checkId, withIdFirst } from './documents.js';
import { formatValue } from './format.js';
import { mingoOptions, withMingo, type QueryContext } from './query.js';
import { guardArithmetic } from './update-guards.js';
import { upsertSeed } from './upsert-seed.js';

export type UpdateSpec =
  | { kind: 'operators'; ops: Document }
  | { kind: 'replacement'; doc: Document }
  | { kind: 'pipeline'; stages: Document[] };

const OPERATORS = new Set([
  '$addToSet',
  '$bit',
  '$currentDate',
  '$inc',
  '$max',
  '$min',
  '$mul',
  '$pop',
  '$pull',
  '$pullAll',
  '$push',
  '$rename',
  '$set',
  '$setOnInsert',
  '$unset',
]);
const PIPELINE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);
const IMMUTABLE = "Performing an update on the path '_id' would modify the immutable field '_id'";

/** Classifies and checks an update ("u", "update") the way mongod parses it. */
export function parseUpdate(u: unknown, field: string): UpdateSpec {
  if (Array.isArray(u)) {
    for (const stage of u) {
      if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
        fail(9, 'A pipeline stage specification object must contain exactly one field.');
      }
      const name = Object.keys(stage)[0];
      if (!PIPELINE_STAGES.has(name)) fail(72, `${name} is not allowed to be used within an update`);
    }
    return { kind: 'pipeline', stages: u as Document[] };
  }
  if (!isPlainObject(u))
    fail(
      14,
      `BSON field '${field}' is the wrong type '${bsonTypeName(u)}', expected types '[object, array']'`,
    );
  const keys = Object.keys(u);
  if (!keys.length || !keys[0].startsWith('$')) {
    for (const key of keys) {
      if (key.startsWith('$')) {
        fail(
          52,
          `The dollar ($) prefixed field '${key}' in '${key}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
        );
      }
    }
    checkId(u._id);
    return { kind: 'replacement', doc: u };
  }
  for (const op of keys) {
    if (!OPERATORS.has(op)) {
      fail(
        9,
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    const value = u[op];
    if (!isPlainObject(value)) {
      fail(
        9,
        `Modifiers operate on fields but we found type ${bsonTypeName(value)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${formatValue(value)}}`,
      );
    }
  }
  return { kind: 'operators', ops: u };
}

export interface ApplyOptions {
  filter?: Document;
  arrayFilters?: Document[];
  ctx?: QueryContext;
  /** True when the document is the one an upsert is about to insert. */
  inserting?: boolean;
}

function checkArrayFilters(ops: Document, arrayFilters: Document[]): void {
  const declared = new Map<string, boolean>();
  for (const filter of arrayFilters) {
    const first = Object.keys(filter)[0];
    if (!first) fail(9, 'Cannot use an expression without a top-level field name in arrayFilters');
    const id = first.split('.')[0];
    if (declared.has(id)) fail(9, `Found multiple array filters with the same top-level field name ${id}`);
    declared.set(id, false);
  }
  for (const fields of Object.values(ops)) {
    for (const path of Object.keys(fields as Document)) {
      // Most paths name no identifier: no regex for them (updates of many documents check each one).
      if (!path.includes('$[')) continue;
      for (const match of path.matchAll(/\$\[([^\]]+)\]/g)) {
        if (!declared.has(match[1]))
          fail(2, `No array filter found for identifier '${match[1]}' in path '${path}'`);
        declared.set(match[1], true);
      }
    }
  }
  for (const [id, used] of declared) {
    if (!used)
      fail(9, `The array filter for identifier '${id}' was not used in the update ${formatValue(ops)}`);
  }
}

/** Maps mingo's update complaints onto mongod's codes. */
function runMingoUpdate(
  target: Document[],
  condition: Document,
  update: Document | Document[],
  options: ApplyOptions,
): number {
  try {
    const config = { arrayFilters: options.arrayFilters, cloneMode: 'deep' as const };
    const result = updateOne(
      target,
      condition,
      update as Modifier<Document> | PipelineStage[],
      config,
      mingoOptions(options.ctx),
    );
    return result.modifiedCount;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/immutable field/.test(message)) fail(66, IMMUTABLE);
    const conflict = /updating the path '([^']*)' would create a conflict at '([^']*)'/i.exec(message);
    if (conflict) fail(40, `Updating the path '${conflict[1]}' would create a conflict at '${conflict[2]}'`);
    if (/non-numeric argument/.test(message))
      fail(14, `Cannot increment with non-numeric argument: ${formatValue(update)}`);
    if (/include the array field for '\.\$'/.test(message))
      fail(2, 'The positional operator did not find the match needed from the query.');
    return withMingo('update', () => {
      throw error;
    });
  }
}

function applyOperators(
  doc: Document,
  ops: Document,
  options: ApplyOptions,
): { doc: Document; modified: boolean } {
  const mods: Document = {};
  for (const [op, fields] of Object.entries(ops)) {
    if (op === '$setOnInsert') continue;
    mods[op] = { ...(fields as Document) };
  }
  if (options.inserting && ops.$setOnInsert) {
    const set: Document = (mods.$set as Document | undefined) ?? {};
    for (const [path, value] of Object.entries(ops.$setOnInsert as Document)) {
      if (path in set) fail(40, `Updating the path '${path}' would create a conflict at '${path}'`);
      set[path] = value;
    }
    mods.$set = set;
  }
  // Setting _id to the value it already has is allowed; mingo refuses any write to _id.
  const set = mods.$set as Document | undefined;
  if (set && '_id' in set) {
    if (!sameValue(set._id, doc._id)) fail(66, IMMUTABLE);
    delete set._id;
  }
  for (const op of Object.keys(mods)) if (!Object.keys(mods[op] as Document).length) delete mods[op];
  checkArrayFilters(mods, options.arrayFilters ?? []);
  if (!Object.keys(mods).length) return { doc, modified: false };
  guardArithmetic(doc, mods);
  if (!options.arrayFilters?.length) {
    const simple = applyTopLevel(doc, mods);
    if (simple) return simple;
  }
  const paths = Object.values(mods).flatMap((fields) => Object.keys(fields as Document));
  // The filter only matters to the positional "$"; the document already matched it.
  const condition = paths.some((p) => /\.\$(\.|$)/.test(p)) ? (options.filter ?? {}) : {};
  const target = [cloneDoc(doc)];
  const modified = runMingoUpdate(target, condition, mods, options) > 0;
  return modified ? { doc: target[0], modified } : { doc, modified };
}

const SIMPLE_OPERATORS = new Set(['$set', '$unset', '$inc']);
/** A top-level field name no update operator treats specially (no dots, `$`, digits or prototype names). */
const PLAIN_FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PROTO_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/**
 * `$set`, `$unset` and `$inc` on distinct top-level fields (most updates a server sees), applied
 * as mingo's operators apply them (test/engine/update-fast-path.test.ts compares both), without a
 * deep copy of the document: the result is a new top-level object sharing the untouched values,
 * which is safe because stored documents are never mutated, only replaced. Undefined when the
 * update needs mingo (any other operator, a path, a repeated field, a non-numeric $inc).
 */
function applyTopLevel(doc: Document, mods: Document): { doc: Document; modified: boolean } | undefined {
  const seen = new Set<string>();
  for (const [op, fields] of Object.entries(mods)) {
    if (!SIMPLE_OPERATORS.has(op)) return undefined;
    for (const [field, value] of Object.entries(fields as Document)) {
      if (!PLAIN_FIELD.test(field) || PROTO_NAMES.has(field) || field === '_id' || seen.has(field))
        return undefined;
      seen.add(field);
      if (op === '$inc') {
        const current: unknown = doc[field];
        if (!isNumber(value) || !(current === undefined || typeof current === 'number')) return undefined;
      }
    }
  }
  const next: Document = { ...doc };
  let modified = false;
  for (const [op, fields] of Object.entries(mods)) {
    for (const [field, value] of Object.entries(fields as Document)) {
      const has = Object.prototype.hasOwnProperty.call(next, field);
      if (op === '$set') {
        // The same string, boolean, null or object is equal without a deep comparison (numbers go
        // to isEqual: 0 and -0); a primitive copies as itself.
        const same = next[field] === value && typeof value !== 'number';
        if (has && (same || isEqual(next[field], value))) continue;
        next[field] = value !== null && typeof value === 'object' ? cloneDeep(value) : value;
        modified = true;
      } else if (op === '$unset') {
        if (!has) continue;
        delete next[field];
        modified = true;
      } else {
        // mingo's $inc: NaN is left as it is; a missing field (or -0) starts at 0 and is
        // written even when the sum equals what was there.
        const previous = next[field] as number | undefined;
        if (previous !== undefined && !isNumber(previous)) continue;
        next[field] = (previous || 0) + (value as number);
        if (next[field] !== previous) modified = true;
      }
    }
  }
  return modified ? { doc: next, modified } : { doc, modified };
}

function applyReplacement(doc: Document, replacement: Document): { doc: Document; modified: boolean } {
  if (replacement._id !== undefined && !sameValue(replacement._id, doc._id)) {
    fail(
      66,
      `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatValue(replacement._id)}`,
    );
  }
  const next = withIdFirst(cloneDoc(replacement), doc._id);
  return { doc: next, modified: canonical(next) !== canonical(doc) };
}

function applyPipeline(
  doc: Document,
  stages: Document[],
  options: ApplyOptions,
): { doc: Document; modified: boolean } {
  const target = [cloneDoc(doc)];
  runMingoUpdate(target, {}, stages, options);
  const next = target[0];
  if (next._id === undefined) next._id = doc._id;
  if (!sameValue(next._id, doc._id)) {
    fail(
      66,
      `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatValue(next._id)}`,
    );
  }
  const ordered = withIdFirst(next, doc._id);
  return { doc: ordered, modified: canonical(ordered) !== canonical(doc) };
}

/** The updated document (a new object; the stored one is untouched) and whether it changed. */
export function applyUpdate(
  doc: Document,
  spec: UpdateSpec,
  options: ApplyOptions = {},
): { doc: Document; modified: boolean } {
  switch (spec.kind) {
    case 'operators':
      return applyOperators(doc, spec.ops, options);
    case 'replacement':
      return applyReplacement(doc, spec.doc);
    case 'pipeline':
      return applyPipeline(doc, spec.stages, options);
  }
}

/**
 * The document an upsert inserts: for a replacement, the replacement (with the filter's
 * _id if it has none); otherwise the filter's equality fields with the update applied.
 * With no _id from anywhere (or `_id: undefined`) it gets a fresh ObjectId.
 */
export function upsertDocument(filter: Document, spec: UpdateSpec, options: ApplyOptions = {}): Document {
  const seed = upsertSeed(filter);
  if (spec.kind === 'replacement') {
    const doc = cloneDoc(spec.doc);
    return withIdFirst(doc, spec.doc._id !== undefined ? spec.doc._id : seed._id);
  }
  let doc: Document = seed;
  if (spec.kind === 'operators') {
    const set = spec.ops.$set as Document | undefined;
    const onInsert = spec.ops.$setOnInsert as Document | undefined;
    const givenId = set && '_id' in set ? set._id : onInsert && '_id' in onInsert ? onInsert._id : undefined;
    if (givenId !== undefined) {
      if (seed._id !== undefined && !sameValue(seed._id, givenId)) fail(66, IMMUTABLE);
      doc = { ...seed, _id: givenId };
    }
    doc = applyOperators(withIdFirst(doc), spec.ops, { ...options, filter: {}, inserting: true }).doc;
  } else {
    doc = applyPipeline(withIdFirst(doc), spec.stages, options).doc;
  }
  checkId(doc._id);
  return withIdFirst(doc);
}
