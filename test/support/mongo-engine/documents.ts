/** Rules for what may be stored: _id first and valid, no $-prefixed top-level fields. */
import { ObjectId, type Document } from 'bson';
import { bsonTag, isPlainObject } from './bson.js';
import { fail } from './errors.js';
import { formatValue } from './format.js';

function isRegex(value: unknown): boolean {
  return value instanceof RegExp || bsonTag(value) === 'BSONRegExp';
}

/** The _id an update or upsert leaves behind (mongod's update path answers 53). */
export function checkId(id: unknown): void {
  if (Array.isArray(id)) fail(53, "The '_id' value cannot be of type array");
  if (isRegex(id)) fail(53, "The '_id' value cannot be of type regex");
}

/** Refuses what mongod's insert path refuses (BadValue, with its messages). */
export function checkInsertable(doc: Document): void {
  for (const field of Object.keys(doc)) {
    if (field.startsWith('$')) fail(2, `Document can't have $ prefixed field names: ${field}`);
  }
  if (!('_id' in doc)) return;
  const id: unknown = doc._id;
  if (isRegex(id)) fail(2, "can't use a regex for _id");
  if (id === undefined) fail(2, "can't use a undefined for _id");
  if (Array.isArray(id)) fail(2, "can't use an array for _id");
  if (isPlainObject(id) && Object.keys(id).some((k) => k.startsWith('$'))) {
    fail(2, `_id fields may not contain '$'-prefixed fields: ${formatValue(id)}`);
  }
}

/**
 * The document with `_id` as its first field. A missing or undefined `_id` gets a fresh
 * ObjectId, as mongod does; storing `_id: undefined` would make every such document collide.
 */
export function withIdFirst(doc: Document, id?: unknown): Document {
  const chosen = id !== undefined ? id : doc._id !== undefined ? doc._id : new ObjectId();
  const out: Document = { _id: chosen };
  for (const [field, value] of Object.entries(doc)) {
    if (field !== '_id' && value !== undefined) out[field] = value;
  }
  return out;
}
