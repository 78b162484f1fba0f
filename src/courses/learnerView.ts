import type { Types } from 'mongoose';
import { credentialUrl } from '../awards/credentials.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import {
  capitalise,
  describeBest,
  describeForLearner,
  describeLevelsForLearner,
  describeRegradeForLearner,
  ladderOf,
  levelsMeasureName,
  regradeOf,
  scoreFor,
  groupStatus,
  learnerPhrase,
  progressFraction,
  partialShares,
  requirementTarget,
  activityMatches,
  countNoun,
  countProgressText,
  type Requirement,
} from '../rules/index.js';
import { courseActivityCatalogue } from './activities.js';
import { bestResultsOf, bestFor } from './bestResults.js';
import { describeContextFor } from './overview.js';
import { courseTemplateFilter, type CourseScope } from './scope.js';

/** `not-needed`: an alternative of a group that another alternative already met. */
export type RequirementState = 'met' | 'unmet' | 'not-needed';

export type LearnerBadge = {
  template: TemplateDoc;
  /** "Earn this badge by: …", in a learner's words. */
  rule: string;
  percent: number;
  groups: {
    met: boolean;
    /** More than one requirement: any one of them meets the group. */
    alternatives: boolean;
    /** What the group asks, above its requirements, for a group of more than one. */
    heading: string | null;
    requirements: {
      text: string;
      state: RequirementState;
      best: string | null;
      /** A count of activities: how many counted, of how many needed, and how many the course has. */
      count: { done: number; needed: number; inCourse: number | null; text: string; noun: string } | null;
    }[];
  }[];
  earned: {
    at: Date;
    url: string;
    status: CredentialDoc['status'];
    /** A Credly or Accredible badge's page at the service, once issued there. */
    externalUrl: string | null;
  } | null;
  /** The newest credential of this badge the learner lost (revoked or expired) and holds no other. */
  lost: { status: 'revoked' | 'expired'; at: Date; reason: string | null; canEarnAgain: boolean } | null;
  /** Withdrawn by the instructor: shown only to those it was awarded to. */
  withdrawn: boolean;
  /** A badge with levels: the ladder, highest first, with where the learner stands. */
  levels: {
    text: string;
    /** The learner's score the levels are judged on, or null before any. */
    score: number | null;
    rungs: {
      name: string;
      min: number;
      state: 'held' | 'reached' | 'next' | 'ahead';
      /** The level's own picture (its image id), null: the badge's. */
      imageId: string | null;
    }[];
    /** The level of the credential held, by name. */
    held: string | null;
  } | null;
  /** What a lowered grade does, when the badge says more than "nothing". */
  regradeNote: string | null;
};

/** The course's badges (active and withdrawn) and this person's progress and credentials on them. */
export type LearnerDocuments = {
  templates: TemplateDoc[];
  progress: ProgressDoc[];
  /** Newest first. */
  credentials: CredentialDoc[];
};

/**
 * What the learner page starts from, read once: its badge cards (learnerBadges) and the version its
 * polling compares (learnerStatusOf) are both made of it.
 */
export async function learnerDocuments(
  ctx: Context,
  scope: CourseScope,
  personId: Types.ObjectId,
): Promise<LearnerDocuments> {
  const templates = await ctx.models.templates
    .find({ ...courseTemplateFilter(scope), state: { $in: ['active', 'inactive'] } })
    .sort({ name: 1 })
    .limit(500)
    .lean<TemplateDoc[]>();
  if (templates.length === 0) return { templates, progress: [], credentials: [] };
  const ids = templates.map((t) => t._id);
  const [progress, credentials] = await Promise.all([
    ctx.models.progress.find({ personId, templateId: { $in: ids } }).lean<ProgressDoc[]>(),
    // Live ones, and the dead ones that say what happened (newest first, one per badge kept below).
    ctx.models.credentials
      .find({ personId, templateId: { $in: ids } })
      .sort({ awardedAt: -1 })
      .limit(2000)
      .lean<CredentialDoc[]>(),
  ]);
  return { templates, progress, credentials };
}

/**
 * What a learner sees of a course: every active badge, and every withdrawn one they hold; what earns
 * it in plain language, which requirements are met and their best result on each, how far along they
 * are, and a badge they lost (revoked, with the reason, or expired); earned badges first, newest first.
 */
