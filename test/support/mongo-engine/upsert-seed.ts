/**
 * The fields an upsert copies from its filter into the inserted document: the equality
 * conditions (`a: v`, `a: {$eq: v}`, inside `$and` or a one-clause `$or`), as mongod does.
 */
import type { Document } from 'bson';
import { isPlainObject, sameValue } from './bson.js';
import { fail } from './errors.js';

function collect(filter: Document, out: Map<string, unknown>): void {
  for (const [field, value] of Object.entries(filter)) {
    if (field === '$and' || (field === '$or' && Array.isArray(value) && value.length === 1)) {
      if (Array.isArray(value)) for (const clause of value) if (isPlainObject(clause)) collect(clause, out);
      continue;
    }
    if (field.startsWith('$')) continue;
    let equal: unknown;
    if (isPlainObject(value) && Object.keys(value)[0]?.startsWith('$')) {
      if (!('$eq' in value)) continue;
      equal = value.$eq;
    } else if (value instanceof RegExp) {
      continue;
    } else {
      equal = value;
    }
    const known = out.get(field);
    if (out.has(field) && !sameValue(known, equal)) {
      fail(54, `cannot infer query fields to set, path '${field}' is matched twice`);
    }
    out.set(field, equal);
  }
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = doc;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined) node[part] = {};
    else if (!isPlainObject(next))
      fail(54, `cannot infer query fields to set, path '${path}' is matched twice`);
    node = node[part] as Document;
  }
  node[parts[parts.length - 1]] = value;
}

export function upsertSeed(filter: Document): Document {
  const fields = new Map<string, unknown>();
  collect(filter, fields);
  const paths = [...fields.keys()];
  for (const a of paths) {
    for (const b of paths) {
      if (a !== b && b.startsWith(`${a}.`)) {
        fail(54, `cannot infer query fields to set, both paths '${a}' and '${b}' are matched`);
      }
    }
  }
  const doc: Document = {};
  // _id first, as mongod stores it.
  if (fields.has('_id')) doc._id = fields.get('_id');
  for (const [path, value] of fields) if (path !== '_id') setPath(doc, path, value);
  return doc;
}
