import { Types } from 'mongoose';
import type { Actor } from '../audit/record.js';
import { recordAudit } from '../audit/record.js';
import type { Context } from '../context.js';
import { visibleTemplateFilter } from '../courses/scope.js';
import type { PathwayDoc, PathwayStep } from '../db/models/pathway.js';
import type { TemplateDoc } from '../db/models/template.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import { recountPathway } from './settle.js';
import { parsePathway, type ValidPathway } from './validate.js';

/**
 * Who edits pathways, and where: the platform and course of a signed launch. An LMS administrator
 * edits every pathway of the platform and picks from all its badges; an instructor edits the
 * pathways made in their course and picks the badges their course may see by name (its own, the
 * platform's, and other courses' badges the administrator shared), never another course's unshared one.
 */
export type EditorScope = { platformId: Types.ObjectId; courseRef: Types.ObjectId | null; admin: boolean };

/** Pathways an editor sees on their list: the course's and the platform's (admins: all of the platform). */
export const staffPathwayFilter = (scope: EditorScope) =>
  scope.admin
    ? { platformId: scope.platformId }
    : { platformId: scope.platformId, courseRef: { $in: [scope.courseRef, null] } };

/** Pathways offered to a course's learners: the course's own and the platform's. */
export const offeredPathwayFilter = (scope: {
  platformId: Types.ObjectId;
  courseRef: Types.ObjectId | null;
}) => ({
  platformId: scope.platformId,
  courseRef: scope.courseRef ? { $in: [scope.courseRef, null] } : null,
});

const pickableFilter = (scope: EditorScope) =>
  scope.admin ? { platformId: scope.platformId } : visibleTemplateFilter(scope);

/** The badges an editor may put into a pathway, by name. */
export async function pickableTemplates(ctx: Context, scope: EditorScope): Promise<TemplateDoc[]> {
  return ctx.models.templates
    .find(pickableFilter(scope), { groups: 0, penalties: 0, recalculation: 0 })
    .sort({ name: 1 })
    .limit(2000)
    .lean<TemplateDoc[]>();
}

/** A pathway the editor may change; any other is "not found" alike, so no id reveals another course's. */
export async function editablePathway(ctx: Context, scope: EditorScope, id: string): Promise<PathwayDoc> {
  const filter: Record<string, unknown> = { platformId: scope.platformId };
  if (!scope.admin) filter.courseRef = scope.courseRef ?? { $in: [] };
  const found =
    Types.ObjectId.isValid(id) && /^[0-9a-f]{24}$/i.test(id)
      ? await ctx.models.pathways.findOne({ _id: new Types.ObjectId(id), ...filter }).lean<PathwayDoc>()
      : null;
  if (!found) throw new NotFoundError(`Pathway ${id}`);
  return found;
}

