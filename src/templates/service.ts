import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { recordAudit, type Actor } from '../audit/record.js';
import type { Context } from '../context.js';
import type { TemplateDoc } from '../db/models/template.js';
import { HttpError, isDuplicateKey, notFound } from '../errors.js';
import { resolveCourse } from '../identity/resolve.js';
import {
  queuedRecalculation,
  requestRecalculation,
  wakeRecalculations,
} from '../progress/recalculationQueue.js';
import { assignRequirementIds, isBadgeRequirement, parseTemplateRules } from '../rules/index.js';
import type { Levels, Penalty, RequirementGroup } from '../rules/index.js';
import { visibleTemplateFilter, type CourseScope } from '../courses/scope.js';
import type { CreateTemplateInput, UpdateTemplateInput } from './schema.js';

/**
 * Whose templates a caller may see: the admin API names a platform, an instructor also a course.
 * `courseRef` null or absent: not limited to one course (pages that need one check it first).
 */
export type TemplateScope = { platformId?: Types.ObjectId; courseRef?: Types.ObjectId | null };

const newRequirementId = () => `r${randomBytes(4).toString('hex')}`;

/**
 * The event types a template listens to: its requirements', its penalties', badge awards, and the
 * grade its levels are measured on.
 */
export function eventTypesOf(
  groups: readonly RequirementGroup[],
  penalties: readonly Penalty[],
  levels?: Levels | null,
): string[] {
  const types = new Set<string>();
  if (levels?.steps.length)
    types.add(levels.activityId === null ? 'course.grade.updated' : 'activity.grade.updated');
  for (const group of groups)
    for (const req of group.requirements) {
      types.add(isBadgeRequirement(req) ? 'badge.awarded' : req.event);
      // "Within D days of enrolment" needs the enrolment: it is read with the rest (and a late one re-judges).
      if (!isBadgeRequirement(req) && req.window?.daysAfterEnrolment !== undefined)
        types.add('enrollment.created');
    }
  for (const penalty of penalties) types.add(penalty.event);
  return [...types].sort();
}

const requiredTemplatesOf = (groups: readonly RequirementGroup[]) =>
  [...new Set(groups.flatMap((g) => g.requirements.filter(isBadgeRequirement).map((r) => r.badge)))].sort();

/**
 * For an instructor (a scope with a course): the course whose badges, platform-wide badges and
 * shared badges may be required, and the requirements already there (an administrator may have set
 * them through the API), which are kept even when they name a badge the course cannot see.
 */
type RequirementLimit = { scope: CourseScope; kept: readonly string[] };

async function checkBadgeRequirements(
  ctx: Context,
  platformId: Types.ObjectId,
  selfId: Types.ObjectId | null,
  groups: readonly RequirementGroup[],
  limit?: RequirementLimit,
) {
  const details: { path: string; message: string }[] = [];
  const wanted = requiredTemplatesOf(groups);
  const valid = wanted.filter((id) => /^[0-9a-f]{24}$/i.test(id));
  const filter: Record<string, unknown> = limit
    ? { ...visibleTemplateFilter(limit.scope), _id: { $in: valid } }
    : { _id: { $in: valid }, platformId };
  const found = new Set(
    (await ctx.models.templates.find(filter, { _id: 1 }).lean()).map((t) => String(t._id)),
  );
  for (const id of limit?.kept ?? []) found.add(id);
  const where = limit ? 'that this course may use' : 'on this platform';
  groups.forEach((group, g) =>
    group.requirements.forEach((req, r) => {
      if (!isBadgeRequirement(req)) return;
      const path = `groups.${g}.requirements.${r}.badge`;
      if (selfId && req.badge === String(selfId))
        details.push({ path, message: 'a badge cannot require itself' });
      else if (!found.has(req.badge))
        details.push({ path, message: `no badge template ${req.badge} ${where}` });
    }),
  );
  if (details.length)
    throw new HttpError(400, 'invalid_request', `A required badge does not exist ${where}.`, details);
}

/** An instructor's scope (one course of one platform) limits the badges a template may require. */
const limitOf = (scope: TemplateScope, kept: readonly string[] = []): RequirementLimit | undefined =>
  scope.platformId && scope.courseRef
    ? { scope: { platformId: scope.platformId, courseRef: scope.courseRef }, kept }
    : undefined;

function expiryFields(input: { expiresAfterDays?: number | null; expiresAt?: string | null }) {
  const out: { expiresAfterDays?: number | null; expiresAt?: Date | null } = {};
  if (input.expiresAfterDays !== undefined) {
    out.expiresAfterDays = input.expiresAfterDays;
    if (input.expiresAfterDays !== null) out.expiresAt = null;
  }
  if (input.expiresAt !== undefined) {
    out.expiresAt = input.expiresAt === null ? null : new Date(input.expiresAt);
    if (input.expiresAt !== null) out.expiresAfterDays = null;
  }
  return out;
}

/**
 * `scope`: an instructor's course (the course pages pass it); the template may then require only
 * the badges that course may see. The admin API passes none.
 */
