/** Writes: insert, update and delete, with per-statement writeErrors as mongod answers them. */
import type { Document } from 'bson';
import type { Collection } from '../collection.js';
import { bsonTypeName, isPlainObject, toNumber } from '../bson.js';
import { checkInsertable, withIdFirst } from '../documents.js';
import { CommandError, fail } from '../errors.js';
import { candidates, sortedMatches } from '../planner.js';
import { compileFilter, findDocs, withMingo, type QueryContext } from '../query.js';
import { applyUpdate, parseUpdate, upsertDocument } from '../updates.js';
import { checkFields, collectionName, truthy } from '../validate.js';
import { queryContext } from './shared.js';
import type { CommandContext, Handler } from './types.js';

/**
 * Runs statements in order, collecting writeErrors; an ordered batch stops at the first.
 * `parse` runs over every statement first: like mongod's IDL parsing, a malformed statement
 * fails the whole command before anything is written.
 */
function runStatements(
  ordered: boolean,
  statements: unknown[],
  parse: (statement: unknown) => Document,
  run: (statement: Document, index: number) => void,
): Document[] {
  if (!statements.length || statements.length > 100_000) {
    fail(16, `Write batch sizes must be between 1 and 100000. Got ${statements.length} operations.`);
  }
  const parsed = statements.map(parse);
  const writeErrors: Document[] = [];
  for (const [index, statement] of parsed.entries()) {
    try {
      run(statement, index);
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      writeErrors.push(error.toWriteError(index));
      if (ordered) break;
    }
  }
  return writeErrors;
}

function asObject(field: string): (statement: unknown) => Document {
  return (statement) => {
    if (!isPlainObject(statement))
      fail(
        14,
        `BSON field '${field}' contains an element of type '${bsonTypeName(statement)}', expected type 'object'`,
      );
    return statement;
  };
}

function insert(ctx: CommandContext): Document {
  const { body } = ctx;
  const name = collectionName('insert', body, ctx.db);
  checkFields(
    'insert',
    body,
    {
      documents: { type: 'array', required: true },
      ordered: 'bool',
      bypassDocumentValidation: 'bool',
      stmtIds: 'array',
    },
    { generic: true, skip: 'insert' },
  );
  const { collection } = ctx.store.ensure(ctx.db, name);
  let n = 0;
  const ordered = body.ordered === undefined || truthy(body.ordered);
  const writeErrors = runStatements(
    ordered,
    body.documents as unknown[],
    asObject('insert.documents'),
    (doc) => {
      checkInsertable(doc);
      collection.insert(withIdFirst(doc));
      n++;
    },
  );
  return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}

/** Record ids of the documents a statement targets: all, or the first (in sort order if given). */
export function targets(
  collection: Collection | undefined,
  filter: Document,
  qctx: QueryContext,
  one: boolean,
  sort?: Document,
): [number, Document][] {
  if (!collection) return [];
  const query = compileFilter(filter, qctx);
  if (one && sort && Object.keys(sort).length) {
    const top = sortedMatches(collection, query, filter, sort, 1, qctx);
    if (top) return top.slice(0, 1);
    const entries = candidates(collection, filter, qctx);
    const ids = new Map(entries.map(([id, doc]) => [doc, id] as const));
    const [first] = findDocs(
      entries.map(([, doc]) => doc),
      { filter, sort, limit: 1 },
      qctx,
    );
    return first ? [[ids.get(first) as number, first]] : [];
  }
  const matched: [number, Document][] = [];
  for (const entry of candidates(collection, filter, qctx)) {
    if (withMingo('filter', () => query.test(entry[1]))) {
      matched.push(entry);
      if (one) break;
    }
  }
  return matched;
}

const UPDATE_STATEMENT = {
  q: { type: 'object', required: true },
  u: { type: 'any', required: true },
  upsert: 'bool',
  multi: 'bool',
  arrayFilters: 'array',
  collation: 'object',
  hint: 'objectOrString',
  c: 'object',
  upsertSupplied: 'bool',
  sort: 'object',
} as const;