export async function learnerBadges(
  ctx: Context,
  scope: CourseScope,
  personId: Types.ObjectId,
  read?: LearnerDocuments,
): Promise<LearnerBadge[]> {
  const { templates: found, progress, credentials } = read ?? (await learnerDocuments(ctx, scope, personId));
  if (found.length === 0) return [];
  // Superseded credentials (a lower level) are neither live nor lost: the live one is the higher level.
  const live = new Map<string, CredentialDoc>();
  const dead = new Map<string, CredentialDoc>();
  for (const c of credentials) {
    const key = String(c.templateId);
    if (c.liveSlot === 'live') live.set(key, c);
    else if ((c.status === 'revoked' || c.status === 'expired') && !dead.has(key)) dead.set(key, c);
  }
  // A withdrawn badge is gone for everyone but those it was awarded to: its holders, and those whose
  // award was revoked or expired (they are told what happened to it).
  const templates = found.filter(
    (t) => t.state === 'active' || live.has(String(t._id)) || dead.has(String(t._id)),
  );
  if (templates.length === 0) return [];
  const counts = templates.some((t) => t.groups.some((g) => g.requirements.some((r) => 'activities' in r)));
  const [names, best, catalogue] = await Promise.all([
    describeContextFor(ctx, scope),
    bestResultsOf(ctx, scope, personId),
    counts ? courseActivityCatalogue(ctx, scope) : [],
  ]);
  const progressOf = new Map(progress.map((p) => [String(p.templateId), p]));
  const badges = templates.map((template): LearnerBadge => {
    const key = String(template._id);
    const fulfilled = progressOf.get(key)?.fulfilled ?? [];
    const counted = progressOf.get(key)?.counted ?? {};
    const credential = live.get(key);
    const lost = credential ? undefined : dead.get(key);
    const status = groupStatus(template.groups, fulfilled);
    const levels = template.levels?.steps.length ? template.levels : null;
    const score = levels
      ? scoreFor(progressOf.get(key)?.measure ?? null, regradeOf(template.regrade).policy)
      : null;
    const heldLevel = levels ? (credential?.level ?? null) : null;
    return {
      template,
      rule:
        levels && template.groups.length === 0
          ? `Earn this badge by scoring ${levels.steps[0]!.min}% or more on ${levelsMeasureName(levels, names)}.`
          : describeForLearner(template.groups, names),
      levels: levels
        ? {
            text: describeLevelsForLearner(levels, names)!,
            score,
            rungs: ladderOf(levels, heldLevel, score).map(({ id, name, min, state }) => ({
              name,
              min,
              state,
              imageId: levels.steps.find((s) => s.id === id)?.imageId ?? null,
            })),
            held: levels.steps.find((s) => s.id === heldLevel)?.name ?? null,
          }
        : null,
      regradeNote: describeRegradeForLearner(template.regrade),
      percent: credential
        ? 100
        : Math.round(
            progressFraction(template.groups, fulfilled, partialShares(template.groups, counted)) * 100,
          ),
      groups: template.groups.map((group, g) => {
        // An earned badge (even one awarded by hand) has every group met.
        const groupMet = Boolean(credential) || status[g]!.met;
        const needed = status[g]!.needed;
        const count = group.requirements.length;
        return {
          met: groupMet,
          alternatives: count > 1,
          // "Any one of these:", "Any 2 of these (1 of 2 done):", "All of these (1 of 3 done):".
          heading:
            count <= 1
              ? null
              : needed === 1
                ? 'Any one of these:'
                : `${needed === count ? 'All' : `Any ${needed}`} of these (${Math.min(status[g]!.fulfilled.length, needed)} of ${needed} done):`,
          requirements: group.requirements.map((req) => {
            const met = fulfilled.includes(req.id);
            const target = requirementTarget(req);
            const mine = target ? bestFor(best, target) : null;
            return {
              text: capitalise(learnerPhrase(req, names)),
              state: met ? 'met' : groupMet ? 'not-needed' : 'unmet',
              best: target && mine !== null ? describeBest(mine, target, met || groupMet) : null,
              count: countOf(req, met || groupMet, counted, catalogue),
            };
          }),
        };
      }),
      earned: credential
        ? {
            at: credential.awardedAt,
            url: credentialUrl(ctx, credential._id),
            status: credential.status,
            externalUrl: credential.externalUrl ?? null,
          }
        : null,
      lost: lost
        ? {
            status: lost.status as 'revoked' | 'expired',
            at: (lost.status === 'revoked' ? lost.revokedAt : lost.expiredAt) ?? lost.awardedAt,
            reason: lost.status === 'revoked' ? lost.revokedReason : null,
            canEarnAgain: template.state === 'active' && (lost.status === 'expired' || template.allowReEarn),
          }
        : null,
      withdrawn: template.state === 'inactive',
    };
  });
  return badges.sort((a, b) => {
    if (a.earned && b.earned) return b.earned.at.getTime() - a.earned.at.getTime();
    if (a.earned || b.earned) return a.earned ? -1 : 1;
    return b.percent - a.percent || a.template.name.localeCompare(b.template.name);
  });
}

/**
 * "2 of 3 labs (5 in this course)": a count of activities' progress, with how many of the course's
 * activities Laurel knows to match (null when it knows none). A met count shows N of N.
 */
function countOf(
  req: Requirement,
  met: boolean,
  counted: Readonly<Record<string, string[]>>,
  catalogue: readonly { id: string; name: string | null; kind: string | null; tags?: string[] }[],
): LearnerBadge['groups'][number]['requirements'][number]['count'] {
  const pattern = 'activities' in req ? req.activities : undefined;
  if (!pattern) return null;
  const needed = pattern.atLeast;
  const mine = Object.prototype.hasOwnProperty.call(counted, req.id) ? counted[req.id]!.length : 0;
  const done = met ? needed : Math.min(mine, needed);
  const matching = catalogue.filter((a) => activityMatches(pattern, a)).length;
  const inCourse = matching > 0 ? matching : null;
  // "2 of 3 labs", named by what is counted (the label, tag, name or kind), not "2 of 3 done".
  const text = `${countProgressText(pattern, done, req.label)}${inCourse !== null ? ` (${inCourse} in this course)` : ''}`;
  return { done, needed, inCourse, text, noun: countNoun(pattern, needed, req.label) };
}
