import type { Types } from 'mongoose';
import { credentialUrl } from '../awards/credentials.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import { describeRequirement, describeRule, groupStatus, progressFraction } from '../rules/index.js';
import { describeContextFor } from './overview.js';
import { courseTemplateFilter, type CourseScope } from './scope.js';

export type LearnerBadge = {
  template: TemplateDoc;
  rule: string;
  percent: number;
  groups: { met: boolean; requirements: { text: string; met: boolean }[] }[];
  earned: {
    at: Date;
    url: string;
    status: CredentialDoc['status'];
    /** A Credly or Accredible badge's page at the service, once issued there. */
    externalUrl: string | null;
  } | null;
};

/**
 * What a learner sees of a course: every active badge, what earns it in plain language, which
 * requirements are met, how far along they are; earned badges first, newest first.
 */
export async function learnerBadges(
  ctx: Context,
  scope: CourseScope,
  personId: Types.ObjectId,
): Promise<LearnerBadge[]> {
  const templates = await ctx.models.templates
    .find({ ...courseTemplateFilter(scope), state: 'active' })
    .sort({ name: 1 })
    .limit(500)
    .lean<TemplateDoc[]>();
  if (templates.length === 0) return [];
  const ids = templates.map((t) => t._id);
  const [progress, credentials, names] = await Promise.all([
    ctx.models.progress.find({ personId, templateId: { $in: ids } }).lean<ProgressDoc[]>(),
    ctx.models.credentials
      .find({ personId, templateId: { $in: ids }, liveSlot: 'live' })
      .lean<CredentialDoc[]>(),
    describeContextFor(ctx, scope),
  ]);
  const progressOf = new Map(progress.map((p) => [String(p.templateId), p]));
  const credentialOf = new Map(credentials.map((c) => [String(c.templateId), c]));
  const badges = templates.map((template): LearnerBadge => {
    const fulfilled = progressOf.get(String(template._id))?.fulfilled ?? [];
    const credential = credentialOf.get(String(template._id));
    const status = groupStatus(template.groups, fulfilled);
    return {
      template,
      rule: describeRule(template.groups, names),
      percent: credential ? 100 : Math.round(progressFraction(template.groups, fulfilled) * 100),
      groups: template.groups.map((group, g) => ({
        met: Boolean(credential) || status[g]!.met,
        requirements: group.requirements.map((req) => ({
          text: describeRequirement(req, names),
          met: fulfilled.includes(req.id),
        })),
      })),
      earned: credential
        ? {
            at: credential.awardedAt,
            url: credentialUrl(ctx, credential._id),
            status: credential.status,
            externalUrl: credential.externalUrl ?? null,
          }
        : null,
    };
  });
  return badges.sort((a, b) => {
    if (a.earned && b.earned) return b.earned.at.getTime() - a.earned.at.getTime();
    if (a.earned || b.earned) return a.earned ? -1 : 1;
    return b.percent - a.percent || a.template.name.localeCompare(b.template.name);
  });
}
