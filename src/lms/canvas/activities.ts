import type { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { ActivityDescription } from './mapping.js';
import { isDuplicateKey } from '../../errors.js';

/**
 * Records what Live Events say about a course's activities. A description only replaces one made
 * from an older event (events arrive out of order); fields an event does not carry (null) keep what
 * an earlier event said.
 */
export async function recordActivities(
  ctx: Context,
  platformId: Types.ObjectId,
  activities: readonly ActivityDescription[],
): Promise<void> {
  for (const a of activities) {
    const key = { platformId, courseId: a.courseId, activityId: a.activityId };
    const set: Record<string, unknown> = { state: a.state, describedAt: a.describedAt, source: 'canvas' };
    if (a.name !== null) set.name = a.name;
    if (a.maxScore !== null) set.maxScore = a.maxScore;
    if (a.kind !== null) set.kind = a.kind;
    try {
      await ctx.models.lmsActivities.updateOne(
        { ...key, describedAt: { $lte: a.describedAt } },
        { $set: set, $setOnInsert: key },
        { upsert: true },
      );
    } catch (err) {
      // A newer description is stored already (the filter missed it, the upsert hit the unique key):
      // fill only what it lacks.
      if (!isDuplicateKey(err)) throw err;
      const fill = Object.entries({ name: a.name, maxScore: a.maxScore, kind: a.kind }).filter(
        ([, v]) => v !== null,
      );
      for (const [field, value] of fill)
        await ctx.models.lmsActivities.updateOne({ ...key, [field]: null }, { $set: { [field]: value } });
    }
  }
}

/** The points possible of an assignment, as its last assignment or grade event said, or null. */
export async function knownMaxScore(
  ctx: Context,
  platformId: Types.ObjectId,
  courseId: string,
  activityId: string,
): Promise<{ maxScore: number | null; name: string | null }> {
  const found = await ctx.models.lmsActivities
    .findOne({ platformId, courseId, activityId }, { maxScore: 1, name: 1 })
    .lean();
  return { maxScore: found?.maxScore ?? null, name: found?.name ?? null };
}
