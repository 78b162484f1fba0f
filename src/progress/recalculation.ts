import { Types } from 'mongoose';
import { SYSTEM } from '../audit/record.js';
import { awardMany, type AwardRequest } from '../awards/award.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { LearningEventDoc } from '../db/models/learningEvent.js';
import type { PersonDoc } from '../db/models/person.js';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import { asRuleEvent, stateKey, writeStates, type States } from './processBatch.js';
import { evaluateLearner, standingOf, type StoredEvent, type Standing } from './recalculate.js';
import { levelOf, levelRank, type HistoryEnvironment } from '../rules/index.js';
import { progressState } from './state.js';
import { activityEnvironment, courseEndEnvironment, needsHistory, usesCourseEnd } from './historyReplay.js';

/**
 * Recalculation, the I/O part: a badge's learners found by course in pages of their stored events
 * sorted by learner, each page's learners evaluated in memory (recalculate.ts) with a fixed number
 * of round trips (their credentials and the badges they hold, their progress, their events read after
 * it, one bulk write, the awards), so a large course costs a few round trips per page, not per
 * learner. Awards go through awardMany, exactly once by the credentials' unique index, whether a run
 * is repeated or races the live pipeline.
 */

/** Events read per page: some 250 learners of 20 events, in a fixed number of round trips. */
export const RECALC_PAGE = 5000;
const MAX_CONFLICT_ROUNDS = 5;

export type LearnerStanding = { personId: string; name: string; percent: number; standing: Standing };

export type RecalcSummary = {
  learners: number;
  awarded: number;
  /** Dry run only: who would earn it now, who is close, who has met it but may not earn it again. */
  wouldEarn: LearnerStanding[];
  close: LearnerStanding[];
  blocked: LearnerStanding[];
};

type Options = {
  dryRun: boolean;
  pageSize?: number;
  /** After each page: learners done so far; answers false to stop (the run was superseded). */
  onPage?: (done: number, awarded: number) => Promise<boolean>;
};

/**
 * The stored events that can move this badge: its event types in its course, and required badges'
 * awards. With one of the two (the usual case), written without `$or`, so that a server sees
 * equality on platform and course and can read a range of learners from the index (platformId,
 * courseRef, personRef, _id) in order.
 */
export function eventFilter(template: TemplateDoc): Record<string, unknown> {
  const types = template.eventTypes.filter((t) => t !== 'badge.awarded');
  const or: Record<string, unknown>[] = [];
  if (types.length)
    or.push({ type: { $in: types }, ...(template.courseRef ? { courseRef: template.courseRef } : {}) });
  if (template.requiresTemplates.length)
    or.push({ type: 'badge.awarded', 'data.templateId': { $in: template.requiresTemplates } });
  if (or.length === 0) return { _id: null };
  if (or.length === 1) return { platformId: template.platformId, personRef: { $ne: null }, ...or[0] };
  return { platformId: template.platformId, personRef: { $ne: null }, $or: or };
}

/** The badge's stored events of these learners (one read, the learner given at the top level). */
const eventsOfLearners = (template: TemplateDoc, personIds: Types.ObjectId[]) => ({
  ...eventFilter(template),
  personRef: { $in: personIds },
});

type Learner = { personId: Types.ObjectId; events: LearningEventDoc[] };

/**
 * Evaluates (or, dry, only assesses) every learner with a stored event of the badge's scope. Pages
 * hold whole learners: a page ends before its last learner, whose events may go on past it, and the
 * next page starts with that learner (a range on `personRef`, so each page is one index range). A
 * real run reads only the learners' ids here and their events after their progress (evaluatePage);
 * a dry run keeps the events it read.
 */
