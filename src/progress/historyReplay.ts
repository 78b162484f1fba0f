import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { LearningEventDoc } from '../db/models/learningEvent.js';
import type { TemplateDoc } from '../db/models/template.js';
import {
  usesHistory,
  type ActivityInfo,
  type EventRequirement,
  type HistoryEnvironment,
} from '../rules/index.js';
import { evaluateLearner, type LearnerResult, type StoredEvent } from './recalculate.js';
import { courseEndOf } from '../courses/endDate.js';
import { tagsOf } from '../courses/activityTags.js';

/**
 * The live pipeline's side of counts, windows and order (src/rules/history.ts): such a requirement
 * may depend on an event that happened earlier but arrives later (an enrolment delivered after the
 * grade, A's completion after B's), so one event alone cannot decide it. For the templates that have
 * one, each learner of a batch is judged again from all their stored events of the template's scope,
 * exactly as a recalculation does, so the live result and a recalculation's never differ and late or
 * reordered deliveries change nothing. A fixed number of round trips per batch: one read of events
 * per such template, one of the credentials that restart a learner, one of activity names and kinds.
 */

/** Whether a template has a requirement that needs the learner's whole history. */
export const needsHistory = (template: TemplateDoc): boolean =>
  template.groups.some((g) => g.requirements.some(usesHistory));

/** Whether a template counts activities, and so may need their names and kinds. */
const countsActivities = (template: TemplateDoc): boolean =>
  template.groups.some((g) => g.requirements.some((r) => (r as Partial<EventRequirement>).activities));

/** Whether a template has a requirement limited to "before the course ends". */
export const usesCourseEnd = (template: TemplateDoc): boolean =>
  template.groups.some((g) =>
    g.requirements.some((r) => (r as Partial<EventRequirement>).window?.beforeCourseEnd === true),
  );

export const storedOf = (
  e: LearningEventDoc,
  asRule: (e: LearningEventDoc) => StoredEvent['event'],
): StoredEvent => ({
  event: asRule(e),
  eventId: e.eventId,
  occurredAt: e.occurredAt,
  receivedAt: e.receivedAt,
});

/**
 * Names and kinds of the activities named by `events`, as the LMS's feeds described them (the
 * Moodle plugin's course structure, Canvas's assignments), for counts that match by name or kind.
 */
export async function activityEnvironment(
  ctx: Context,
  platformIds: Types.ObjectId[],
  events: readonly LearningEventDoc[],
): Promise<HistoryEnvironment> {
  const ids = [
    ...new Set(events.map((e) => e.data?.activityId).filter((id): id is string => typeof id === 'string')),
  ];
  if (ids.length === 0) return {};
  const rows = await ctx.models.lmsActivities
    .find(
      { platformId: { $in: platformIds }, activityId: { $in: ids } },
      { activityId: 1, name: 1, kind: 1, tags: 1, instructorTags: 1 },
    )
    .lean();
  const byId = new Map<string, ActivityInfo>(
    rows.map((r) => [r.activityId, { name: r.name, kind: r.kind, tags: tagsOf(r) }]),
  );
  return { activity: (id) => byId.get(id) };
}

/**
 * The end dates of the courses `events` happened in (by the LMS course id they name), for "before
 * the course ends": the instructor's date where set, else the LMS's (src/courses/endDate.ts). One read.
 */
export async function courseEndEnvironment(
  ctx: Context,
  platformIds: Types.ObjectId[],
  events: readonly LearningEventDoc[],
): Promise<HistoryEnvironment> {
  const ids = [
    ...new Set(events.map((e) => e.course?.id).filter((id): id is string => typeof id === 'string')),
  ];
  if (ids.length === 0) return {};
  const rows = await ctx.models.courses
    .find(
      { platformId: { $in: platformIds }, ids: { $in: ids } },
      { ids: 1, lmsEndsAt: 1, instructorEndsAt: 1 },
    )
    .lean();
  const byId = new Map<string, Date | null>();
  for (const row of rows) for (const id of row.ids) byId.set(id, courseEndOf(row));
  return { courseEndFor: (id) => byId.get(id) ?? null };
}

/**
 * Events of these learners still waiting for (or in) another run: their person and course are only
 * written on them once processed, so the read by person misses them. Found by the ids the person and
 * the course are known by, among the pending and processing events (few), and matched to each template
 * here. Without them, two runs taking one learner's events at once would each see only its own.
 */
async function unresolvedEventsOf(
  ctx: Context,
  entries: { template: TemplateDoc; people: Map<string, Types.ObjectId> }[],
  people: Types.ObjectId[],
): Promise<Map<string, LearningEventDoc[]>> {
  const courseRefs = [...new Set(entries.map((e) => e.template.courseRef).filter((c) => c !== null))];
  const [persons, courses] = await Promise.all([
    ctx.models.people.find({ _id: { $in: people } }, { ids: 1 }).lean(),
    courseRefs.length ? ctx.models.courses.find({ _id: { $in: courseRefs } }, { ids: 1 }).lean() : [],
  ]);
  const personOfId = new Map<string, string>();
  for (const p of persons) for (const id of p.ids) personOfId.set(id, String(p._id));
  const courseIds = new Map(courses.map((c) => [String(c._id), new Set(c.ids)]));
  const waiting = await ctx.models.events
    .find({
      status: { $in: ['pending', 'processing'] },
      personRef: null,
      platformId: {
        $in: [
          ...new Map(entries.map((e) => [String(e.template.platformId), e.template.platformId])).values(),
        ],
      },
      'user.id': { $in: [...personOfId.keys()] },
    })
    .lean<LearningEventDoc[]>();
  const out = new Map<string, LearningEventDoc[]>();
  for (const { template, people: wanted } of entries)
    for (const e of waiting) {
      const person = personOfId.get(e.user.id);
      if (!person || !wanted.has(person) || String(e.platformId) !== String(template.platformId)) continue;
      if (!template.eventTypes.includes(e.type)) continue;
      if (template.courseRef) {
        const ids = courseIds.get(String(template.courseRef));
        const sameCourse = e.courseRef
          ? String(e.courseRef) === String(template.courseRef)
          : Boolean(e.course && ids?.has(e.course.id));
        if (!sameCourse) continue;
      }
      const key = `${template._id}:${person}`;
      out.set(key, [...(out.get(key) ?? []), e]);
    }
  return out;
}

