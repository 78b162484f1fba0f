import type { z } from 'zod';
import { HttpError } from '../errors.js';
import { formatIssues } from '../rules/index.js';

/** Parses input with a schema or throws a 400 whose details name every bad field. */
export function parseOr400<T extends z.ZodType>(schema: T, input: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = formatIssues(result.error).map((d) => ({ path: d.path || '(body)', message: d.message }));
  throw new HttpError(
    400,
    'invalid_request',
    `The ${what} is not valid: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}.`,
    details,
  );
}