export async function recalculateTemplate(
  ctx: Context,
  template: TemplateDoc,
  options: Options,
): Promise<RecalcSummary> {
  const pageSize = options.pageSize ?? RECALC_PAGE;
  const base = eventFilter(template);
  const summary: RecalcSummary = { learners: 0, awarded: 0, wouldEarn: [], close: [], blocked: [] };
  const standings: { personId: Types.ObjectId; percent: number; standing: Standing }[] = [];
  const projection = options.dryRun ? {} : { personRef: 1 };
  let after: Types.ObjectId | null = null;
  for (;;) {
    const docs: LearningEventDoc[] = await ctx.models.events
      .find({ ...base, personRef: after ? { $gt: after } : { $ne: null } }, projection)
      .sort({ personRef: 1, _id: 1 })
      .limit(pageSize)
      // The whole page in the first answer: no getMore (a server still cuts an answer at 16 MB).
      .batchSize(pageSize)
      .lean<LearningEventDoc[]>();
    if (docs.length === 0) break;
    let learners = byLearner(docs);
    const full = docs.length === pageSize;
    if (full && learners.length > 1) learners.pop();
    else if (full) {
      // One learner with more events than a page: all of theirs at once.
      const only = learners[0]!.personId;
      learners = [
        {
          personId: only,
          events: options.dryRun
            ? await ctx.models.events
                .find(eventsOfLearners(template, [only]))
                .sort({ _id: 1 })
                .lean<LearningEventDoc[]>()
            : [],
        },
      ];
    }
    const page = await evaluatePage(ctx, template, learners, options.dryRun);
    summary.learners += learners.length;
    summary.awarded += page.awarded;
    standings.push(...page.standings);
    if (options.onPage && !(await options.onPage(summary.learners, summary.awarded))) return summary;
    if (!full) break;
    after = learners.at(-1)!.personId;
  }
  if (options.dryRun) await nameStandings(ctx, standings, summary);
  return summary;
}

/** Events sorted by learner, grouped by learner (in the same order). */
function byLearner(docs: readonly LearningEventDoc[]): Learner[] {
  const learners: Learner[] = [];
  for (const doc of docs) {
    const last = learners.at(-1);
    if (last && last.personId.equals(doc.personRef!)) last.events.push(doc);
    else learners.push({ personId: doc.personRef!, events: [doc] });
  }
  return learners;
}

