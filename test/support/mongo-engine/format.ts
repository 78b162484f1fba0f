/**
 * Values written the way mongod writes them inside error messages, e.g.
 * `{ email: "a@b.c" }`, `ObjectId('…')`, `new Date(1700000000000)`.
 */
import type { Document } from 'bson';
import { bsonTag, toNumber } from './bson.js';

export function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (value instanceof RegExp) return `/${value.source}/${value.flags}`;
  if (Array.isArray(value)) return value.length ? `[ ${value.map(formatValue).join(', ')} ]` : '[]';
  const tag = bsonTag(value);
  switch (tag) {
    case undefined:
      return formatDocument(value as Document);
    case 'ObjectId':
      return `ObjectId('${(value as { toHexString(): string }).toHexString()}')`;
    case 'Long':
    case 'Int32':
    case 'Double':
      return String(toNumber(value));
    case 'Decimal128':
      return `NumberDecimal("${String(value)}")`;
    case 'Binary': {
      const bin = value as { sub_type: number; toString(encoding: 'hex'): string };
      return `BinData(${bin.sub_type}, ${bin.toString('hex').toUpperCase()})`;
    }
    case 'Timestamp': {
      const ts = value as { t: number; i: number };
      return `Timestamp(${ts.t}, ${ts.i})`;
    }
    case 'MinKey':
      return 'MinKey';
    case 'MaxKey':
      return 'MaxKey';
    default:
      return String(value);
  }
}

export function formatDocument(doc: Document): string {
  const entries = Object.entries(doc).filter(([, v]) => v !== undefined);
  if (!entries.length) return '{}';
  return `{ ${entries.map(([k, v]) => `${k}: ${formatValue(v)}`).join(', ')} }`;
}
