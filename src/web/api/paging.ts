import { Types } from 'mongoose';
import { z } from 'zod';
import { parseOr400 } from '../validation.js';

export const pagingShape = {
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1)
    .max(500)
    .default(50),
  cursor: z
    .string()
    .regex(/^[0-9a-f]{24}$/i, 'must be the "next" value of an earlier page')
    .optional(),
};

export const objectIdParam = z
  .string()
  .regex(/^[0-9a-f]{24}$/i, 'must be a Laurel id (24 hexadecimal characters)');

/** Lists answer `{ items, next }`; `next` is the cursor of the following page or null. */
export function page<T, U>(docs: (T & { _id: Types.ObjectId })[], limit: number, map: (d: T) => U) {
  const items = docs.slice(0, limit);
  const next = docs.length > limit ? String(items[items.length - 1]!._id) : null;
  return { items: items.map(map), next };
}

export function parseQuery<S extends z.ZodRawShape>(shape: S, query: unknown) {
  return parseOr400(z.strictObject({ ...pagingShape, ...shape }), query, 'query string');
}

export const afterCursor = (cursor: string | undefined) => (cursor ? new Types.ObjectId(cursor) : undefined);