/** One page of learners: a fixed number of round trips, whatever its size. */
async function evaluatePage(
  ctx: Context,
  template: TemplateDoc,
  learners: Learner[],
  dryRun: boolean,
): Promise<{
  awarded: number;
  standings: { personId: Types.ObjectId; percent: number; standing: Standing }[];
}> {
  const personIds = learners.map((l) => l.personId);
  const [credentials, held] = await Promise.all([
    ctx.models.credentials
      .find(
        { templateId: template._id, personId: { $in: personIds } },
        { personId: 1, liveSlot: 1, status: 1, revokedAt: 1, expiredAt: 1, revokedFor: 1, level: 1 },
      )
      .batchSize(100_000)
      .lean<CredentialDoc[]>(),
    heldBadges(ctx, template, personIds),
  ]);
  const live = new Set<string>();
  const liveLevel = new Map<string, string | null>();
  const revoked = new Set<string>();
  const since = new Map<string, Date>();
  for (const c of credentials) {
    const key = String(c.personId);
    if (c.liveSlot === 'live') {
      live.add(key);
      liveLevel.set(key, c.level ?? null);
    }
    // A revocation after a regrade kept the learner's progress, and does not stop a re-award.
    if (c.revokedFor === 'regrade') continue;
    if (c.status === 'revoked') revoked.add(key);
    const ended = c.status === 'revoked' ? c.revokedAt : c.status === 'expired' ? c.expiredAt : null;
    if (ended && (!since.has(key) || since.get(key)! < ended)) since.set(key, ended);
  }
  // Counts of activities by name or kind: the names and kinds the LMS's feeds gave (one read).
  // and the end dates of the courses, for "before the course ends" (one read).
  const environment = async (events: LearningEventDoc[]): Promise<HistoryEnvironment> => {
    if (!needsHistory(template)) return {};
    const [activityEnv, endEnv] = await Promise.all([
      activityEnvironment(ctx, [template.platformId], events),
      usesCourseEnd(template) ? courseEndEnvironment(ctx, [template.platformId], events) : {},
    ]);
    return { ...activityEnv, ...endEnv };
  };
  const evaluate = (l: Learner, env: HistoryEnvironment) =>
    evaluateLearner(
      template,
      l.events.map(storedOf),
      held.get(String(l.personId)) ?? new Set(),
      since.get(String(l.personId)) ?? null,
      env,
    );

  if (dryRun) {
    const env = await environment(learners.flatMap((l) => l.events));
    return {
      awarded: 0,
      standings: learners.map((l) => {
        const result = evaluate(l, env);
        const key = String(l.personId);
        return {
          personId: l.personId,
          percent: Math.round(result.fraction * 100),
          standing: standingOf(
            result,
            live.has(key) && !higherLevel(template, result.level, liveLevel.get(key) ?? null),
            !revoked.has(key) || template.allowReEarn,
          ),
        };
      }),
    };
  }

  // The events read last of each learner, for the awards' user and course.
  const latest = new Map<string, LearningEventDoc>();
  let pending = learners;
  for (let round = 0; pending.length && round < MAX_CONFLICT_ROUNDS; round++) {
    // Progress first, then the events: an event the live pipeline applied before this read was
    // stored before it, so it is among the events read next; one applied after it changes `rev`,
    // and the write below loses and starts that learner again. (Read the other way round, a live
    // event stored between the two reads would be dropped from the learner's progress.)
    const docs = await ctx.models.progress
      .find({ templateId: template._id, personId: { $in: pending.map((l) => l.personId) } })
      // All in the first answer, as every read of a page here.
      .batchSize(100_000)
      .lean<ProgressDoc[]>();
    pending = await rereadEvents(ctx, template, pending);
    const env = await environment(pending.flatMap((l) => l.events));
    const docOf = new Map(docs.map((d) => [String(d.personId), d]));
    const states: States = new Map();
    for (const l of pending) {
      const last = l.events.at(-1);
      if (last) latest.set(String(l.personId), last);
      const result = evaluate(l, env);
      const state = progressState(docOf.get(String(l.personId)) ?? null, {
        templateId: template._id,
        personId: l.personId,
        platformId: template.platformId,
        courseRef: template.courseRef ?? l.events[0]?.courseRef ?? null,
      });
      state.replace(template, result.fulfilled, result.fulfilments, ctx.now(), {
        measure: result.measure,
        counted: result.counted,
      });
      states.set(stateKey(template._id, l.personId), state);
    }
    const lost = new Set(await writeStates(ctx, states));
    pending = pending.filter((l) => lost.has(String(l.personId)));
  }
  if (pending.length)
    throw new Error(
      `progress of ${pending.length} learner(s) on ${template._id} kept changing under the recalculation`,
    );

  // Award whoever is complete now and holds no live credential (awardMany refuses a repeat).
  const complete = await ctx.models.progress
    .find(
      { templateId: template._id, personId: { $in: personIds }, completedAt: { $ne: null } },
      { personId: 1, fulfilments: 1, measure: 1 },
    )
    .batchSize(100_000)
    .lean<ProgressDoc[]>();
  // A grade that came back cancels a revocation waiting on a regrade (a recount never starts one).
  if (complete.length && template.regrade?.policy === 'revoke')
    await ctx.models.credentials.updateMany(
      {
        templateId: template._id,
        personId: { $in: complete.map((p) => p.personId) },
        liveSlot: 'live',
        regradeRevokeAt: { $ne: null },
      },
      { $set: { regradeRevokeAt: null, regradeReason: null } },
    );
  const requests: AwardRequest[] = complete
    // A learner whose events are all gone since the page was read has nothing to award on.
    .filter((p) => latest.has(String(p.personId)))
    .filter(
      (p) =>
        !live.has(String(p.personId)) ||
        higherLevel(
          template,
          levelOf(template, p.measure)?.id ?? null,
          liveLevel.get(String(p.personId)) ?? null,
        ),
    )
    .map((p) => {
      const last = latest.get(String(p.personId))!;
      return {
        template,
        personId: p.personId,
        userId: last.user.id,
        courseRef: template.courseRef ?? last.courseRef,
        courseId: template.courseId ?? last.course?.id ?? null,
        evidence: p.fulfilments.map((f) => ({
          requirementId: f.requirementId,
          eventId: f.eventId,
          at: f.at,
        })),
        actor: SYSTEM,
        level: levelOf(template, p.measure)?.id ?? null,
      };
    });
  const outcomes = await awardMany(ctx, requests);
  return { awarded: outcomes.filter((o) => o.awarded).length, standings: [] };
}

