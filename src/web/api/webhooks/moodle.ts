import { Router } from 'express';
import { signedRawBody } from '../events.js';
import type { AnyBulkWriteOperation, Types } from 'mongoose';
import { parseLmsEndDate } from '../../../courses/endDate.js';
import { z } from 'zod';
import type { Context } from '../../../context.js';
import { identityPlatformIdOf, type PlatformDoc } from '../../../db/models/platform.js';
import {
  lmsActivityModel,
  type LmsActivityDoc,
  type LmsActivityModel,
} from '../../../db/models/lmsActivity.js';
import { HttpError } from '../../../errors.js';
import {
  checkSignatureHeader,
  ingestGenericEvents,
  MAX_BODY_BYTES,
  MAX_EVENTS_PER_REQUEST,
  SIGNATURE_NOT_VERIFIED,
  type IngestAnswer,
} from '../../../events/ingest.js';
import { verifySignature } from '../../../events/signature.js';
import { findPlatformByReference, webhookSecretsOf } from '../../../platforms/service.js';
import { formatIssues } from '../../../rules/index.js';
import { safeText } from '../../../validation/text.js';

/** At most this many courses, and activities per course, in one body. */
export const MAX_CATALOGUE_COURSES = 200;
export const MAX_CATALOGUE_ACTIVITIES = 5000;

const idText = (max: number) =>
  z.string({ error: 'must be a string' }).pipe(safeText(max).min(1, 'must not be empty'));
const finite = z.number({ error: 'must be a number' }).finite();

/** One course's activities as the Moodle plugin lists them (payload::catalogue() in the plugin). */
const catalogueEntrySchema = z.strictObject({
  course: z.strictObject({
    id: idText(200),
    title: safeText(500).optional(),
    /** The course's end date (Moodle's `enddate`), null when it has none; absent: not said. */
    endDate: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone' })
      .nullable()
      .optional(),
  }),
  /** True when `activities` is the whole course: the ones missing from it are marked deleted. */
  full: z.boolean().default(false),
  activities: z
    .array(
      z.strictObject({
        id: idText(200),
        name: z.string({ error: 'must be a string' }).pipe(safeText(500)),
        type: idText(100),
        gradeItemId: idText(200).optional(),
        maxScore: finite.optional(),
        minScore: finite.optional(),
        visible: z.boolean().optional(),
        deleted: z.boolean().optional(),
        /** The course module's tags (Moodle's tags), for counts of activities by tag. */
        tags: z
          .array(z.string({ error: 'must be a string' }).pipe(safeText(50).min(1, 'must not be empty')))
          .max(20, 'at most 20 tags')
          .optional(),
      }),
    )
    .max(MAX_CATALOGUE_ACTIVITIES, `at most ${MAX_CATALOGUE_ACTIVITIES} activities per course`),
});
const catalogueSchema = z
  .array(catalogueEntrySchema)
  .max(MAX_CATALOGUE_COURSES, `at most ${MAX_CATALOGUE_COURSES} courses per request`);

export type CatalogueEntry = z.infer<typeof catalogueEntrySchema>;
export type CatalogueAnswer = { courses: number; activities: number; removed: number };

export type MoodleWebhookAnswer = Partial<IngestAnswer> & {
  catalogue?: CatalogueAnswer;
  test?: { ok: true; platform: { id: string; name: string }; message: string };
};

/**
 * POST /api/v1/webhooks/moodle/:platformId: what the local_laurel plugin sends, signed like
 * POST /api/v1/events (`X-Laurel-Signature`) with the webhook secret of the platform in the URL.
 * The body is a JSON object with any of:
 * - `events`: learning events of the generic contract (or the body is one event), handed to the
 *   generic ingestion (same validation, same idempotency on the event id, same answer);
 * - `catalogue`: courses' activity lists `[{ course: { id, title? }, full, activities: [...] }]`,
 *   upserted into `lms_activities` (with `full`, the course's activities not listed are marked deleted);
 * - `test: true` alone: the plugin's "send a test event" button; answered once the signature holds,
 *   storing nothing.
 */
export function moodleWebhookRouter(ctx: Context): Router {
  const router = Router();
  router.post(
    '/webhooks/moodle/:platformId',
    // As for /events: a missing, malformed or stale header is refused before the body is read.
    ...signedRawBody(ctx),
    async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      res.json(
        await receiveMoodleMessage(ctx, String(req.params.platformId), raw, req.header('x-laurel-signature')),
      );
    },
  );
  return router;
}

