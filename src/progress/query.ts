import { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { PersonDoc } from '../db/models/person.js';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import { personIdsFor } from '../identity/resolve.js';
import { groupStatus } from '../rules/index.js';

/** Progress documents for a template and/or a person (any of their ids), with per-group status. */
export async function listProgress(
  ctx: Context,
  query: { templateId?: string; userId?: string; platformId?: Types.ObjectId; after?: Types.ObjectId },
  limit: number,
) {
  const filter: Record<string, unknown> = {};
  if (query.platformId) filter.platformId = query.platformId;
  if (query.templateId) filter.templateId = new Types.ObjectId(query.templateId);
  if (query.userId) {
    filter.personId = { $in: await personIdsFor(ctx.models, query.userId, query.platformId) };
  }
  if (query.after) filter._id = { $gt: query.after };
  const docs = await ctx.models.progress.find(filter).sort({ _id: 1 }).limit(limit).lean<ProgressDoc[]>();
  const templates = new Map(
    (
      await ctx.models.templates
        .find({ _id: { $in: [...new Set(docs.map((d) => d.templateId))] } })
        .lean<TemplateDoc[]>()
    ).map((t) => [String(t._id), t]),
  );
  const people = new Map(
    (
      await ctx.models.people
        .find({ _id: { $in: [...new Set(docs.map((d) => d.personId))] } })
        .lean<PersonDoc[]>()
    ).map((p) => [String(p._id), p]),
  );
  return docs.map((d) => {
    const template = templates.get(String(d.templateId));
    const person = people.get(String(d.personId));
    return {
      id: String(d._id),
      templateId: String(d.templateId),
      userId: query.userId ?? person?.lmsUserId ?? person?.sub ?? person?.ids[0] ?? null,
      userIds: person?.ids ?? [],
      name: person?.name ?? null,
      fulfilled: d.fulfilled,
      fulfilments: d.fulfilments,
      // Counts of activities ("any 3 labs"): the activity ids counted per requirement so far.
      counted: d.counted ?? {},
      groups: template ? groupStatus(template.groups, d.fulfilled) : [],
      ratio: d.ratio,
      completedAt: d.completedAt,
      updatedAt: d.updatedAt,
    };
  });
}
