import type { Types } from 'mongoose';
import type { Context } from '../context.js';

/**
 * Starts a learner again from nothing on one template (after a revocation or an expiry). Bumps
 * `rev`, so a processing run that read the old state cannot write over the reset.
 */
export async function clearProgress(ctx: Context, templateId: Types.ObjectId, personId: Types.ObjectId) {
  await ctx.models.progress.updateOne(
    { templateId, personId },
    {
      $set: { fulfilled: [], fulfilments: [], ratio: 0, completedAt: null, measure: null },
      $inc: { rev: 1 },
    },
  );
}

/** The same for many (template, person) pairs, in one round trip. */
export async function clearProgressOf(
  ctx: Context,
  pairs: { templateId: Types.ObjectId; personId: Types.ObjectId }[],
): Promise<void> {
  if (pairs.length === 0) return;
  await ctx.models.progress.bulkWrite(
    pairs.map((key) => ({
      updateOne: {
        filter: key,
        update: {
          $set: { fulfilled: [], fulfilments: [], ratio: 0, completedAt: null, measure: null },
          $inc: { rev: 1 },
        },
      },
    })),
    { ordered: false },
  );
}
