import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { SYSTEM } from '../audit/record.js';
import { awardMany, type AwardRequest } from '../awards/award.js';
import type { Context } from '../context.js';
import type { CourseDoc } from '../db/models/course.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { LearningEventDoc } from '../db/models/learningEvent.js';
import { ONE_REPLY } from '../db/oneReply.js';
import type { PersonDoc } from '../db/models/person.js';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import { isDuplicateKey, writeErrorsOf } from '../errors.js';
import { resolveCourse, resolvePerson } from '../identity/resolve.js';
import {
  isBadgeRequirement,
  levelOf,
  regradeOf,
  stepLearner,
  type LearningEventLike,
} from '../rules/index.js';
import { applyRegradeOutcomes, type RegradeOutcomes } from './regradeOutcomes.js';
import { progressState, type ProgressState } from './state.js';
import { needsHistory, replayPairs, type HistoryPair } from './historyReplay.js';
import type { LearnerResult } from './recalculate.js';
import { eventFilter } from './recalculation.js';
import { templateCacheFor, type PlatformTemplates } from './templateCache.js';

export type BatchResult = {
  /** Events applied; their processed marks go with the refs they resolved to. */
  done: { event: LearningEventDoc; courseRef: Types.ObjectId | null; personRef: Types.ObjectId }[];
  /** Events that could not be applied now (retried with backoff), with the reason. */
  failed: { event: LearningEventDoc; error: string }[];
  awarded: string[];
};

type Resolved = { event: LearningEventDoc; courseRef: Types.ObjectId | null; personId: Types.ObjectId };
/** A batch's events with their course and person (processEventBatch's first step). */
export type ResolvedBatch = Resolved[];

/**
 * The course and person of each event of a batch, people first seen created. Nothing here depends
 * on the batches before (people and courses are found or created idempotently), so a run may
 * resolve the next batch while it applies this one (processPending.ts).
 */
export function resolveBatch(ctx: Context, events: LearningEventDoc[]): Promise<ResolvedBatch> {
  return resolveRefs(ctx, events);
}

const MAX_CONFLICT_ROUNDS = 5;
/**
 * Long `$in` lists are read in slices of this many, side by side: a server tests each candidate
 * document against the whole list, so one read with n values over n candidates costs n², while
 * n / IN_SLICE reads cost n × IN_SLICE, for a few more round trips per batch.
 */
const IN_SLICE = 100;

async function sliced<V, T>(values: V[], read: (slice: V[]) => Promise<T[]>): Promise<T[]> {
  const slices: V[][] = [];
  for (let i = 0; i < values.length; i += IN_SLICE) slices.push(values.slice(i, i + IN_SLICE));
  return (await Promise.all(slices.map(read))).flat();
}

/**
 * Learners of a batch are applied in this many lanes side by side (each learner in one lane, its
 * events in order): while one lane waits for the database, this process computes another's, so
 * the database and this process work at the same time instead of taking turns.
 */
export const EVENT_LANES = 3;

/**
 * Applies a claimed batch of events with a fixed number of round trips, whatever its size:
 * people and courses resolved in one read each, templates from the process's validated cache, then
 * the learners split into `lanes` (by person, so each learner's events stay together and in order),
 * and in each lane: every affected progress document read at once, each learner's events
 * applied in order in memory, the new states written with one bulk write (optimistic on `rev`, so
 * a concurrent writer is detected and that learner recomputed from what is stored), then the
 * awards of every learner of the lane at once. A lane that fails sends only its own events back
 * for a retry.
 */
export async function processEventBatch(
  ctx: Context,
  events: LearningEventDoc[],
  options: { lanes?: number; resolved?: Promise<ResolvedBatch> } = {},
): Promise<BatchResult> {
  const [resolved, templates] = await Promise.all([
    options.resolved ?? resolveBatch(ctx, events),
    templateCacheFor(ctx.models).forPlatforms(
      ctx,
      events.map((e) => e.platformId),
    ),
  ]);
  const lanes = splitByLearner(resolved, Math.max(1, options.lanes ?? EVENT_LANES));
  const outcomes = await Promise.allSettled(lanes.map((lane) => applyResolved(ctx, lane, templates)));
  const result: BatchResult = { done: [], failed: [], awarded: [] };
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') {
      result.done.push(...outcome.value.done);
      result.failed.push(...outcome.value.failed);
      result.awarded.push(...outcome.value.awarded);
      return;
    }
    const error = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
    ctx.logger.warn({ err: outcome.reason, events: lanes[i]!.length }, 'applying learning events failed');
    for (const r of lanes[i]!) result.failed.push({ event: r.event, error });
  });
  return result;
}