/** A badge with levels: whether `reached` is a higher step than the credential's `held`. */
function higherLevel(template: TemplateDoc, reached: string | null, held: string | null): boolean {
  if (!template.levels || !reached) return false;
  return levelRank(template.levels, reached) > levelRank(template.levels, held);
}

/** The learners' events as stored now (after their progress was read), in one read. */
async function rereadEvents(ctx: Context, template: TemplateDoc, learners: Learner[]): Promise<Learner[]> {
  const docs = await ctx.models.events
    .find(
      eventsOfLearners(
        template,
        learners.map((l) => l.personId),
      ),
    )
    .sort({ personRef: 1, _id: 1 })
    // All in the first answer (a server still cuts it at 16 MB): no getMore for a page's events.
    .batchSize(100_000)
    .lean<LearningEventDoc[]>();
  const of = new Map<string, LearningEventDoc[]>();
  for (const d of docs) {
    const key = String(d.personRef);
    const list = of.get(key);
    if (list) list.push(d);
    else of.set(key, [d]);
  }
  return learners.map((l) => ({ personId: l.personId, events: of.get(String(l.personId)) ?? [] }));
}

/** Per learner: the required badges (template ids) they hold a live credential of, anywhere on the platform. */
async function heldBadges(
  ctx: Context,
  template: TemplateDoc,
  personIds: Types.ObjectId[],
): Promise<Map<string, Set<string>>> {
  const held = new Map<string, Set<string>>();
  const required = template.requiresTemplates.filter(Types.ObjectId.isValid);
  if (required.length === 0) return held;
  const live = await ctx.models.credentials
    .find(
      {
        platformId: template.platformId,
        personId: { $in: personIds },
        templateId: { $in: required.map((id) => new Types.ObjectId(id)) },
        liveSlot: 'live',
      },
      { templateId: 1, personId: 1 },
    )
    .batchSize(100_000)
    .lean<CredentialDoc[]>();
  for (const c of live) {
    const set = held.get(String(c.personId)) ?? new Set<string>();
    set.add(String(c.templateId));
    held.set(String(c.personId), set);
  }
  return held;
}

const storedOf = (e: LearningEventDoc): StoredEvent => ({
  event: asRuleEvent(e),
  eventId: e.eventId,
  occurredAt: e.occurredAt,
  receivedAt: e.receivedAt,
});

/** A dry run's lists, with names, in one read of the people they name (each list cut at 500). */
async function nameStandings(
  ctx: Context,
  standings: { personId: Types.ObjectId; percent: number; standing: Standing }[],
  summary: RecalcSummary,
) {
  const listed = standings
    .filter((s) => s.standing === 'would-earn' || s.standing === 'close' || s.standing === 'blocked')
    .sort((a, b) => b.percent - a.percent);
  const cut = [
    ...listed.filter((s) => s.standing === 'would-earn').slice(0, 500),
    ...listed.filter((s) => s.standing === 'close').slice(0, 500),
    ...listed.filter((s) => s.standing === 'blocked').slice(0, 500),
  ];
  const people = new Map(
    (
      await ctx.models.people
        .find({ _id: { $in: cut.map((s) => s.personId) } }, { name: 1, email: 1, ids: 1 })
        .lean<PersonDoc[]>()
    ).map((p) => [String(p._id), p]),
  );
  for (const s of cut) {
    const p = people.get(String(s.personId));
    const row: LearnerStanding = {
      personId: String(s.personId),
      name: p?.name?.trim() || p?.email || p?.ids[0] || 'A learner',
      percent: s.percent,
      standing: s.standing,
    };
    if (s.standing === 'would-earn') summary.wouldEarn.push(row);
    else if (s.standing === 'close') summary.close.push(row);
    else summary.blocked.push(row);
  }
  for (const list of [summary.wouldEarn, summary.close, summary.blocked])
    list.sort((a, b) => b.percent - a.percent || a.name.localeCompare(b.name));
}