/** Verifies, then stores what the body holds; see moodleWebhookRouter. */
export async function receiveMoodleMessage(
  ctx: Context,
  platformId: string,
  raw: Buffer,
  signature: string | undefined,
): Promise<MoodleWebhookAnswer> {
  const parsedSignature = checkSignatureHeader(signature, ctx.now().getTime());
  if (raw.length > MAX_BODY_BYTES) throw new HttpError(413, 'too_large', 'The body is over 1 MiB.');
  const platform = /^[0-9a-f]{24}$/i.test(platformId) ? await findPlatformByReference(ctx, platformId) : null;
  if (
    !platform ||
    !verifySignature(parsedSignature, raw, webhookSecretsOf(ctx, platform), ctx.now().getTime()).ok
  )
    throw new HttpError(401, 'unauthorised', SIGNATURE_NOT_VERIFIED);

  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'invalid_request', 'The body must be a JSON object.');
  const message = body as Record<string, unknown>;

  const hasEvents = 'events' in message || 'type' in message;
  const hasCatalogue = 'catalogue' in message;
  if (!hasEvents && !hasCatalogue) {
    if (message.test === true) {
      return {
        test: {
          ok: true,
          platform: { id: String(platform._id), name: platform.name },
          message: 'Laurel verified the signature of this test message; nothing was stored.',
        },
      };
    }
    throw new HttpError(400, 'invalid_request', 'The body holds no events, no catalogue and no test.');
  }

  let catalogue: CatalogueEntry[] = [];
  if (hasCatalogue) {
    const parsed = catalogueSchema.safeParse(message.catalogue);
    if (!parsed.success) {
      const details = formatIssues(parsed.error).map((d) => ({
        path: d.path ? `catalogue.${d.path}` : 'catalogue',
        message: d.message,
      }));
      throw new HttpError(
        400,
        'invalid_catalogue',
        `The catalogue is malformed: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
        details,
      );
    }
    catalogue = parsed.data;
  }
  if (hasEvents) {
    const items = Array.isArray(message.events) ? (message.events as unknown[]) : [message];
    const first = items.find((e) => typeof (e as { platform?: unknown } | null)?.platform === 'string') as
      { platform: string } | undefined;
    if (items.length > MAX_EVENTS_PER_REQUEST)
      throw new HttpError(
        413,
        'too_many_events',
        `At most ${MAX_EVENTS_PER_REQUEST} events per request; got ${items.length}.`,
      );
    // The generic ingestion finds the signer from the first event's `platform`: it must be this one.
    if (first && !namesPlatform(platform, first.platform))
      throw new HttpError(
        400,
        'invalid_events',
        'The events name a different platform than the one in the URL.',
        [{ path: 'events.0.platform', message: 'must be the platform id in the URL' }],
      );
  }

  const answer: MoodleWebhookAnswer = {};
  if (catalogue.length > 0 || hasCatalogue) answer.catalogue = await storeCatalogue(ctx, platform, catalogue);
  if (hasEvents) Object.assign(answer, await ingestGenericEvents(ctx, raw, signature));
  return answer;
}

const namesPlatform = (platform: PlatformDoc, ref: string) =>
  ref === String(platform._id) || ref === platform.issuer;

const indexed = new WeakSet<LmsActivityModel>();

/**
 * The activity model (registered in createModels; looked up on the connection, so this module needs
 * no more than it), its unique index built once per process and connection.
 */
async function activities(ctx: Context): Promise<LmsActivityModel> {
  const model = lmsActivityModel(ctx.models.platforms.db);
  if (!indexed.has(model)) {
    await model.createIndexes();
    indexed.add(model);
  }
  return model;
}

/** Upserts each course's activities; a full list marks the course's other activities deleted. */
export async function storeCatalogue(
  ctx: Context,
  platform: PlatformDoc,
  entries: CatalogueEntry[],
): Promise<CatalogueAnswer> {
  const model = await activities(ctx);
  // One Moodle registered twice (sameLmsAs): its courses' activities are the first registration's.
  const platformId = identityPlatformIdOf(platform);
  const now = ctx.now();
  const answer: CatalogueAnswer = { courses: 0, activities: 0, removed: 0 };
  for (const entry of entries) {
    const courseId = entry.course.id;
    const ops: AnyBulkWriteOperation<LmsActivityDoc>[] = entry.activities.map((a) => {
      const set: Record<string, unknown> = {
        name: a.name,
        kind: a.type,
        maxScore: a.maxScore ?? null,
        minScore: a.minScore ?? null,
        gradeItemId: a.gradeItemId ?? null,
        visible: a.visible ?? null,
        tags: a.tags ?? [],
        state: a.deleted ? 'deleted' : 'active',
        describedAt: now,
        source: 'moodle',
      };
      return {
        updateOne: {
          filter: { platformId, courseId, activityId: a.id },
          update: { $set: set },
          upsert: true,
        },
      };
    });
    if (ops.length > 0) await model.bulkWrite(ops, { ordered: true });
    if (entry.full) {
      const removed = await model.updateMany(
        {
          platformId,
          courseId,
          activityId: { $nin: entry.activities.map((a) => a.id) },
          state: { $ne: 'deleted' },
        },
        { $set: { state: 'deleted', describedAt: now } },
      );
      answer.removed += removed.modifiedCount;
    }
    if (entry.course.endDate !== undefined)
      await storeCourseEnd(ctx, platformId, courseId, entry.course.endDate);
    answer.courses++;
    answer.activities += entry.activities.length;
  }
  return answer;
}

/**
 * The end date the Moodle plugin sent for a course (null: it has none), on the course Laurel knows by
 * that id; a course Laurel has not seen yet gets it at its first launch or at the next list.
 */
async function storeCourseEnd(
  ctx: Context,
  platformId: Types.ObjectId,
  courseId: string,
  endDate: string | null,
): Promise<void> {
  const endsAt = endDate === null ? null : parseLmsEndDate(endDate);
  if (endsAt === undefined) return;
  await ctx.models.courses.updateOne({ platformId, ids: courseId }, { $set: { lmsEndsAt: endsAt } });
}

/** A course's activities as the LMS last listed them, by name (the badge builder's list). */
export async function listLmsActivities(
  ctx: Context,
  platformId: string,
  courseId: string,
  options: { includeDeleted?: boolean } = {},
): Promise<LmsActivityDoc[]> {
  const model = await activities(ctx);
  return model
    .find({ platformId, courseId, ...(options.includeDeleted ? {} : { state: { $ne: 'deleted' } }) })
    .sort({ name: 1, activityId: 1 })
    .lean<LmsActivityDoc[]>();
}
