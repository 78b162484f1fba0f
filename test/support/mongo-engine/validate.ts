/**
 * Strict parsing of command fields, with the messages mongod's IDL parser gives:
 * missing required field (40414), unknown field (40415), wrong type (14 TypeMismatch).
 */
import type { Document } from 'bson';
import { bsonTypeName, toNumber } from './bson.js';
import { fail } from './errors.js';

export type FieldType = 'string' | 'object' | 'array' | 'bool' | 'number' | 'long' | 'objectOrString' | 'any';

export interface FieldSpec {
  type: FieldType;
  required?: boolean;
}

export type Spec = Record<string, FieldSpec | FieldType>;

/** The types each FieldType accepts, in the order mongod lists them. */
const ACCEPTS: Record<Exclude<FieldType, 'any'>, string[]> = {
  string: ['string'],
  object: ['object'],
  array: ['array'],
  // IDL "safeBool": numbers are accepted as truth values.
  bool: ['bool', 'long', 'int', 'decimal', 'double'],
  // IDL "safeInt64" and friends.
  number: ['long', 'int', 'decimal', 'double'],
  long: ['long'],
  objectOrString: ['string', 'object'],
};

/** Fields every command may carry; this engine accepts and ignores them. */
const GENERIC_FIELDS: Spec = {
  $db: 'string',
  lsid: 'object',
  $readPreference: 'object',
  writeConcern: 'object',
  readConcern: 'object',
  $clusterTime: 'object',
  comment: 'any',
  maxTimeMS: 'number',
  apiVersion: 'string',
  apiStrict: 'bool',
  apiDeprecationErrors: 'bool',
  $audit: 'object',
  $client: 'object',
  mayBypassWriteBlocking: 'bool',
  // Refused earlier by the dispatcher (standalone): listed so they are not "unknown".
  txnNumber: 'any',
  autocommit: 'any',
  startTransaction: 'any',
};

function typeError(path: string, value: unknown, accepted: string[]): never {
  const actual = bsonTypeName(value);
  const expected =
    accepted.length === 1 ? `expected type '${accepted[0]}'` : `expected types '[${accepted.join(', ')}']'`;
  fail(14, `BSON field '${path}' is the wrong type '${actual}', ${expected}`);
}

function checkType(path: string, value: unknown, type: FieldType): void {
  if (type === 'any') return;
  const accepted = ACCEPTS[type];
  if (!accepted.includes(bsonTypeName(value))) typeError(path, value, accepted);
}

/**
 * Checks `doc` against `spec`. `context` is the dotted name mongod prints (e.g. "update.updates").
 * The command-name field itself (first key) is checked by the caller, so pass `skip` for it.
 */
export function checkFields(
  context: string,
  doc: Document,
  spec: Spec,
  options: { generic?: boolean; skip?: string } = {},
): void {
  const all: Spec = options.generic ? { ...GENERIC_FIELDS, ...spec } : spec;
  for (const [name, value] of Object.entries(doc)) {
    if (name === options.skip) continue;
    const entry = all[name];
    if (!entry) fail(40415, `BSON field '${context}.${name}' is an unknown field.`);
    // An explicit null is treated as absent by mongod's IDL for optional fields.
    if (value === undefined || (value === null && !(typeof entry === 'object' && entry.required))) continue;
    checkType(`${context}.${name}`, value, typeof entry === 'string' ? entry : entry.type);
  }
  for (const [name, entry] of Object.entries(spec)) {
    if (typeof entry === 'object' && entry.required && (doc[name] === undefined || doc[name] === null)) {
      fail(40414, `BSON field '${context}.${name}' is missing but a required field`);
    }
  }
}

export function truthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  return toNumber(value) !== 0;
}

/** A whole, non-negative count (skip, limit, batchSize), as mongod requires. */
export function nonNegative(name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = toNumber(value);
  if (!Number.isInteger(n) && Number.isFinite(n)) fail(2, `${name} must be a whole number, not ${n}`);
  if (n < 0) fail(51024, `BSON field '${name}' value must be >= 0, actual value '${n}'`);
  return n;
}

/** The collection name in the command's first field, validated as mongod validates it. */
export function collectionName(command: string, body: Document, db: string): string {
  const value = body[command];
  if (typeof value !== 'string') {
    fail(73, `collection name has invalid type ${bsonTypeName(value)}`);
  }
  if (value === '' || value.includes('\0') || value.startsWith('.') || value.includes('$')) {
    fail(73, `Invalid namespace specified '${db}.${value}'`);
  }
  return value;
}