function update(ctx: CommandContext): Document {
  const { body } = ctx;
  const name = collectionName('update', body, ctx.db);
  checkFields(
    'update',
    body,
    {
      updates: { type: 'array', required: true },
      ordered: 'bool',
      bypassDocumentValidation: 'bool',
      let: 'object',
      stmtIds: 'array',
    },
    { generic: true, skip: 'update' },
  );
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const ordered = body.ordered === undefined || truthy(body.ordered);
  const parse = (statement: unknown) => {
    const raw = asObject('update.updates')(statement);
    checkFields('update.updates', raw, UPDATE_STATEMENT);
    return raw;
  };
  const writeErrors = runStatements(ordered, body.updates as unknown[], parse, (raw, index) => {
    const spec = parseUpdate(raw.u, 'update.updates.u');
    const multi = truthy(raw.multi);
    if (multi && spec.kind === 'replacement')
      fail(9, 'multi update is not supported for replacement-style update');
    const variables = {
      ...((body.let as Document | undefined) ?? {}),
      ...((raw.c as Document | undefined) ?? {}),
    };
    const qctx = queryContext(ctx, {
      collation: raw.collation,
      let: Object.keys(variables).length ? variables : undefined,
    });
    const filter = raw.q as Document;
    const options = { filter, arrayFilters: raw.arrayFilters as Document[] | undefined, ctx: qctx };
    const existing = ctx.store.get(ctx.db, name);
    const matched = targets(existing, filter, qctx, !multi, raw.sort as Document | undefined);
    if (!matched.length && truthy(raw.upsert)) {
      const doc = upsertDocument(filter, spec, options);
      ctx.store.ensure(ctx.db, name).collection.insert(doc);
      upserted.push({ index, _id: doc._id });
      n++;
      return;
    }
    for (const [id, doc] of matched) {
      const result = applyUpdate(doc, spec, options);
      if (result.modified)
        existing?.replace(id, result.doc, spec.kind === 'replacement' ? 'replace' : 'update');
      n++;
      if (result.modified) nModified++;
    }
  });
  const reply: Document = { n };
  if (upserted.length) reply.upserted = upserted;
  reply.nModified = nModified;
  if (writeErrors.length) reply.writeErrors = writeErrors;
  reply.ok = 1;
  return reply;
}

function remove(ctx: CommandContext): Document {
  const { body } = ctx;
  const name = collectionName('delete', body, ctx.db);
  checkFields(
    'delete',
    body,
    {
      deletes: { type: 'array', required: true },
      ordered: 'bool',
      let: 'object',
      stmtIds: 'array',
    },
    { generic: true, skip: 'delete' },
  );
  let n = 0;
  const ordered = body.ordered === undefined || truthy(body.ordered);
  const parse = (statement: unknown) => {
    const raw = asObject('delete.deletes')(statement);
    checkFields('delete.deletes', raw, {
      q: { type: 'object', required: true },
      limit: { type: 'number', required: true },
      collation: 'object',
      hint: 'objectOrString',
    });
    const limit = toNumber(raw.limit);
    if (limit !== 0 && limit !== 1) fail(9, `The limit field in delete objects must be 0 or 1. Got ${limit}`);
    return raw;
  };
  const writeErrors = runStatements(ordered, body.deletes as unknown[], parse, (raw) => {
    const limit = toNumber(raw.limit);
    const collection = ctx.store.get(ctx.db, name);
    const qctx = queryContext(ctx, { collation: raw.collation, let: body.let });
    for (const [id] of targets(collection, raw.q as Document, qctx, limit === 1)) {
      collection?.remove(id);
      n++;
    }
  });
  return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}

export const writeCommands: Record<string, Handler> = { insert, update, delete: remove };
