import { createHash } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { AgsCourseDoc } from '../../db/models/agsPoll.js';
import { identityPlatformIdOf, isActivePlatform, type PlatformDoc } from '../../db/models/platform.js';
import { normaliseEvent, type NormalisedEvent } from '../../events/normalise.js';
import { queueEventProcessing, storeEvents } from '../../events/store.js';
import { LtiDatabase } from '../../lti/database.js';
import { lmsOutboundPolicy } from '../../lti/registration.js';
import { fetchLineItems, fetchResults, type AgsLineItem, type AgsResultRow } from './client.js';
import { AGS_SCOPES, serviceToken } from './token.js';

/**
 * AGS results → learning events. A tool sees only its own line items (on Canvas and Moodle alike):
 * the gradebook columns of Laurel's deep-linked activities. Each run of the `poll-ags-results` job
 * 1. learns the courses that have an AGS endpoint from the launches ltijs recorded (its context
 *    tokens keep each launch's AGS claim for a day; the course is kept here for good),
 * 2. per course (not before its backoff ends), lists the line items and reads every result, and
 * 3. stores each new or changed score as an `activity.grade.updated` event, with an id made of the
 *    platform, line item, learner, the number of changes seen and the score itself: a run repeated
 *    after a crash stores nothing twice, and a score that changes back makes an event again.
 * A failing course waits (1, 2, 4, … minutes up to 6 hours) and the others go on.
 */

/** Page size asked of the LMS (AGS `limit`); the rest follows `Link: rel="next"`. */
export const AGS_PAGE_SIZE = 100;
const BACKOFF_BASE_MS = 60_000;
const BACKOFF_MAX_MS = 6 * 3600_000;

export type AgsPollResult = {
  courses: number;
  polled: number;
  failed: number;
  lineItems: number;
  results: number;
  stored: number;
};

/** `data.activityId` of a line item: the id the badge builder offers for it (src/web/course/gradebook.ts). */
export const activityIdOf = (item: Pick<AgsLineItem, 'id' | 'resourceId' | 'tag'>): string =>
  String(item.resourceId || item.tag || item.id);

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Reads every known course's AGS results and stores what changed. */
export async function pollAgsResults(ctx: Context): Promise<AgsPollResult> {
  await discoverAgsCourses(ctx);
  const now = ctx.now();
  const courses = await ctx.models.agsCourses
    .find({ $or: [{ retryAt: null }, { retryAt: { $lte: now } }] })
    .lean<AgsCourseDoc[]>();
  const total: AgsPollResult = {
    courses: courses.length,
    polled: 0,
    failed: 0,
    lineItems: 0,
    results: 0,
    stored: 0,
  };
  const platforms = new Map<string, PlatformDoc | null>();
  for (const course of courses) {
    const key = String(course.platformId);
    if (!platforms.has(key))
      platforms.set(key, await ctx.models.platforms.findById(course.platformId).lean<PlatformDoc>());
    const platform = platforms.get(key);
    if (!platform || !isActivePlatform(platform)) continue;
    try {
      // Counted as stored, even when a later line item of the course fails.
      const one = await pollCourse(ctx, platform, course, (n) => (total.stored += n));
      total.polled++;
      total.lineItems += one.lineItems;
      total.results += one.results;
      await ctx.models.agsCourses.updateOne(
        { _id: course._id },
        { $set: { lastPolledAt: ctx.now(), lastError: null, failures: 0, retryAt: null } },
      );
    } catch (err) {
      total.failed++;
      const failures = (course.failures ?? 0) + 1;
      const wait = Math.min(BACKOFF_BASE_MS * 2 ** (failures - 1), BACKOFF_MAX_MS);
      const message = (err as Error).message?.slice(0, 500) ?? String(err);
      ctx.logger.warn(
        { platformId: key, lineItemsUrl: course.lineItemsUrl, failures, err: message },
        'AGS results could not be read; retried later',
      );
      await ctx.models.agsCourses.updateOne(
        { _id: course._id },
        {
          $set: {
            lastPolledAt: ctx.now(),
            lastError: message,
            failures,
            retryAt: new Date(ctx.now().getTime() + wait),
          },
        },
      );
    }
  }
  if (total.stored > 0) await queueEventProcessing(ctx);
  return total;
}

