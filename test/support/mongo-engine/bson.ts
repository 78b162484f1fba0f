/**
 * BSON helpers: the one set of deserialisation options, faithful cloning, mongod's type names,
 * and a canonical text for values so that equal keys (1 == 1.0 == Long(1)) compare equal.
 */
import { BSON, type Document, type DeserializeOptions } from 'bson';

/** Long stays Long (so it round-trips); Binary stays Binary; everything else is promoted. */
export const DESERIALIZE_OPTIONS: DeserializeOptions = {
  promoteLongs: false,
  promoteValues: true,
  promoteBuffers: false,
};

export function decode(bytes: Uint8Array): Document {
  return BSON.deserialize(bytes, DESERIALIZE_OPTIONS);
}

export function encode(doc: Document): Uint8Array {
  // Undefined fields are dropped, as mongod never stores them.
  return BSON.serialize(doc, { ignoreUndefined: true });
}

/** A deep copy that keeps every BSON type, so nothing outside the store shares its objects. */
export function cloneDoc<T extends Document>(doc: T): T {
  return decode(encode(doc)) as T;
}

export function bsonTag(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/** A plain embedded document: not an array, Date, RegExp or BSON value class. */
export function isPlainObject(value: unknown): value is Document {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof RegExp) &&
    bsonTag(value) === undefined &&
    !(value instanceof Uint8Array)
  );
}

/** The type name mongod uses in its messages ("int", "string", "object", "objectId", ...). */
export function bsonTypeName(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      // Integral numbers in int32 range travel as int32 over the wire; others as double.
      return Number.isInteger(value) && Math.abs(value) <= 0x7fffffff ? 'int' : 'double';
    case 'bigint':
      return 'long';
    case 'function':
      return 'javascript';
  }
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  const tag = bsonTag(value);
  const names: Record<string, string> = {
    ObjectId: 'objectId',
    Long: 'long',
    Int32: 'int',
    Double: 'double',
    Decimal128: 'decimal',
    Binary: 'binData',
    Timestamp: 'timestamp',
    BSONRegExp: 'regex',
    Code: 'javascript',
    MinKey: 'minKey',
    MaxKey: 'maxKey',
    BSONSymbol: 'symbol',
    DBRef: 'object',
  };
  if (tag) return names[tag] ?? tag;
  return 'object';
}

export function isNumeric(value: unknown): boolean {
  const tag = bsonTag(value);
  return (
    typeof value === 'number' || tag === 'Long' || tag === 'Int32' || tag === 'Double' || tag === 'Decimal128'
  );
}

export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'toString' in value) return Number(String(value));
  return Number.NaN;
}

/**
 * Text that is equal for values MongoDB treats as equal in an index or a distinct:
 * numbers by value whatever their width, embedded documents in field order.
 */
export function canonical(value: unknown): string {
  if (value === undefined) return 'u';
  if (value === null) return 'z';
  if (typeof value === 'string') return `s${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return value ? 'b1' : 'b0';
  if (isNumeric(value)) {
    const n = toNumber(value);
    return `n${Object.is(n, -0) ? 0 : n}`;
  }
  if (value instanceof Date) return `d${value.getTime()}`;
  if (value instanceof RegExp) return `r/${value.source}/${value.flags}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const tag = bsonTag(value);
  if (tag === 'ObjectId') return `o${String((value as { toHexString(): string }).toHexString())}`;
  if (tag === 'Binary') {
    const bin = value as { sub_type: number; toString(encoding: 'base64'): string };
    return `x${bin.sub_type}:${bin.toString('base64')}`;
  }
  if (tag) return `${tag}:${JSON.stringify(value)}`;
  const entries = Object.entries(value as Document).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`);
  return `{${entries.join(',')}}`;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}
