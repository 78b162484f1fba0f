/** findAndModify: one document found, changed or removed, and returned before or after. */
import type { Document } from 'bson';
import { fail } from '../errors.js';
import { findDocs } from '../query.js';
import { applyUpdate, parseUpdate, upsertDocument } from '../updates.js';
import { checkFields, collectionName, truthy } from '../validate.js';
import { queryContext } from './shared.js';
import type { CommandContext, Handler } from './types.js';
import { targets } from './write.js';

/** The returned document, shaped by `fields` like a find projection. */
function project(
  doc: Document | undefined,
  fields: Document | undefined,
  ctx: CommandContext,
): Document | null {
  if (!doc) return null;
  if (!fields || !Object.keys(fields).length) return doc;
  return findDocs([doc], { projection: fields }, queryContext(ctx))[0] ?? null;
}

function findAndModify(ctx: CommandContext): Document {
  const { body } = ctx;
  const command = ctx.name;
  const name = collectionName(command, body, ctx.db);
  checkFields(
    command,
    body,
    {
      query: 'object',
      sort: 'object',
      remove: 'bool',
      update: 'any',
      new: 'bool',
      fields: 'object',
      upsert: 'bool',
      bypassDocumentValidation: 'bool',
      collation: 'object',
      arrayFilters: 'array',
      hint: 'objectOrString',
      let: 'object',
      stmtId: 'any',
    },
    { generic: true, skip: command },
  );
  const remove = truthy(body.remove);
  const upsert = truthy(body.upsert);
  const returnNew = truthy(body.new);
  const hasUpdate = body.update !== undefined && body.update !== null;
  if (remove && hasUpdate) fail(9, 'Cannot specify both an update and remove=true');
  if (!remove && !hasUpdate) fail(9, 'Either an update or remove=true must be specified');
  if (remove && upsert) fail(9, 'Cannot specify both upsert=true and remove=true ');
  if (remove && returnNew)
    fail(9, "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
  const filter = (body.query as Document | undefined) ?? {};
  const fields = body.fields as Document | undefined;
  const qctx = queryContext(ctx, { collation: body.collation, let: body.let });
  const collection = ctx.store.get(ctx.db, name);
  const [target] = targets(collection, filter, qctx, true, body.sort as Document | undefined);

  if (remove) {
    if (target) collection?.remove(target[0]);
    return { lastErrorObject: { n: target ? 1 : 0 }, value: project(target?.[1], fields, ctx), ok: 1 };
  }
  const spec = parseUpdate(body.update, `${command}.update`);
  const options = { filter, arrayFilters: body.arrayFilters as Document[] | undefined, ctx: qctx };
  if (!target) {
    if (!upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    const doc = upsertDocument(filter, spec, options);
    ctx.store.ensure(ctx.db, name).collection.insert(doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: returnNew ? project(doc, fields, ctx) : null,
      ok: 1,
    };
  }
  const [id, before] = target;
  const result = applyUpdate(before, spec, options);
  if (result.modified)
    collection?.replace(id, result.doc, spec.kind === 'replacement' ? 'replace' : 'update');
  return {
    lastErrorObject: { n: 1, updatedExisting: true },
    value: project(returnNew ? result.doc : before, fields, ctx),
    ok: 1,
  };
}

export const findAndModifyCommands: Record<string, Handler> = {
  findAndModify,
  findandmodify: findAndModify,
};
