/** Small pieces several command groups share. */
import type { Document } from 'bson';
import { canonical, cloneDoc, isPlainObject } from '../bson.js';
import type { Collection } from '../collection.js';
import type { QueryContext } from '../query.js';
import { fail } from '../errors.js';
import type { CommandContext } from './types.js';

/** Query context of a command: its collation and let variables, and same-db $lookup. */
export function queryContext(
  ctx: CommandContext,
  extra: { collation?: unknown; let?: unknown } = {},
): QueryContext {
  return {
    collation: (extra.collation as Document | undefined) ?? undefined,
    variables: (extra.let as Document | undefined) ?? undefined,
    // Copies: $lookup embeds these in its output, where later stages may write into them.
    resolveCollection: (name: string) =>
      (ctx.store.get(ctx.db, name)?.documents() ?? []).map((doc) => cloneDoc(doc)),
  };
}

/** Options mongod has that this engine does not carry: refused when set, never ignored. */
export function refuseIfSet(command: string, body: Document, fields: string[]): void {
  for (const field of fields) {
    const value = body[field];
    if (value !== undefined && value !== null && value !== false) {
      fail(2, `${command}.${field} is not supported by the Laurel test engine (test equipment)`);
    }
  }
}

/** A hint must name an index that exists, as mongod's planner insists (the engine then scans). */
export function checkHint(collection: Collection | undefined, hint: unknown): void {
  if (hint === undefined || hint === null || !collection) return;
  if (isPlainObject(hint) && (!Object.keys(hint).length || '$natural' in hint)) return;
  const found =
    typeof hint === 'string'
      ? collection.findIndex(hint)
      : collection.indexes.find((index) => canonical(index.spec.key) === canonical(hint));
  if (!found)
    fail(2, 'planner returned error :: caused by :: hint provided does not correspond to an existing index');
}