/** One course: its line items, their results, and the events of what changed. */
async function pollCourse(
  ctx: Context,
  platform: PlatformDoc,
  course: AgsCourseDoc,
  onStored: (n: number) => void,
): Promise<{ lineItems: number; results: number }> {
  const policy = lmsOutboundPolicy(ctx.config);
  const tokens = new Map<string, Promise<string>>();
  const tokenFor = (scope: string) => () => {
    let t = tokens.get(scope);
    if (!t) {
      t = serviceToken(ctx, platform, scope);
      // A refused token is asked again on the next call, not kept.
      t.catch(() => tokens.delete(scope));
      tokens.set(scope, t);
    }
    return t;
  };
  // Moodle answers a results request with `limit` by a fatal error (its results resource builds no
  // last-page link for LTI 1.3 calls: "Call to a member function out() on null", an HTML 404, seen on
  // 5.1.3), and it answers every list whole without one: Moodle is asked for no pages.
  const limit = platform.lms === 'moodle' ? undefined : AGS_PAGE_SIZE;
  const items = await fetchLineItems(policy, course.lineItemsUrl, tokenFor(AGS_SCOPES.lineItemReadonly), {
    ...(limit ? { limit } : {}),
  });
  let results = 0;
  for (const item of items) {
    const rows = await fetchResults(policy, item.id, tokenFor(AGS_SCOPES.resultReadonly), {
      ...(limit ? { limit } : {}),
    });
    results += rows.length;
    onStored(await storeChanged(ctx, platform, course, item, rows));
  }
  return { lineItems: items.length, results };
}