/** Every badge the pathway names must be one the editor may pick; else the field says so. */
async function checkTemplates(ctx: Context, scope: EditorScope, value: ValidPathway): Promise<void> {
  const ids = [
    ...new Set([
      ...value.steps.flatMap((s) => s.templateIds),
      ...(value.badgeTemplateId ? [value.badgeTemplateId] : []),
    ]),
  ];
  const found = await ctx.models.templates
    .find({ _id: { $in: ids.map((i) => new Types.ObjectId(i)) }, ...pickableFilter(scope) }, { _id: 1 })
    .lean<{ _id: Types.ObjectId }[]>();
  const known = new Set(found.map((t) => String(t._id).toLowerCase()));
  const problems: { path: string; message: string }[] = [];
  value.steps.forEach((s, i) => {
    if (s.templateIds.some((t) => !known.has(t.toLowerCase())))
      problems.push({ path: `steps.${i}.templateIds`, message: 'Choose badges from the list.' });
  });
  if (value.badgeTemplateId && !known.has(value.badgeTemplateId.toLowerCase()))
    problems.push({ path: 'badgeTemplateId', message: 'Choose the pathway’s badge from the list.' });
  if (problems.length)
    throw new InvalidInputError(
      `The pathway is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      problems,
      'invalid_pathway',
    );
}

const stepsOf = (value: ValidPathway): PathwayStep[] =>
  value.steps.map((s) => ({
    id: s.id,
    name: s.name,
    description: s.description,
    templateIds: s.templateIds.map((t) => new Types.ObjectId(t)),
    atLeast: s.atLeast,
    prerequisites: s.prerequisites,
    optional: s.optional,
  }));

const allTemplates = (steps: PathwayStep[]) => [
  ...new Map(steps.flatMap((s) => s.templateIds).map((t) => [String(t), t])).values(),
];

/**
 * Creates a pathway. `everyCourse` (administrators only) offers it in every course of the platform;
 * otherwise it belongs to the editor's course.
 */
export async function createPathway(
  ctx: Context,
  scope: EditorScope,
  input: unknown,
  actor: Actor,
  options: { everyCourse?: boolean } = {},
): Promise<PathwayDoc> {
  const value = parsePathway(input);
  await checkTemplates(ctx, scope, value);
  const courseRef = scope.admin && (options.everyCourse || !scope.courseRef) ? null : scope.courseRef;
  if (!scope.admin && !courseRef) throw new InvalidInputError('Open Laurel from a course to make a pathway.');
  const steps = stepsOf(value);
  const now = ctx.now();
  const doc = await ctx.models.pathways.create({
    platformId: scope.platformId,
    courseRef,
    name: value.name,
    description: value.description,
    steps,
    badgeTemplateId: value.badgeTemplateId ? new Types.ObjectId(value.badgeTemplateId) : null,
    templateIds: allTemplates(steps),
    version: 1,
    createdBy: actor,
    createdAt: now,
    updatedAt: now,
  });
  await recordAudit(ctx.models, {
    at: ctx.now(),
    actor,
    action: 'pathway.created',
    platformId: scope.platformId,
    courseRef,
    target: { type: 'pathway', id: String(doc._id) },
    details: { name: value.name, steps: steps.length },
  });
  return doc.toObject() as PathwayDoc;
}

/** Deletes a pathway and its followers' records (their badges stay; shared links then answer 404). */
export async function deletePathway(
  ctx: Context,
  scope: EditorScope,
  id: string,
  actor: Actor,
): Promise<PathwayDoc> {
  const pathway = await editablePathway(ctx, scope, id);
  await ctx.models.pathways.deleteOne({ _id: pathway._id });
  await ctx.models.pathwayEnrolments.deleteMany({ pathwayId: pathway._id });
  await recordAudit(ctx.models, {
    at: ctx.now(),
    actor,
    action: 'pathway.deleted',
    platformId: scope.platformId,
    courseRef: pathway.courseRef,
    target: { type: 'pathway', id: String(pathway._id) },
    details: { name: pathway.name },
  });
  return pathway;
}

/**
 * Changes a pathway. `version` is the one the editor's form was made from: a pathway changed since
 * (another editor) is refused rather than overwritten. What learners achieved stays: completed steps
 * are recorded by step id, and the learners' progress is counted again under the new steps at once.
 */
export async function updatePathway(
  ctx: Context,
  scope: EditorScope,
  id: string,
  version: number,
  input: unknown,
  actor: Actor,
): Promise<PathwayDoc> {
  const current = await editablePathway(ctx, scope, id);
  const value = parsePathway(input);
  await checkTemplates(ctx, scope, value);
  const steps = stepsOf(value);
  const updated = await ctx.models.pathways
    .findOneAndUpdate(
      { _id: current._id, version },
      {
        $set: {
          name: value.name,
          description: value.description,
          steps,
          badgeTemplateId: value.badgeTemplateId ? new Types.ObjectId(value.badgeTemplateId) : null,
          templateIds: allTemplates(steps),
          updatedAt: ctx.now(),
        },
        $inc: { version: 1 },
      },
      { returnDocument: 'after' },
    )
    .lean<PathwayDoc>();
  if (!updated)
    throw new ConflictError(
      'pathway_changed',
      'Someone changed this pathway while you were editing it: open it again to see their changes.',
    );
  await recordAudit(ctx.models, {
    at: ctx.now(),
    actor,
    action: 'pathway.updated',
    platformId: scope.platformId,
    courseRef: updated.courseRef,
    target: { type: 'pathway', id: String(updated._id) },
    details: { name: value.name, steps: steps.length, version: updated.version },
  });
  await recountPathway(ctx, updated);
  return updated;
}
