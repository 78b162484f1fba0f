import { createHash } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { LearnerDocuments } from './learnerView.js';
import { courseTemplateFilter, type CourseScope } from './scope.js';

export type LearnerStatus = {
  /** Changes whenever what the learner page shows of this person's badges changes. */
  version: string;
  badges: { id: string; name: string; percent: number; earned: boolean; revoked: boolean }[];
};

/**
 * What the learner page polls every few seconds: cheap on purpose (a few indexed reads of this
 * person's own documents, no aggregation over the course's events), since every open page asks.
 * The version covers the course's badges (any edit, activation or withdrawal), this person's progress
 * (its `rev` and `updatedAt` move with every write), credentials (awarded, revoked, expired) and the count of
 * their processed events in the course (a new best result). An activity renamed in the LMS shows at
 * the next reload.
 */
export async function learnerStatusOf(
  ctx: Context,
  scope: CourseScope,
  personId: Types.ObjectId,
  /** The page's own reads of the same documents (learnerDocuments), when it has made them. */
  read?: LearnerDocuments,
): Promise<LearnerStatus> {
  const templates: { _id: Types.ObjectId; name: string; state: string; updatedAt?: Date }[] =
    read?.templates ??
    (await ctx.models.templates
      .find(
        { ...courseTemplateFilter(scope), state: { $in: ['active', 'inactive'] } },
        { name: 1, state: 1, updatedAt: 1 },
      )
      .sort({ name: 1 })
      .limit(500)
      .lean<{ _id: Types.ObjectId; name: string; state: string; updatedAt?: Date }[]>());
  const ids = templates.map((t) => t._id);
  const [progress, credentials, events] = await Promise.all([
    read?.progress ??
      ctx.models.progress
        .find({ personId, templateId: { $in: ids } }, { templateId: 1, ratio: 1, rev: 1, updatedAt: 1 })
        .lean<{ templateId: Types.ObjectId; ratio: number; rev?: number; updatedAt?: Date }[]>(),
    read?.credentials ??
      ctx.models.credentials
        .find({ personId, templateId: { $in: ids } }, { templateId: 1, status: 1, liveSlot: 1 })
        .limit(2000)
        .lean<{ _id: Types.ObjectId; templateId: Types.ObjectId; status: string; liveSlot: string }[]>(),
    scope.courseRef
      ? ctx.models.events.countDocuments({
          platformId: scope.platformId,
          personRef: personId,
          courseRef: scope.courseRef,
        })
      : 0,
  ]);
  const ratioOf = new Map(progress.map((p) => [String(p.templateId), p.ratio]));
  const live = new Set(credentials.filter((c) => c.liveSlot === 'live').map((c) => String(c.templateId)));
  const revoked = new Set(credentials.filter((c) => c.status === 'revoked').map((c) => String(c.templateId)));
  const awarded = new Set(credentials.map((c) => String(c.templateId)));
  // As the page: a withdrawn badge only for those it was awarded to (learnerView.ts).
  const badges = templates
    .filter((t) => t.state === 'active' || awarded.has(String(t._id)))
    .map((t) => {
      const id = String(t._id);
      return {
        id,
        name: t.name,
        percent: live.has(id) ? 100 : Math.round((ratioOf.get(id) ?? 0) * 100),
        earned: live.has(id),
        revoked: !live.has(id) && revoked.has(id),
      };
    });
  const seen = JSON.stringify([
    templates.map((t) => [String(t._id), t.state, t.updatedAt?.getTime() ?? 0]),
    progress.map((p) => [String(p.templateId), p.rev ?? 0, p.updatedAt?.getTime() ?? 0]).sort(),
    credentials.map((c) => [String(c._id), c.status, c.liveSlot]).sort(),
    events,
  ]);
  return { version: createHash('sha256').update(seen).digest('base64url').slice(0, 22), badges };
}
