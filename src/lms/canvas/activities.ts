import type { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { ActivityDescription, GroupDescription } from './mapping.js';
import { isDuplicateKey } from '../../errors.js';
import { lmsActivityGroupModel, type LmsActivityGroupModel } from '../../db/models/lmsActivityGroup.js';

const indexed = new WeakSet<LmsActivityGroupModel>();

/** The assignment groups' model, its unique index built once per process and connection. */
async function groupsModel(ctx: Context): Promise<LmsActivityGroupModel> {
  const model = lmsActivityGroupModel(ctx.models.platforms.db);
  if (!indexed.has(model)) {
    await model.createIndexes();
    indexed.add(model);
  }
  return model;
}

/**
 * Records Canvas's assignment groups (a newer description wins) and tags the course's assignments
 * in each with its name, for counts of activities by tag.
 */
export async function recordGroups(
  ctx: Context,
  platformId: Types.ObjectId,
  groups: readonly GroupDescription[],
): Promise<void> {
  const model = await groupsModel(ctx);
  for (const g of groups) {
    const key = { platformId, courseId: g.courseId, groupId: g.groupId };
    try {
      await model.updateOne(
        { ...key, describedAt: { $lte: g.describedAt } },
        { $set: { name: g.name, describedAt: g.describedAt, source: 'canvas' }, $setOnInsert: key },
        { upsert: true },
      );
    } catch (err) {
      // A newer name is stored already: it stays, and so do its tags.
      if (!isDuplicateKey(err)) throw err;
      continue;
    }
    await ctx.models.lmsActivities.updateMany(
      { platformId, courseId: g.courseId, groupId: g.groupId },
      { $set: { tags: [g.name] } },
    );
  }
}

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
    if (a.groupId) {
      // Its assignment group's name is its tag (when Laurel has heard of the group).
      set.groupId = a.groupId;
      const group = await (
        await groupsModel(ctx)
      )
        .findOne({ platformId, courseId: a.courseId, groupId: a.groupId }, { name: 1 })
        .lean();
      set.tags = group ? [group.name] : [];
    }
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