/** The batch's learners in `n` lanes (none empty), each learner's events in one lane, in claim order. */
function splitByLearner(resolved: Resolved[], n: number): Resolved[][] {
  if (n === 1) return [resolved];
  const lanes: Resolved[][] = Array.from({ length: n }, () => []);
  // The low bytes of an ObjectId are a counter, so consecutive people land in different lanes.
  for (const r of resolved) lanes[parseInt(idText(r.personId).slice(-6), 16) % n]!.push(r);
  return lanes.filter((lane) => lane.length > 0);
}

/** One lane: its learners' events applied, progress written, awards made. */
async function applyResolved(
  ctx: Context,
  resolved: Resolved[],
  templates: Map<string, PlatformTemplates>,
): Promise<BatchResult> {
  // Each learner's events, in the order they were claimed (oldest stored first).
  const byLearner = new Map<string, Resolved[]>();
  for (const r of resolved) {
    const list = byLearner.get(idText(r.personId)) ?? [];
    list.push(r);
    byLearner.set(idText(r.personId), list);
  }
  const candidatesOf = new Map<Resolved, TemplateDoc[]>(
    resolved.map((r) => [r, candidates(templates.get(String(r.event.platformId))!, r)]),
  );
  const heldBadges = await liveBadgesAmongRequired(ctx, resolved, candidatesOf);

  let learners = [...byLearner.keys()];
  const awards = new Map<string, AwardRequest>();
  const regrades: RegradeOutcomes = { fellBack: new Map(), cameBack: new Map() };
  for (let round = 0; learners.length && round < MAX_CONFLICT_ROUNDS; round++) {
    const events = learners.flatMap((l) => byLearner.get(l)!);
    const states = await loadStates(ctx, events, candidatesOf);
    // Progress first, then the events (as a recalculation does): an event stored after this read
    // belongs to a run whose write changes `rev`, so one of the two writes loses and is redone.
    const histories = await replayHistories(ctx, events, candidatesOf, heldBadges);
    for (const l of learners)
      for (const map of [awards, regrades.fellBack, regrades.cameBack])
        for (const a of map.keys()) if (a.endsWith(`:${l}`)) map.delete(a);
    for (const r of events)
      applyOne(ctx, r, candidatesOf.get(r)!, states, heldBadges, awards, regrades, histories);
    learners = await writeStates(ctx, states);
  }
  if (learners.length)
    throw new Error(`progress of ${learners.length} learner(s) kept changing under this run`);
  // Before the awards: a grade that came back cancels a pending revocation first, so a revocation
  // that ran meanwhile is seen by the award, which then issues the badge again.
  await applyRegradeOutcomes(ctx, regrades);

  const requests = [...awards.values()];
  const outcomes = await awardMany(ctx, requests, {
    unheard: (c) => !hearsAward(templates.get(String(c.platformId)), c),
  });
  const blocked = new Set<string>();
  outcomes.forEach((o, i) => {
    if (!o.awarded && o.reason === 'platform-pending') blocked.add(String(requests[i]!.personId));
  });
  const result: BatchResult = { done: [], failed: [], awarded: [] };
  for (const o of outcomes) if (o.awarded) result.awarded.push(String(o.credential._id));
  for (const r of resolved) {
    if (blocked.has(String(r.personId)))
      result.failed.push({ event: r.event, error: 'the platform waits for an administrator’s approval' });
    else result.done.push({ event: r.event, courseRef: r.courseRef, personRef: r.personId });
  }
  return result;
}

/** The templates that listen to this event: its type, its course or the whole platform. */
function candidates(
  platform: PlatformTemplates,
  r: { event: Pick<LearningEventDoc, 'type' | 'data'>; courseRef: Resolved['courseRef'] },
): TemplateDoc[] {
  const { event } = r;
  const found = new Set<TemplateDoc>(platform.byTypeAndCourse.get(`${event.type}:*`) ?? []);
  if (r.courseRef)
    for (const t of platform.byTypeAndCourse.get(`${event.type}:${String(r.courseRef)}`) ?? []) found.add(t);
  // A required badge counts wherever on the platform it was earned.
  if (event.type === 'badge.awarded' && typeof event.data.templateId === 'string')
    for (const t of platform.byTypeAndRequired.get(`${event.type}:${event.data.templateId}`) ?? [])
      found.add(t);
  // Every active template listens, whenever the event was stored: what arrived before a badge was
  // activated is counted by its recalculation (recalculation.ts), so the order never matters.
  return [...found];
}

