import type { Types } from 'mongoose';
import { awardCredential } from '../awards/award.js';
import { SYSTEM } from '../audit/record.js';
import type { Context } from '../context.js';
import type { CourseDoc } from '../db/models/course.js';
import type { LearningEventDoc } from '../db/models/learningEvent.js';
import type { PersonDoc } from '../db/models/person.js';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import { resolveCourse, resolvePerson } from '../identity/resolve.js';
import { applyEvent, isBadgeRequirement, isComplete, type LearningEventLike } from '../rules/index.js';
import { changeProgress } from './update.js';

/** Look-ups one processing run may reuse (one job run; never shared between processes). */
export type RunCache = { courses: Map<string, CourseDoc>; people: Map<string, PersonDoc> };
export const newRunCache = (): RunCache => ({ courses: new Map(), people: new Map() });

export type EventOutcome = {
  templates: number;
  changed: number;
  awarded: string[];
  /** The course and person the event resolved to, stored on the event when it is marked processed. */
  refs: { courseRef: Types.ObjectId | null; personRef: Types.ObjectId };
};

/**
 * One stored event through the pipeline: identify course and person, find the active templates
 * that listen to this event type in this course (one indexed query), apply the rules, update
 * progress atomically, award when every group is met.
 */
export async function processEvent(
  ctx: Context,
  ev: LearningEventDoc,
  cache: RunCache,
): Promise<EventOutcome> {
  const course = ev.course ? await courseOf(ctx, ev, cache) : null;
  const person = await personOf(ctx, ev, cache);
  if (!ev.courseRef || !ev.personRef)
    await ctx.models.events.updateOne(
      { _id: ev._id },
      { $set: { courseRef: course?._id ?? null, personRef: person._id } },
    );

  const candidates = (await findCandidates(ctx, ev, course?._id ?? null)).filter(
    (t) => t.activeSince !== null && t.activeSince <= ev.receivedAt,
  );
  const outcome: EventOutcome = {
    templates: candidates.length,
    changed: 0,
    awarded: [],
    refs: { courseRef: course?._id ?? null, personRef: person._id },
  };
  if (candidates.length === 0) return outcome;

  const progress = new Map(
    (
      await ctx.models.progress
        .find({ personId: person._id, templateId: { $in: candidates.map((t) => t._id) } })
        .lean<ProgressDoc[]>()
    ).map((p) => [String(p.templateId), p]),
  );
  const heldBadges = await liveBadgesAmongRequired(ctx, person._id, candidates);
  const eventLike = asRuleEvent(ev);

  for (const template of candidates) {
    const before = progress.get(String(template._id))?.fulfilled ?? [];
    const result = applyEvent(template, before, eventLike);
    // A badge requirement holds while the person has a live credential of that badge.
    const held = template.groups
      .flatMap((g) => g.requirements)
      .filter((r) => isBadgeRequirement(r) && heldBadges.has(r.badge) && !before.includes(r.id))
      .map((r) => r.id)
      .filter((id) => !result.reset.includes(id) && !result.newlyFulfilled.includes(id));
    const fulfil = [...result.newlyFulfilled, ...held];
    if (fulfil.length === 0 && result.reset.length === 0) continue;
    const updated = await changeProgress(ctx, {
      template,
      personId: person._id,
      courseRef: course?._id ?? template.courseRef,
      fulfil,
      reset: result.reset,
      eventId: ev.eventId,
      at: ev.occurredAt,
    });
    outcome.changed++;
    if (updated && isComplete(template.groups, updated.fulfilled)) {
      const award = await awardCredential(ctx, {
        template,
        person,
        userId: ev.user.id,
        courseRef: course?._id ?? template.courseRef,
        courseId: ev.course?.id ?? template.courseId,
        evidence: updated.fulfilments,
        actor: SYSTEM,
      });
      if (award.awarded) outcome.awarded.push(String(award.credential._id));
    }
  }
  return outcome;
}

function findCandidates(ctx: Context, ev: LearningEventDoc, courseRef: Types.ObjectId | null) {
  const base = { platformId: ev.platformId, state: 'active' as const, eventTypes: ev.type };
  if (ev.type === 'badge.awarded' && typeof ev.data.templateId === 'string') {
    // A required badge counts wherever on the platform it was earned.
    return ctx.models.templates
      .find({
        ...base,
        $or: [{ requiresTemplates: ev.data.templateId }, { courseRef: { $in: [courseRef, null] } }],
      })
      .lean<TemplateDoc[]>();
  }
  return ctx.models.templates.find({ ...base, courseRef: { $in: [courseRef, null] } }).lean<TemplateDoc[]>();
}

async function liveBadgesAmongRequired(ctx: Context, personId: Types.ObjectId, templates: TemplateDoc[]) {
  const required = [...new Set(templates.flatMap((t) => t.requiresTemplates))];
  if (required.length === 0) return new Set<string>();
  const live = await ctx.models.credentials
    .find({ personId, templateId: { $in: required }, liveSlot: 'live' }, { templateId: 1 })
    .lean();
  return new Set(live.map((c) => String(c.templateId)));
}

async function courseOf(ctx: Context, ev: LearningEventDoc, cache: RunCache): Promise<CourseDoc> {
  const key = `${ev.platformId}:${ev.course!.id}`;
  let course = cache.courses.get(key);
  if (!course) {
    course = await resolveCourse(ctx.models, ev.platformId, { id: ev.course!.id, title: ev.course!.title });
    cache.courses.set(key, course);
  }
  return course;
}

async function personOf(ctx: Context, ev: LearningEventDoc, cache: RunCache): Promise<PersonDoc> {
  const key = `${ev.platformId}:${ev.user.id}`;
  let person = cache.people.get(key);
  if (!person) {
    const known = ev.personRef ? await ctx.models.people.findById(ev.personRef).lean<PersonDoc>() : null;
    person = known ?? (await resolvePerson(ctx.models, ev.platformId, ev.user));
    cache.people.set(key, person);
  }
  return person;
}

/** The event as rule paths see it: `type`, `course.id`, `user.id`, `data.…`. */
function asRuleEvent(ev: LearningEventDoc): LearningEventLike {
  return {
    id: ev.eventId,
    type: ev.type,
    occurredAt: ev.occurredAt.toISOString(),
    platform: String(ev.platformId),
    ...(ev.course ? { course: { id: ev.course.id } } : {}),
    user: { id: ev.user.id, ...(ev.user.email ? { email: ev.user.email } : {}) },
    data: ev.data,
  };
}
