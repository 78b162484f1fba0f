import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import { isComplete, progressFraction } from '../rules/index.js';

const isDuplicateKey = (err: unknown) => (err as { code?: number })?.code === 11000;

export type ProgressChange = {
  template: TemplateDoc;
  personId: Types.ObjectId;
  courseRef: Types.ObjectId | null;
  fulfil: string[];
  reset: string[];
  eventId: string | null;
  at: Date;
};

/**
 * Applies fulfilments and resets to one learner's progress with atomic operators only. A
 * fulfilment is written only where the requirement is not fulfilled yet (the filter says so), so
 * concurrent events cannot record it twice; the loser of an upsert race re-reads and retries.
 */
export async function changeProgress(ctx: Context, change: ProgressChange): Promise<ProgressDoc | null> {
  const { template, personId } = change;
  const key = { templateId: template._id, personId };
  let doc: ProgressDoc | null = null;
  if (change.reset.length) {
    doc = await ctx.models.progress
      .findOneAndUpdate(
        key,
        {
          $pull: { fulfilled: { $in: change.reset }, fulfilments: { requirementId: { $in: change.reset } } },
        },
        { returnDocument: 'after' },
      )
      .lean<ProgressDoc>();
  }
  let fulfil = change.fulfil.filter((id) => !change.reset.includes(id));
  for (let attempt = 0; fulfil.length > 0 && attempt < 5; attempt++) {
    try {
      doc = await ctx.models.progress
        .findOneAndUpdate(
          { ...key, fulfilled: { $nin: fulfil } },
          {
            $addToSet: { fulfilled: { $each: fulfil } },
            $push: {
              fulfilments: {
                $each: fulfil.map((requirementId) => ({
                  requirementId,
                  at: change.at,
                  eventId: change.eventId,
                })),
              },
            },
            $setOnInsert: {
              platformId: template.platformId,
              courseRef: change.courseRef,
              ratio: 0,
              completedAt: null,
            },
          },
          { upsert: true, returnDocument: 'after' },
        )
        .lean<ProgressDoc>();
      break;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Someone else fulfilled one of these (or created the document) meanwhile: keep only the rest.
      const current = await ctx.models.progress.findOne(key).lean<ProgressDoc>();
      doc = current;
      fulfil = fulfil.filter((id) => !current?.fulfilled.includes(id));
    }
  }
  if (!doc) return null;
  return settleRatio(ctx, template, doc);
}

/** Keeps the derived fields (ratio, completedAt) in step with the fulfilled set just read. */
async function settleRatio(ctx: Context, template: TemplateDoc, doc: ProgressDoc): Promise<ProgressDoc> {
  const ratio = Math.round(progressFraction(template.groups, doc.fulfilled) * 100) / 100;
  const complete = isComplete(template.groups, doc.fulfilled);
  const completedAt = complete ? (doc.completedAt ?? ctx.now()) : null;
  if (ratio === doc.ratio && String(completedAt) === String(doc.completedAt)) return doc;
  await ctx.models.progress.updateOne({ _id: doc._id }, { $set: { ratio, completedAt } });
  return { ...doc, ratio, completedAt };
}

/** Starts a learner again from nothing on one template (after a revocation or an expiry). */
export async function clearProgress(ctx: Context, templateId: Types.ObjectId, personId: Types.ObjectId) {
  await ctx.models.progress.updateOne(
    { templateId, personId },
    { $set: { fulfilled: [], fulfilments: [], ratio: 0, completedAt: null } },
  );
}