/**
 * Whether any of the platform's active templates would take up the badge.awarded event of this
 * credential: the same lookup as `candidates` for that event (its type, its course, the badge it
 * names). A platform this batch did not load is assumed to listen.
 */
function hearsAward(
  platform: PlatformTemplates | undefined,
  credential: Pick<CredentialDoc, 'templateId' | 'courseRef'>,
): boolean {
  if (!platform) return true;
  const event = { type: 'badge.awarded', data: { templateId: String(credential.templateId) } };
  return candidates(platform, { event, courseRef: credential.courseRef }).length > 0;
}

/** A template's badge requirements, found once per loaded template (most have none). */
const badgeRequirements = new WeakMap<TemplateDoc, TemplateDoc['groups'][number]['requirements']>();
function badgeRequirementsOf(template: TemplateDoc) {
  let found = badgeRequirements.get(template);
  if (!found)
    badgeRequirements.set(
      template,
      (found = template.groups.flatMap((g) => g.requirements).filter((q) => isBadgeRequirement(q))),
    );
  return found;
}

export type States = Map<string, ProgressState>;
/** An id's hex text, computed once per id object (a batch keys the same ids thousands of times). */
const hexOf = new WeakMap<object, string>();
export const idText = (id: Types.ObjectId): string => {
  let text = hexOf.get(id);
  if (text === undefined) hexOf.set(id, (text = String(id)));
  return text;
};
export const stateKey = (templateId: Types.ObjectId, personId: Types.ObjectId) =>
  `${idText(templateId)}:${idText(personId)}`;

async function loadStates(
  ctx: Context,
  events: Resolved[],
  candidatesOf: Map<Resolved, TemplateDoc[]>,
): Promise<States> {
  const people = [...new Map(events.map((r) => [idText(r.personId), r.personId])).values()];
  const templateIds = [
    ...new Map(events.flatMap((r) => candidatesOf.get(r)!).map((t) => [idText(t._id), t._id])).values(),
  ];
  const states: States = new Map();
  if (templateIds.length === 0) return states;
  const platforms = [
    ...new Map(events.map((r) => [String(r.event.platformId), r.event.platformId])).values(),
  ];
  const wanted = new Set(templateIds.map(String));
  const docs = (
    await sliced(people, (slice) =>
      ctx.models.progress
        .find({ platformId: { $in: platforms }, personId: { $in: slice } })
        .batchSize(ONE_REPLY)
        .lean<ProgressDoc[]>(),
    )
  ).filter((d) => wanted.has(String(d.templateId)));
  for (const d of docs) states.set(stateKey(d.templateId, d.personId), progressState(d));
  return states;
}