export async function createTemplate(
  ctx: Context,
  input: CreateTemplateInput,
  actor: Actor,
  scope: TemplateScope = {},
  options: { createKey?: string } = {},
): Promise<TemplateDoc> {
  const platformId = new Types.ObjectId(input.platformId);
  if (!(await ctx.models.platforms.exists({ _id: platformId })))
    throw notFound(`Platform ${input.platformId}`);
  const course = input.courseId ? await resolveCourse(ctx.models, platformId, { id: input.courseId }) : null;
  const { groups, penalties } = assignRequirementIds(input.groups, input.penalties, newRequirementId);
  await checkBadgeRequirements(ctx, platformId, null, groups, limitOf({ ...scope, platformId }));
  const fields = {
    platformId,
    courseId: input.courseId ?? null,
    courseRef: course?._id ?? null,
    source: 'local' as const,
    name: input.name,
    description: input.description,
    criteria: input.criteria,
    imageId: input.imageId ?? null,
    tags: input.tags,
    alignments: input.alignments,
    ...expiryFields(input),
    allowReEarn: input.allowReEarn,
    shared: input.shared ?? false,
    state: 'draft' as const,
    groups,
    penalties,
    levels: input.levels ?? null,
    regrade: input.regrade ?? null,
    eventTypes: eventTypesOf(groups, penalties, input.levels),
    requiresTemplates: requiredTemplatesOf(groups),
    ...(options.createKey ? { createKey: options.createKey } : {}),
  };
  let template: TemplateDoc;
  try {
    template = (await ctx.models.templates.create(fields)).toObject();
  } catch (err) {
    // The same create form sent again (its first answer lost): the badge it made, in this scope.
    if (!options.createKey || !isDuplicateKey(err)) throw err;
    const made = await ctx.models.templates
      .findOne({ createKey: options.createKey, platformId, courseRef: fields.courseRef })
      .lean<TemplateDoc>();
    if (!made) throw err;
    return made;
  }
  await recordAudit(ctx.models, {
    actor,
    action: 'template.created',
    platformId,
    courseRef: template.courseRef,
    target: { type: 'template', id: String(template._id) },
    details: { name: template.name },
  });
  return template;
}

export async function getTemplate(ctx: Context, id: string, scope: TemplateScope = {}): Promise<TemplateDoc> {
  if (!Types.ObjectId.isValid(id)) throw notFound(`Badge template ${id}`);
  const filter: Record<string, unknown> = { _id: new Types.ObjectId(id) };
  if (scope.platformId) filter.platformId = scope.platformId;
  if (scope.courseRef) filter.courseRef = scope.courseRef;
  const template = await ctx.models.templates.findOne(filter).lean<TemplateDoc>();
  if (!template) throw notFound(`Badge template ${id}`);
  return template;
}

export async function listTemplates(
  ctx: Context,
  query: {
    platformId?: Types.ObjectId;
    courseRef?: Types.ObjectId | null;
    state?: string;
    after?: Types.ObjectId;
  },
  limit: number,
): Promise<TemplateDoc[]> {
  const filter: Record<string, unknown> = {};
  if (query.platformId) filter.platformId = query.platformId;
  if (query.courseRef !== undefined) filter.courseRef = query.courseRef;
  if (query.state) filter.state = query.state;
  if (query.after) filter._id = { $gt: query.after };
  return ctx.models.templates.find(filter).sort({ _id: 1 }).limit(limit).lean<TemplateDoc[]>();
}