/** Stores the events of the results whose mark differs from the last one seen, then remembers them. */
async function storeChanged(
  ctx: Context,
  platform: PlatformDoc,
  course: AgsCourseDoc,
  item: AgsLineItem,
  rows: AgsResultRow[],
): Promise<number> {
  const graded = rows.filter((r) => r.resultScore !== null);
  if (graded.length === 0) return 0;
  const seen = new Map(
    (
      await ctx.models.agsResultsSeen
        .find({ platformId: platform._id, lineItemId: item.id, userId: { $in: graded.map((r) => r.userId) } })
        .lean()
    ).map((s) => [s.userId, s]),
  );
  const now = ctx.now();
  const fresh: { row: AgsResultRow; mark: string; seq: number; event: NormalisedEvent }[] = [];
  for (const row of graded) {
    const maxScore = row.resultMaximum ?? item.scoreMaximum;
    const mark = JSON.stringify([row.resultScore, maxScore, row.timestamp]);
    const before = seen.get(row.userId);
    if (before?.mark === mark) continue;
    const seq = (before?.seq ?? 0) + 1;
    const id = `ags-${sha([String(platform._id), item.id, row.userId, String(seq), mark].join('\n')).slice(0, 40)}`;
    const at = row.timestamp ? new Date(row.timestamp) : null;
    const input = {
      id,
      type: 'activity.grade.updated',
      occurredAt: (at && !Number.isNaN(at.getTime()) && at.getTime() <= now.getTime()
        ? at
        : now
      ).toISOString(),
      // One LMS registered twice keeps one set of courses and people: its events go there too.
      platform: String(identityPlatformIdOf(platform)),
      course: { id: course.contextId, ...(course.contextTitle ? { title: course.contextTitle } : {}) },
      user: { id: row.userId },
      data: {
        activityId: activityIdOf(item),
        ...(item.label ? { activityName: item.label.slice(0, 500) } : {}),
        score: row.resultScore,
        ...(maxScore !== null ? { maxScore } : {}),
        lineItemId: item.id,
        ...(item.resourceLinkId ? { resourceLinkId: item.resourceLinkId } : {}),
        source: 'ags',
      },
    };
    const result = normaliseEvent(input, now);
    if (!result.ok) {
      ctx.logger.warn({ lineItemId: item.id, userId: row.userId, err: result.error }, 'AGS result skipped');
      continue;
    }
    fresh.push({ row, mark, seq, event: result.event });
  }
  if (fresh.length === 0) return 0;
  // Stored first, remembered after: a crash in between repeats the same ids, stored once.
  const { stored } = await storeEvents(
    ctx,
    { _id: identityPlatformIdOf(platform) },
    fresh.map((f) => f.event),
    'ags',
  );
  await ctx.models.agsResultsSeen.bulkWrite(
    fresh.map((f) => ({
      updateOne: {
        filter: { platformId: platform._id, lineItemId: item.id, userId: f.row.userId },
        update: { $set: { mark: f.mark, seq: f.seq, eventId: f.event.id, seenAt: now } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
  return stored;
}

type ContextTokenRow = {
  contextId?: unknown;
  user?: unknown;
  context?: { id?: unknown; title?: unknown } | null;
  endpoint?: { lineitems?: unknown } | null;
};

/**
 * The courses with an AGS endpoint, from ltijs's record of each launch (`contexttoken`, kept a day;
 * its `contextId` starts with the issuer, client id and deployment id, URI-encoded). Each becomes
 * an `agsCourses` document of the platform it launched through, which stays after ltijs forgets.
 */
export async function discoverAgsCourses(ctx: Context): Promise<number> {
  const db = new LtiDatabase(ctx.models.platforms.db);
  const rows = (await db
    .collection('contexttoken')
    .find(
      { 'endpoint.lineitems': { $exists: true } },
      { projection: { _id: 0, contextId: 1, user: 1, context: 1, endpoint: 1 } },
    )
    .toArray()) as ContextTokenRow[];
  if (rows.length === 0) return 0;
  const platforms = await ctx.models.platforms
    .find({}, { issuer: 1, clientId: 1, deploymentIds: 1 })
    .lean<Pick<PlatformDoc, '_id' | 'issuer' | 'clientId' | 'deploymentIds'>[]>();
  const known = new Map<string, { platformId: Types.ObjectId; contextId: string; title: string | null }>();
  for (const row of rows) {
    const lineItemsUrl = typeof row.endpoint?.lineitems === 'string' ? row.endpoint.lineitems : null;
    const ltijsContextId = typeof row.contextId === 'string' ? row.contextId : null;
    const contextId = typeof row.context?.id === 'string' && row.context.id !== '' ? row.context.id : null;
    if (!lineItemsUrl || !ltijsContextId || !contextId) continue;
    const candidates = platforms.filter((p) =>
      ltijsContextId.startsWith(encodeURIComponent(p.issuer + p.clientId)),
    );
    // Two client ids of one issuer where one is the other's prefix: the deployment and context decide.
    const platform =
      candidates.length === 1
        ? candidates[0]
        : candidates.find((p) =>
            p.deploymentIds.some((d) =>
              ltijsContextId.startsWith(encodeURIComponent(`${p.issuer}${p.clientId}${d}${contextId}_`)),
            ),
          );
    if (!platform) continue;
    known.set(`${String(platform._id)} ${lineItemsUrl}`, {
      platformId: platform._id,
      contextId,
      title: typeof row.context?.title === 'string' ? row.context.title.slice(0, 500) : null,
    });
  }
  if (known.size === 0) return 0;
  await ctx.models.agsCourses.bulkWrite(
    [...known].map(([key, v]) => ({
      updateOne: {
        filter: { platformId: v.platformId, lineItemsUrl: key.slice(key.indexOf(' ') + 1) },
        update: { $set: { contextId: v.contextId, contextTitle: v.title } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
  return known.size;
}