function applyOne(
  ctx: Context,
  r: Resolved,
  templates: TemplateDoc[],
  states: States,
  heldBadges: Set<string>,
  awards: Map<string, AwardRequest>,
  regrades?: RegradeOutcomes,
  histories: Map<string, LearnerResult> = new Map(),
): void {
  const eventLike = asRuleEvent(r.event);
  for (const template of templates) {
    const key = stateKey(template._id, r.personId);
    const state =
      states.get(key) ??
      progressState(null, {
        templateId: template._id,
        personId: r.personId,
        platformId: template.platformId,
        courseRef: r.courseRef ?? template.courseRef,
      });
    const history = histories.get(key);
    if (history) {
      // Counts, windows, order: the learner's whole history decides (historyReplay.ts).
      state.replace(template, history.fulfilled, history.fulfilments, ctx.now(), {
        counted: history.counted,
      });
      states.set(key, state);
      awardIfComplete(r, template, state, key, awards);
      continue;
    }
    // A badge requirement holds while the person has a live credential of that badge.
    const held = badgeRequirementsOf(template)
      .filter((q) => isBadgeRequirement(q) && heldBadges.has(`${q.badge}:${r.personId}`))
      .map((q) => q.id);
    const wasComplete = state.complete(template);
    const levelBefore = levelOf(template, state.measure);
    const step = stepLearner(
      template,
      { fulfilled: state.fulfilled, fulfilments: state.fulfilments, measure: state.measure },
      eventLike,
      { eventId: r.event.eventId, occurredAt: r.event.occurredAt },
      held,
    );
    if (step.changed) {
      state.applyStep(template, step, ctx.now());
      states.set(key, state);
    }
    const complete = state.complete(template);
    // A regrade took the badge back (policy `revoke`): its live credential waits out the grace period.
    const regraded =
      step.regraded.length > 0 || (levelBefore !== null && levelOf(template, state.measure) === null);
    if (regrades && wasComplete && !complete && regraded && regradeOf(template.regrade).policy === 'revoke') {
      // The batch's last word counts: fallen back after coming back is fallen back.
      regrades.fellBack.set(key, { template, personId: r.personId });
      regrades.cameBack.delete(key);
    }
    if (regrades && complete) regrades.fellBack.delete(key);
    if (regrades && complete && regradeOf(template.regrade).policy === 'revoke')
      regrades.cameBack.set(key, { template, personId: r.personId });
    // Complete after an event that concerns it: award (the unique index and the live-credential
    // check make a repeat harmless). With levels, the request names the step reached; a later event
    // of the batch may raise it. A state that was already complete when read was awarded when it
    // became complete (revocation and expiry clear progress), so it is not asked again, except by an
    // event applied again (attempts > 1): a run that died, or failed, between progress and award
    // heals there, since its events are only marked processed after their awards.
    const ask = !wasComplete || r.event.attempts > 1;
    if (complete && (template.levels || (ask && !awards.has(key))))
      awards.set(key, awardRequestOf(r, template, state));
  }
}

/**
 * Complete after an event that concerns it: award (the unique index and the live-credential
 * check make a repeat harmless, and a run that died between progress and award heals here).
 */
function awardIfComplete(
  r: Resolved,
  template: TemplateDoc,
  state: ProgressState,
  key: string,
  awards: Map<string, AwardRequest>,
): void {
  if (state.complete(template) && !awards.has(key)) awards.set(key, awardRequestOf(r, template, state));
}

/** The award a complete state asks for: its evidence, and with levels the step reached. */
function awardRequestOf(r: Resolved, template: TemplateDoc, state: ProgressState): AwardRequest {
  return {
    template,
    personId: r.personId,
    userId: r.event.user.id,
    courseRef: r.courseRef ?? template.courseRef,
    courseId: r.event.course?.id ?? template.courseId,
    evidence: state.fulfilments.map((f) => ({
      requirementId: f.requirementId,
      eventId: f.eventId,
      at: f.at,
    })),
    level: levelOf(template, state.measure)?.id ?? null,
    actor: SYSTEM,
  };
}

/** The (template, learner) pairs of the batch whose template needs the learner's history, replayed. */
async function replayHistories(
  ctx: Context,
  resolved: Resolved[],
  candidatesOf: Map<Resolved, TemplateDoc[]>,
  heldBadges: Set<string>,
): Promise<Map<string, LearnerResult>> {
  const pairs = new Map<string, HistoryPair>();
  for (const r of resolved)
    for (const template of candidatesOf.get(r)!) {
      if (!needsHistory(template)) continue;
      const key = stateKey(template._id, r.personId);
      const pair = pairs.get(key) ?? { template, personId: r.personId, batchEvents: [] };
      pair.batchEvents.push(r.event);
      pairs.set(key, pair);
    }
  return replayPairs(ctx, [...pairs.values()], heldBadges, eventFilter, asRuleEvent);
}

/**
 * Writes every changed state in one bulk write: new documents inserted (the unique (template,
 * person) index refuses a concurrent twin), existing ones replaced field by field only where `rev`
 * is still what was read. Answers the learners whose write lost a race, to be recomputed.
 */