export async function updateTemplate(
  ctx: Context,
  id: string,
  input: UpdateTemplateInput,
  actor: Actor,
  scope: TemplateScope = {},
): Promise<TemplateDoc> {
  const current = await getTemplate(ctx, id, scope);
  const set: Record<string, unknown> = {};
  for (const key of [
    'name',
    'description',
    'criteria',
    'imageId',
    'tags',
    'alignments',
    'allowReEarn',
    'shared',
  ] as const)
    if (input[key] !== undefined) set[key] = input[key];
  Object.assign(set, expiryFields(input));
  if (input.groups !== undefined || input.penalties !== undefined) {
    // Rules are checked as a whole: a new penalty may reset a kept requirement and the other way round.
    const merged = parseTemplateRules({
      groups: input.groups ?? current.groups,
      penalties: input.penalties ?? current.penalties,
    });
    if (!merged.success)
      throw new HttpError(400, 'invalid_request', 'The requirements are not valid.', merged.details);
    const { groups, penalties } = assignRequirementIds(
      merged.data.groups,
      merged.data.penalties,
      newRequirementId,
    );
    await checkBadgeRequirements(
      ctx,
      current.platformId,
      current._id,
      groups,
      limitOf({ ...scope, platformId: current.platformId }, current.requiresTemplates ?? []),
    );
    const levels = input.levels !== undefined ? input.levels : (current.levels ?? null);
    if (current.state === 'active' && groups.length === 0 && !levels?.steps.length)
      throw new HttpError(400, 'invalid_request', 'An active badge needs at least one requirement group.', [
        { path: 'groups', message: 'must not be empty while the badge is active' },
      ]);
    Object.assign(set, {
      groups,
      penalties,
      eventTypes: eventTypesOf(groups, penalties, levels),
      requiresTemplates: requiredTemplatesOf(groups),
    });
  }
  const rulesChanged =
    input.groups !== undefined ||
    input.penalties !== undefined ||
    input.levels !== undefined ||
    input.regrade !== undefined;
  if (input.levels !== undefined || input.regrade !== undefined) {
    const groups = (set.groups as RequirementGroup[] | undefined) ?? current.groups;
    const penalties = (set.penalties as Penalty[] | undefined) ?? current.penalties;
    const levels = input.levels !== undefined ? input.levels : (current.levels ?? null);
    if (current.state === 'active' && groups.length === 0 && !levels?.steps.length)
      throw new HttpError(
        400,
        'invalid_request',
        'An active badge needs at least one requirement group or levels.',
        [{ path: 'levels', message: 'must not be removed while the badge is active and has no groups' }],
      );
    if (input.levels !== undefined) set.levels = input.levels;
    if (input.regrade !== undefined) set.regrade = input.regrade;
    set.eventTypes = eventTypesOf(groups, penalties, levels);
  }
  // Changed rules of an active badge: the stored events are evaluated against them again, the recount
  // queued in the same write as the rules (a process killed between two writes would lose it).
  const recount = current.state === 'active' && rulesChanged;
  if (recount) set.recalculation = queuedRecalculation(ctx.now());
  const updated = await ctx.models.templates
    .findOneAndUpdate({ _id: current._id }, { $set: set, $inc: { version: 1 } }, { returnDocument: 'after' })
    .lean<TemplateDoc>();
  if (!updated) throw notFound(`Badge template ${id}`);
  if (recount) await wakeRecalculations(ctx);
  // Activated meanwhile (by another request), under the rules read before this change: count again.
  else if (updated.state === 'active' && rulesChanged) await requestRecalculation(ctx, updated._id);
  await recordAudit(ctx.models, {
    actor,
    action: 'template.updated',
    platformId: current.platformId,
    courseRef: current.courseRef,
    target: { type: 'template', id },
    details: { fields: Object.keys(set) },
  });
  return updated;
}

/** draft or inactive → active. The events stored so far count too: a recalculation is queued. */
export async function activateTemplate(ctx: Context, id: string, actor: Actor, scope: TemplateScope = {}) {
  const current = await getTemplate(ctx, id, scope);
  if (current.state === 'active') {
    // Sent again, often because the first answer was lost: that request may have died after queuing
    // the recount but before waking the job.
    if (current.recalculation?.state === 'queued') await wakeRecalculations(ctx);
    return current;
  }
  if (current.groups.length === 0 && !current.levels?.steps.length)
    throw new HttpError(
      400,
      'invalid_request',
      'A badge needs at least one requirement group (or levels) before it can be activated.',
      [{ path: 'groups', message: 'must not be empty' }],
    );
  return changeState(ctx, current, 'active', actor);
}

/** active → inactive (withdrawn): no new awards; progress and credentials stay. */
export async function withdrawTemplate(ctx: Context, id: string, actor: Actor, scope: TemplateScope = {}) {
  const current = await getTemplate(ctx, id, scope);
  if (current.state === 'inactive') return current;
  return changeState(ctx, current, 'inactive', actor);
}

async function changeState(ctx: Context, current: TemplateDoc, state: 'active' | 'inactive', actor: Actor) {
  // Activation queues the recount of the stored events in the same write as the state (see updateTemplate).
  const set =
    state === 'active'
      ? { state, activeSince: ctx.now(), recalculation: queuedRecalculation(ctx.now()) }
      : { state };
  const updated = await ctx.models.templates
    .findOneAndUpdate({ _id: current._id, state: current.state }, { $set: set }, { returnDocument: 'after' })
    .lean<TemplateDoc>();
  if (!updated) throw new HttpError(409, 'conflict', 'The badge changed meanwhile; reload and try again.');
  await recordAudit(ctx.models, {
    actor,
    action: state === 'active' ? 'template.activated' : 'template.withdrawn',
    platformId: current.platformId,
    courseRef: current.courseRef,
    target: { type: 'template', id: String(current._id) },
    details: { from: current.state, to: state },
  });
  if (state === 'active') await wakeRecalculations(ctx);
  return updated;
}

export function toPublicTemplate(t: TemplateDoc) {
  return {
    id: String(t._id),
    platformId: String(t.platformId),
    courseId: t.courseId,
    source: t.source,
    externalId: t.externalId,
    name: t.name,
    description: t.description,
    criteria: t.criteria,
    imageId: t.imageId,
    tags: t.tags,
    alignments: t.alignments,
    expiresAfterDays: t.expiresAfterDays,
    expiresAt: t.expiresAt,
    allowReEarn: t.allowReEarn,
    shared: t.shared === true,
    state: t.state,
    activeSince: t.activeSince,
    groups: t.groups,
    penalties: t.penalties,
    levels: t.levels ?? null,
    regrade: t.regrade ?? { policy: 'none', graceDays: 0 },
    version: t.version,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}