/** Per learner: the latest revocation or expiry of this template's credential (events before it no longer count). */
export function restartsOf(credentials: readonly CredentialDoc[]): Map<string, Date> {
  const since = new Map<string, Date>();
  for (const c of credentials) {
    const ended = c.status === 'revoked' ? c.revokedAt : c.status === 'expired' ? c.expiredAt : null;
    const key = `${c.templateId}:${c.personId}`;
    if (ended && (!since.has(key) || since.get(key)! < ended)) since.set(key, ended);
  }
  return since;
}

export type HistoryPair = {
  template: TemplateDoc;
  personId: Types.ObjectId;
  /**
   * The batch's own events of this learner that the template listens to (their person may not be
   * stored on them yet, so the read by person could miss them).
   */
  batchEvents: LearningEventDoc[];
};

/**
 * Judges each (template, learner) pair from the learner's stored events of the template's scope
 * and the batch's own. `held`: `${templateId}:${personId}` of the live credentials of required badges.
 * Answers results by `${templateId}:${personId}`.
 */
export async function replayPairs(
  ctx: Context,
  pairs: readonly HistoryPair[],
  held: ReadonlySet<string>,
  eventFilter: (t: TemplateDoc) => Record<string, unknown>,
  asRule: (e: LearningEventDoc) => StoredEvent['event'],
): Promise<Map<string, LearnerResult>> {
  const results = new Map<string, LearnerResult>();
  if (pairs.length === 0) return results;
  const byTemplate = new Map<string, { template: TemplateDoc; people: Map<string, Types.ObjectId> }>();
  for (const p of pairs) {
    const entry = byTemplate.get(String(p.template._id)) ?? { template: p.template, people: new Map() };
    entry.people.set(String(p.personId), p.personId);
    byTemplate.set(String(p.template._id), entry);
  }
  const entries = [...byTemplate.values()];
  const allPeople = [...new Map(pairs.map((p) => [String(p.personId), p.personId])).values()];
  // Waiting events first, then those already processed: an event processed between the two reads
  // is then in one of them (read the other way round, it could be in neither).
  const unresolved = await unresolvedEventsOf(ctx, entries, allPeople);
  const [eventLists, credentials] = await Promise.all([
    Promise.all(
      entries.map(({ template, people }) =>
        ctx.models.events
          .find({ $and: [eventFilter(template), { personRef: { $in: [...people.values()] } }] })
          .lean<LearningEventDoc[]>(),
      ),
    ),
    ctx.models.credentials
      .find(
        {
          templateId: { $in: entries.map((e) => e.template._id) },
          personId: { $in: allPeople },
          status: { $in: ['revoked', 'expired'] },
        },
        { templateId: 1, personId: 1, status: 1, revokedAt: 1, expiredAt: 1 },
      )
      .lean<CredentialDoc[]>(),
  ]);
  const since = restartsOf(credentials);
  const counting = entries.flatMap((e, i) => (countsActivities(e.template) ? eventLists[i]! : []));
  const countingBatch = pairs.filter((p) => countsActivities(p.template)).flatMap((p) => p.batchEvents);
  const platformIds = [
    ...new Map(entries.map((e) => [String(e.template.platformId), e.template.platformId])).values(),
  ];
  const ending = entries.flatMap((e, i) => (usesCourseEnd(e.template) ? eventLists[i]! : []));
  const endingBatch = pairs.filter((p) => usesCourseEnd(p.template)).flatMap((p) => p.batchEvents);
  const [activityEnv, endEnv] = await Promise.all([
    activityEnvironment(ctx, platformIds, [...counting, ...countingBatch]),
    courseEndEnvironment(ctx, platformIds, [...ending, ...endingBatch]),
  ]);
  const env: HistoryEnvironment = { ...activityEnv, ...endEnv };
  entries.forEach(({ template }, i) => {
    const stored = eventLists[i]!;
    for (const pair of pairs.filter((p) => p.template === template)) {
      const person = String(pair.personId);
      const processed = stored.filter((e) => String(e.personRef) === person);
      const done = new Set(processed.map((e) => e.eventId));
      const waiting = (unresolved.get(`${template._id}:${person}`) ?? []).filter((e) => !done.has(e.eventId));
      const mine = [...processed, ...waiting];
      const known = new Set(mine.map((e) => e.eventId));
      // The batch's events for this template that the read could not see by person yet.
      const extra = pair.batchEvents.filter((e) => !known.has(e.eventId));
      const badges = new Set(template.requiresTemplates.filter((b) => held.has(`${b}:${person}`)));
      results.set(
        `${template._id}:${person}`,
        evaluateLearner(
          template,
          [...mine, ...extra].map((e) => storedOf(e, asRule)),
          badges,
          since.get(`${template._id}:${person}`) ?? null,
          env,
        ),
      );
    }
  });
  return results;
}
