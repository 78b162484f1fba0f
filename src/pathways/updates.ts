import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import { settleAfterAwards } from './settle.js';

const BATCH = 200;
/** A run stops after this many batches; the wake-up loop or the recurring job goes on from there. */
const MAX_BATCHES = 50;

/**
 * The `update-pathways` job: reads the awards marked `pathwaysPending` (set by awardMany in the same
 * insert as the credential), settles the pathways of their learners that name those badges, then
 * clears the marks. A crash before the clear repeats the work, which changes nothing the second time
 * (settling is idempotent, the pathway badge exactly once). Answers the awards read and pathway
 * badges awarded.
 */
export async function updatePathwaysFromAwards(ctx: Context): Promise<{ read: number; awarded: number }> {
  let read = 0;
  let awarded = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const credentials = await ctx.models.credentials
      .find({ pathwaysPending: true }, { platformId: 1, personId: 1, templateId: 1 })
      .sort({ _id: 1 })
      .limit(BATCH)
      .lean<Pick<CredentialDoc, '_id' | 'platformId' | 'personId' | 'templateId'>[]>();
    if (credentials.length === 0) break;
    awarded += await settleAfterAwards(ctx, credentials);
    await ctx.models.credentials.updateMany(
      { _id: { $in: credentials.map((c) => c._id as Types.ObjectId) } },
      { $unset: { pathwaysPending: 1 } },
    );
    read += credentials.length;
    if (credentials.length < BATCH) break;
  }
  return { read, awarded };
}
