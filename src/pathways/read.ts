import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { CourseDoc } from '../db/models/course.js';
import type { PathwayDoc } from '../db/models/pathway.js';
import type { PathwayEnrolmentDoc } from '../db/models/pathwayEnrolment.js';
import type { PlatformDoc } from '../db/models/platform.js';
import type { TemplateDoc } from '../db/models/template.js';
import { isBadgeRequirement, type DescribeContext } from '../rules/index.js';
import { pathwayProgress, type PathwayProgress } from './progress.js';
import { heldTemplates, recordedOf, stepInputsOf } from './settle.js';

/** Everything a pathway's map shows for one learner (or for nobody: the map of a pathway not followed). */
export type PathwayMapData = {
  pathway: PathwayDoc;
  enrolment: PathwayEnrolmentDoc | null;
  progress: PathwayProgress;
  templates: Map<string, TemplateDoc>;
  courses: Map<string, CourseDoc>;
  platform: Pick<PlatformDoc, 'lms' | 'issuer' | 'frameOrigins'> | null;
  describe: DescribeContext;
};

/**
 * Reads a pathway's map: its steps' badges, their courses, how each is earned, and the learner's
 * progress now (recorded steps, and the badges held this moment).
 */
export async function pathwayMapData(
  ctx: Context,
  pathway: PathwayDoc,
  person: { personId: Types.ObjectId; enrolment: PathwayEnrolmentDoc | null } | null,
): Promise<PathwayMapData> {
  const ids = [...pathway.templateIds, ...(pathway.badgeTemplateId ? [pathway.badgeTemplateId] : [])];
  const [templateList, held, platform] = await Promise.all([
    ctx.models.templates.find({ _id: { $in: ids }, platformId: pathway.platformId }).lean<TemplateDoc[]>(),
    person
      ? heldTemplates(ctx, pathway.platformId, [person.personId], ids)
      : Promise.resolve(new Map<string, Set<string>>()),
    ctx.models.platforms
      .findById(pathway.platformId, { lms: 1, issuer: 1, frameOrigins: 1 })
      .lean<PlatformDoc>(),
  ]);
  const templates = new Map(templateList.map((t) => [String(t._id), t]));
  const courseRefs = [...new Set(templateList.flatMap((t) => (t.courseRef ? [String(t.courseRef)] : [])))];
  const courseIds = [...new Set(templateList.flatMap((t) => (t.courseId ? [t.courseId] : [])))];
  const required = [
    ...new Set(
      templateList.flatMap((t) =>
        t.groups.flatMap((g) => g.requirements.filter(isBadgeRequirement).map((r) => r.badge)),
      ),
    ),
  ];
  const [courseList, activities, requiredBadges] = await Promise.all([
    ctx.models.courses.find({ _id: { $in: courseRefs }, platformId: pathway.platformId }).lean<CourseDoc[]>(),
    ctx.models.lmsActivities
      .find({ platformId: pathway.platformId, courseId: { $in: courseIds } }, { activityId: 1, name: 1 })
      .limit(5000)
      .lean<{ activityId: string; name?: string | null }[]>(),
    ctx.models.templates
      .find({ _id: { $in: required }, platformId: pathway.platformId }, { name: 1 })
      .lean<TemplateDoc[]>(),
  ]);
  const progress = pathwayProgress(
    stepInputsOf(pathway),
    held.get(String(person?.personId)) ?? new Set(),
    person?.enrolment ? recordedOf(person.enrolment) : new Map(),
  );
  return {
    pathway,
    enrolment: person?.enrolment ?? null,
    progress,
    templates,
    courses: new Map(courseList.map((c) => [String(c._id), c])),
    platform,
    describe: {
      activityTitles: Object.fromEntries(
        activities.filter((a) => a.name).map((a) => [a.activityId, a.name!]),
      ),
      badgeNames: Object.fromEntries(
        [...requiredBadges, ...templateList].map((t) => [String(t._id), t.name]),
      ),
    },
  };
}

/** A learner's pathways (every platform of their backpack session), newest first, with progress now. */
export async function pathwaysOfPeople(
  ctx: Context,
  people: { platformId: Types.ObjectId; personId: Types.ObjectId }[],
): Promise<{ pathway: PathwayDoc; enrolment: PathwayEnrolmentDoc; progress: PathwayProgress }[]> {
  if (people.length === 0) return [];
  const enrolments = await ctx.models.pathwayEnrolments
    .find({ $or: people.map((p) => ({ platformId: p.platformId, personId: p.personId })) })
    .sort({ enrolledAt: -1 })
    .limit(200)
    .lean<PathwayEnrolmentDoc[]>();
  const pathways = await ctx.models.pathways
    .find({ _id: { $in: enrolments.map((e) => e.pathwayId) } })
    .lean<PathwayDoc[]>();
  const byId = new Map(pathways.map((p) => [String(p._id), p]));
  // One read of the held badges per platform (a session may span several), not one per pathway.
  const heldOn = new Map<string, Map<string, Set<string>>>();
  for (const person of people) {
    const key = String(person.platformId);
    if (heldOn.has(key)) continue;
    const theirs = enrolments.filter((e) => String(e.platformId) === key);
    const templateIds = theirs.flatMap((e) => byId.get(String(e.pathwayId))?.templateIds ?? []);
    heldOn.set(
      key,
      await heldTemplates(ctx, person.platformId, [...new Set(theirs.map((e) => e.personId))], templateIds),
    );
  }
  const out = [];
  for (const enrolment of enrolments) {
    const pathway = byId.get(String(enrolment.pathwayId));
    if (!pathway) continue;
    const held =
      heldOn.get(String(enrolment.platformId))?.get(String(enrolment.personId)) ?? new Set<string>();
    out.push({
      pathway,
      enrolment,
      progress: pathwayProgress(stepInputsOf(pathway), held, recordedOf(enrolment)),
    });
  }
  return out;
}