export async function writeStates(ctx: Context, states: States): Promise<string[]> {
  const changed = [...states.values()].filter((s) => s.dirty);
  if (changed.length === 0) return [];
  const token = randomUUID();
  const writtenAt = new Date();
  const ops = changed.map((s) => s.writeOp(writtenAt, token));
  let conflicted = false;
  try {
    const result = await ctx.models.progress.collection.bulkWrite(ops, { ordered: false });
    conflicted = result.matchedCount + result.insertedCount < ops.length;
  } catch (err) {
    const errors = (err as { writeErrors?: { code?: number }[] }).writeErrors;
    if (!Array.isArray(errors) || errors.some((w) => w.code !== 11000)) throw err;
    conflicted = true;
  }
  if (!conflicted) return [];
  // Which writes landed: those whose document now carries the revision this run wrote.
  const now = await ctx.models.progress
    .find(
      { $or: changed.map((s) => ({ templateId: s.templateId, personId: s.personId })) },
      { templateId: 1, personId: 1, rev: 1, writeToken: 1 },
    )
    .lean<(ProgressDoc & { writeToken?: string })[]>();
  const landed = new Set(
    now
      .filter((d) =>
        changed.some((s) => s.matches(d.templateId, d.personId) && s.writeToken === d.writeToken),
      )
      .map((d) => stateKey(d.templateId, d.personId)),
  );
  return [
    ...new Set(
      changed.filter((s) => !landed.has(stateKey(s.templateId, s.personId))).map((s) => String(s.personId)),
    ),
  ];
}

async function liveBadgesAmongRequired(
  ctx: Context,
  resolved: Resolved[],
  candidatesOf: Map<Resolved, TemplateDoc[]>,
): Promise<Set<string>> {
  const required = new Set<string>();
  const people = new Map<string, Types.ObjectId>();
  for (const r of resolved)
    for (const t of candidatesOf.get(r)!)
      if (t.requiresTemplates.length) {
        t.requiresTemplates.forEach((id) => required.add(id));
        people.set(String(r.personId), r.personId);
      }
  if (required.size === 0) return new Set();
  const live = await ctx.models.credentials
    .find(
      {
        platformId: {
          $in: [...new Map(resolved.map((r) => [String(r.event.platformId), r.event.platformId])).values()],
        },
        personId: { $in: [...people.values()] },
        templateId: { $in: [...required].filter(Types.ObjectId.isValid).map((id) => new Types.ObjectId(id)) },
        liveSlot: 'live',
      },
      { templateId: 1, personId: 1 },
    )
    .lean();
  return new Set(live.map((c) => `${c.templateId}:${c.personId}`));
}

/**
 * The course and person of every event: what an earlier run stored on the event, else one read
 * of the people (and one of the courses) named in the batch; only someone never seen before is
 * created one by one (resolvePerson also joins a person known by e-mail).
 */
async function resolveRefs(ctx: Context, events: LearningEventDoc[]): Promise<Resolved[]> {
  const { models } = ctx;
  const needPerson = events.filter((e) => !e.personRef);
  const needCourse = events.filter((e) => e.course && !e.courseRef);
  // One read each, with top-level `$in`s (an index narrows them); pairs are matched here.
  const platformsOf = (list: LearningEventDoc[]) => [
    ...new Map(list.map((e) => [String(e.platformId), e.platformId])).values(),
  ];
  const [people, courses] = await Promise.all([
    sliced([...new Set(needPerson.map((e) => e.user.id))], (slice) =>
      models.people
        .find({ platformId: { $in: platformsOf(needPerson) }, ids: { $in: slice } })
        .batchSize(ONE_REPLY)
        .lean<PersonDoc[]>(),
    ),
    sliced([...new Set(needCourse.map((e) => e.course!.id))], (slice) =>
      models.courses
        .find({ platformId: { $in: platformsOf(needCourse) }, ids: { $in: slice } })
        .batchSize(ONE_REPLY)
        .lean<CourseDoc[]>(),
    ),
  ]);
  const personOf = new Map<string, PersonDoc>();
  for (const p of people) for (const id of p.ids) personOf.set(`${p.platformId}:${id}`, p);
  const courseOf = new Map<string, Types.ObjectId>();
  for (const c of courses) for (const id of c.ids) courseOf.set(`${c.platformId}:${id}`, c._id);

  await createUnknownPeople(ctx, needPerson, personOf);

  const fills = new Map<string, Record<string, string>>();
  const out: Resolved[] = [];
  for (const event of events) {
    let courseRef = event.courseRef;
    if (!courseRef && event.course) {
      const key = `${event.platformId}:${event.course.id}`;
      courseRef = courseOf.get(key) ?? null;
      if (!courseRef) {
        courseRef = (await resolveCourse(models, event.platformId, event.course))._id;
        courseOf.set(key, courseRef);
      }
    }
    let personId = event.personRef;
    if (!personId) {
      const key = `${event.platformId}:${event.user.id}`;
      const known = personOf.get(key);
      if (known) {
        // Fill what was unknown; never overwrite what a launch (the authoritative source) said.
        const fill = fills.get(String(known._id)) ?? {};
        const email = event.user.email?.trim().toLowerCase() || null;
        if (!known.email && email && !fill.email) fill.email = email;
        if (!known.name && event.user.name && !fill.name) fill.name = event.user.name;
        if (Object.keys(fill).length) fills.set(String(known._id), fill);
        personId = known._id;
      } else {
        const person = await resolvePerson(models, event.platformId, event.user);
        personOf.set(key, person);
        personId = person._id;
      }
    }
    out.push({ event, courseRef: courseRef ?? null, personId });
  }
  if (fills.size)
    await models.people.bulkWrite(
      [...fills].map(([id, fill]) => ({
        updateOne: { filter: { _id: new Types.ObjectId(id) }, update: { $set: fill } },
      })),
      { ordered: false },
    );
  return out;
}

