import { Types } from 'mongoose';
import type { Context } from '../context.js';
import { visibleTemplateFilter, type CourseScope } from './scope.js';

/** Of these template ids, the ones the course may see (see visibleTemplateFilter); others are dropped. */
export async function visibleTemplateIds(
  ctx: Context,
  scope: CourseScope,
  ids: readonly string[],
): Promise<Set<string>> {
  const valid = [...new Set(ids.filter((id) => /^[0-9a-f]{24}$/i.test(id)))];
  if (valid.length === 0) return new Set();
  const found = await ctx.models.templates
    .find(
      { ...visibleTemplateFilter(scope), _id: { $in: valid.map((id) => new Types.ObjectId(id)) } },
      { _id: 1 },
    )
    .lean();
  return new Set(found.map((t) => String(t._id)));
}
