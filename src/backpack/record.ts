import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { CourseDoc } from '../db/models/course.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import { progressFraction } from '../rules/index.js';
import { ofPeople, type PersonRef } from './sessions.js';

/**
 * A learner's record across every course and platform of this Laurel: earned badges, badges in
 * progress and recent activity, for the people of their backpack session. Every query names the
 * platform and the person (ofPeople), so it is answered by the (platform, person) indexes.
 */

export type EarnedBadge = {
  credential: CredentialDoc;
  template: TemplateDoc;
  courseTitle: string | null;
};

export type BadgeInProgress = { template: TemplateDoc; percent: number; courseTitle: string | null };

export type Activity = { at: Date; text: string; courseTitle: string | null };

const EVENT_TEXT: Record<string, string> = {
  'course.completed': 'Completed the course',
  'course.grade.updated': 'Course grade recorded',
  'activity.completed': 'Completed an activity',
  'activity.grade.updated': 'Activity grade recorded',
  'enrollment.created': 'Enrolled',
  'enrollment.deleted': 'Left the course',
  'badge.awarded': 'Badge awarded',
};

const LIMIT = 500;

async function templatesAndCourses(
  ctx: Context,
  templateIds: Types.ObjectId[],
  courseRefs: Types.ObjectId[],
) {
  const [templates, courses] = await Promise.all([
    templateIds.length
      ? ctx.models.templates.find({ _id: { $in: templateIds } }).lean<TemplateDoc[]>()
      : Promise.resolve([]),
    courseRefs.length
      ? ctx.models.courses.find({ _id: { $in: courseRefs } }, { title: 1 }).lean<CourseDoc[]>()
      : Promise.resolve([]),
  ]);
  return {
    template: new Map(templates.map((t) => [String(t._id), t])),
    courseTitle: new Map(courses.map((c) => [String(c._id), c.title ?? null])),
  };
}

/** The session's credentials, newest first, with their templates (what My Badges lists). */
export async function earnedBadges(ctx: Context, people: PersonRef[]): Promise<EarnedBadge[]> {
  const credentials = await ctx.models.credentials
    .find(ofPeople(people), { signed: 0, evidence: 0 })
    .sort({ awardedAt: -1 })
    .limit(LIMIT)
    .lean<CredentialDoc[]>();
  const refs = credentials.map((c) => c.courseRef).filter((r): r is Types.ObjectId => r !== null);
  const { template, courseTitle } = await templatesAndCourses(
    ctx,
    credentials.map((c) => c.templateId),
    refs,
  );
  return credentials.flatMap((credential) => {
    const t = template.get(String(credential.templateId));
    if (!t) return [];
    return [
      {
        credential,
        template: t,
        courseTitle: credential.courseRef ? (courseTitle.get(String(credential.courseRef)) ?? null) : null,
      },
    ];
  });
}

export async function learnerRecord(ctx: Context, people: PersonRef[]) {
  const [earned, progress, events] = await Promise.all([
    earnedBadges(ctx, people),
    ctx.models.progress
      .find({ ...ofPeople(people), completedAt: null, ratio: { $gt: 0 } })
      .sort({ updatedAt: -1 })
      .limit(LIMIT)
      .lean<ProgressDoc[]>(),
    ctx.models.events
      .find(ofPeople(people, 'personRef'), { type: 1, occurredAt: 1, courseRef: 1, 'data.activityName': 1 })
      .sort({ occurredAt: -1 })
      .limit(20)
      .lean<
        {
          type: string;
          occurredAt: Date;
          courseRef: Types.ObjectId | null;
          data?: { activityName?: unknown };
        }[]
      >(),
  ]);
  const liveTemplates = new Set(
    earned
      .filter((e) => ['awarded', 'issued', 'failed'].includes(e.credential.status))
      .map((e) => String(e.template._id)),
  );
  const open = progress.filter((p) => !liveTemplates.has(String(p.templateId)));
  const refs = [...open.map((p) => p.courseRef), ...events.map((e) => e.courseRef)].filter(
    (r): r is Types.ObjectId => r !== null,
  );
  const { template, courseTitle } = await templatesAndCourses(
    ctx,
    open.map((p) => p.templateId),
    refs,
  );
  const titleOf = (ref: Types.ObjectId | null) => (ref ? (courseTitle.get(String(ref)) ?? null) : null);
  const inProgress: BadgeInProgress[] = open.flatMap((p) => {
    const t = template.get(String(p.templateId));
    if (!t || t.state !== 'active') return [];
    return [
      {
        template: t,
        percent: Math.round(progressFraction(t.groups, p.fulfilled) * 100),
        courseTitle: titleOf(p.courseRef),
      },
    ];
  });
  const earnedTitles = new Map(earned.map((e) => [String(e.credential.courseRef), e.courseTitle]));
  const activity: Activity[] = [
    ...events.map((e) => {
      const name = typeof e.data?.activityName === 'string' ? `: ${e.data.activityName}` : '';
      return {
        at: e.occurredAt,
        text: `${EVENT_TEXT[e.type] ?? e.type}${name}`,
        courseTitle: titleOf(e.courseRef) ?? earnedTitles.get(String(e.courseRef)) ?? null,
      };
    }),
    ...earned.slice(0, 20).flatMap((e) => {
      const items: Activity[] = [
        {
          at: e.credential.awardedAt,
          text: `Earned the badge “${e.template.name}”`,
          courseTitle: e.courseTitle,
        },
      ];
      if (e.credential.revokedAt)
        items.push({
          at: e.credential.revokedAt,
          text: `The badge “${e.template.name}” was revoked`,
          courseTitle: e.courseTitle,
        });
      return items;
    }),
  ]
    .sort((a, b) => b.at.getTime() - a.at.getTime())
    .slice(0, 20);
  return { earned, inProgress, activity };
}