const normalEmail = (email: string | null | undefined) => email?.trim().toLowerCase() || null;

/**
 * The people first seen in this batch, made known in three round trips for the whole batch (as
 * resolvePerson does one by one): someone known by e-mail alone (a launch, the roster) gains the new
 * id; everyone else is created, and a concurrent creator's document (unique createKey) is read back.
 */
async function createUnknownPeople(
  ctx: Context,
  events: LearningEventDoc[],
  personOf: Map<string, PersonDoc>,
) {
  const { models } = ctx;
  const unknown = new Map<string, LearningEventDoc>();
  for (const e of events) {
    const key = `${e.platformId}:${e.user.id}`;
    if (!personOf.has(key) && !unknown.has(key)) unknown.set(key, e);
  }
  if (unknown.size === 0) return;
  const platforms = [
    ...new Map([...unknown.values()].map((e) => [String(e.platformId), e.platformId])).values(),
  ];
  const emails = [
    ...new Set([...unknown.values()].map((e) => normalEmail(e.user.email)).filter((m) => m !== null)),
  ];
  if (emails.length) {
    const known = await models.people
      .find({ platformId: { $in: platforms }, email: { $in: emails } })
      .lean<PersonDoc[]>();
    const byEmail = new Map<string, PersonDoc[]>();
    for (const p of known)
      byEmail.set(`${p.platformId}:${p.email}`, [...(byEmail.get(`${p.platformId}:${p.email}`) ?? []), p]);
    const joins: { _id: Types.ObjectId; id: string }[] = [];
    for (const [key, e] of unknown) {
      const same = byEmail.get(`${e.platformId}:${normalEmail(e.user.email)}`);
      if (same?.length !== 1) continue;
      const person = same[0]!;
      joins.push({ _id: person._id, id: e.user.id });
      person.ids = [...person.ids, e.user.id];
      personOf.set(key, person);
      unknown.delete(key);
    }
    if (joins.length)
      await models.people.bulkWrite(
        joins.map((j) => ({ updateOne: { filter: { _id: j._id }, update: { $addToSet: { ids: j.id } } } })),
        { ordered: false },
      );
  }
  if (unknown.size === 0) return;
  const fresh = [...unknown].map(([key, e]) => ({
    key,
    doc: new models.people({
      platformId: e.platformId,
      ids: [e.user.id],
      lmsUserId: e.user.id,
      email: normalEmail(e.user.email),
      name: e.user.name ?? null,
      createKey: key,
    }).toObject({ versionKey: false }) as unknown as PersonDoc,
  }));
  const lost = new Set<number>();
  try {
    await models.people.collection.insertMany(
      fresh.map((f) => f.doc),
      { ordered: false },
    );
  } catch (err) {
    const errors = writeErrorsOf(err);
    if (errors.length === 0 || errors.some((w) => !isDuplicateKey(w))) throw err;
    for (const w of errors) lost.add(w.index);
  }
  fresh.forEach((f, i) => {
    if (!lost.has(i)) personOf.set(f.key, f.doc);
  });
  if (lost.size) {
    const losers = fresh.filter((_, i) => lost.has(i)).map((f) => unknown.get(f.key)!);
    const winners = await models.people
      .find({ platformId: { $in: platforms }, ids: { $in: losers.map((e) => e.user.id) } })
      .lean<PersonDoc[]>();
    for (const p of winners) for (const id of p.ids) personOf.set(`${p.platformId}:${id}`, p);
  }
}

/** The event as rule paths see it: `type`, `course.id`, `user.id`, `data.…`. */
export function asRuleEvent(ev: LearningEventDoc): LearningEventLike {
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
