/**
 * Checks mongod makes on arithmetic update operators that mingo does not: mingo skips a
 * non-numeric target silently and knows only JavaScript numbers, so those cases are refused
 * here with mongod's error (or a clear "not supported") instead of answering wrongly.
 */
import type { Document } from 'bson';
import { resolve } from 'mingo/util';
import { bsonTag, bsonTypeName, isPlainObject } from './bson.js';
import { fail } from './errors.js';
import { formatValue } from './format.js';

const ARITHMETIC = ['$inc', '$mul', '$bit', '$min', '$max'];
const NEEDS_NUMBER = new Set(['$inc', '$mul', '$bit']);

function isWide(value: unknown): boolean {
  const tag = bsonTag(value);
  if (tag === 'Long' || tag === 'Decimal128') return true;
  return isPlainObject(value) && Object.values(value).some(isWide);
}

export function guardArithmetic(doc: Document, mods: Document): void {
  for (const op of ARITHMETIC) {
    const fields = mods[op] as Document | undefined;
    if (!fields) continue;
    for (const [path, operand] of Object.entries(fields)) {
      // Positional paths are resolved by mingo; only plain paths are checked here.
      const current = path.includes('$') ? undefined : resolve(doc, path);
      if (isWide(operand) || isWide(current)) {
        fail(
          2,
          `${op} on a Long or Decimal128 value ('${path}') is not supported by the Laurel test engine: its update operators (mingo) work on JavaScript numbers only`,
        );
      }
      if (NEEDS_NUMBER.has(op) && current !== undefined && typeof current !== 'number') {
        fail(
          14,
          `Cannot apply ${op} to a value of non-numeric type. {_id: ${formatValue(doc._id)}} has the field '${path}' of non-numeric type ${bsonTypeName(current)}`,
        );
      }
    }
  }
}
