/**
 * A change event's updateDescription, computed from the document before and after the write, the
 * way mongod computes the delta of a pipeline-style update (doc_diff): changed fields of embedded
 * documents as dotted paths, array elements by index, shortened arrays in truncatedArrays.
 * For operator updates mongod logs the paths the operators named instead, so where an update
 * `$set`s a whole embedded document mongod reports it whole and this engine reports the fields
 * inside it that changed.
 */
import type { Document } from 'bson';
import { isPlainObject, sameValue } from './bson.js';

export interface UpdateDescription {
  updatedFields: Document;
  removedFields: string[];
  truncatedArrays: { field: string; newSize: number }[];
}

function diffArrays(path: string, before: unknown[], after: unknown[], out: UpdateDescription): void {
  const common = Math.min(before.length, after.length);
  if (after.length < before.length) out.truncatedArrays.push({ field: path, newSize: after.length });
  for (let i = 0; i < common; i++) diffValue(`${path}.${i}`, before[i], after[i], out);
  for (let i = common; i < after.length; i++) out.updatedFields[`${path}.${i}`] = after[i];
}

function diffValue(path: string, before: unknown, after: unknown, out: UpdateDescription): void {
  if (sameValue(before, after)) return;
  if (isPlainObject(before) && isPlainObject(after)) return diffDocuments(`${path}.`, before, after, out);
  if (Array.isArray(before) && Array.isArray(after)) return diffArrays(path, before, after, out);
  out.updatedFields[path] = after;
}

function diffDocuments(prefix: string, before: Document, after: Document, out: UpdateDescription): void {
  for (const key of Object.keys(before)) {
    if (before[key] !== undefined && after[key] === undefined) out.removedFields.push(`${prefix}${key}`);
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    if (before[key] === undefined) out.updatedFields[`${prefix}${key}`] = value;
    else diffValue(`${prefix}${key}`, before[key], value, out);
  }
}

export function describeUpdate(before: Document, after: Document): UpdateDescription {
  const out: UpdateDescription = { updatedFields: {}, removedFields: [], truncatedArrays: [] };
  diffDocuments('', before, after, out);
  return out;
}
