import { Router } from 'express';
import { Types } from 'mongoose';
import type { Collection } from 'mongodb';
import type { Context } from '../context.js';
import { notFound } from '../errors.js';
import { LAUNCH_PATHS, type LaunchPath } from './login-states.js';

/**
 * How many launches of each platform took each path (see LaunchPath), so an administrator can see
 * how many needed a fallback because the browser kept Laurel's cookies out of the LMS's page.
 * One document per (platform, path), incremented atomically.
 */
export const COLLECTION = 'lti_launch_paths';

type CounterDoc = {
  platformId: Types.ObjectId;
  path: LaunchPath;
  count: number;
  firstAt: Date;
  lastAt: Date;
};

export type LaunchPathCounts = {
  platformId: string;
  total: number;
  /** Launches that could not use Laurel's cookie inside the LMS page. */
  fallbacks: number;
  paths: Record<LaunchPath, { count: number; lastAt: string | null }>;
};

const counters = (ctx: Context): Collection<CounterDoc> => {
  const db = ctx.models.platforms.db.db;
  if (!db) throw new Error('launch path counters need an open database connection');
  return db.collection<CounterDoc>(COLLECTION);
};

export async function setupLaunchPathCounters(ctx: Context): Promise<void> {
  await counters(ctx).createIndex({ platformId: 1, path: 1 }, { unique: true });
}

export async function recordLaunchPath(
  ctx: Context,
  platformId: Types.ObjectId,
  path: LaunchPath,
): Promise<void> {
  const now = ctx.now();
  const filter = { platformId, path };
  const update = { $inc: { count: 1 }, $set: { lastAt: now }, $setOnInsert: { firstAt: now } };
  try {
    await counters(ctx).updateOne(filter, update, { upsert: true });
  } catch (err) {
    // Two first launches at once: one upsert wins the unique index, the other increments it.
    if ((err as { code?: number }).code !== 11000) throw err;
    await counters(ctx).updateOne(filter, update);
  }
}

/** The counts of one platform's launches by path (zeros for paths never taken). */
export async function launchPathCounts(
  ctx: Context,
  platformId: string | Types.ObjectId,
): Promise<LaunchPathCounts> {
  const id = typeof platformId === 'string' ? new Types.ObjectId(platformId) : platformId;
  const docs = await counters(ctx).find({ platformId: id }).toArray();
  const paths = Object.fromEntries(LAUNCH_PATHS.map((p) => [p, { count: 0, lastAt: null }])) as Record<
    LaunchPath,
    { count: number; lastAt: string | null }
  >;
  for (const doc of docs)
    if (LAUNCH_PATHS.includes(doc.path))
      paths[doc.path] = { count: doc.count, lastAt: doc.lastAt ? doc.lastAt.toISOString() : null };
  const total = LAUNCH_PATHS.reduce((sum, p) => sum + paths[p].count, 0);
  return { platformId: String(id), total, fallbacks: total - paths.cookie.count, paths };
}

/** GET /platforms/:id/launch-stats of the admin API (mounted behind its key check). */
export function launchStatsRouter(ctx: Context): Router {
  const router = Router();
  router.get('/platforms/:id/launch-stats', async (req, res) => {
    const id = String(req.params.id);
    if (!/^[0-9a-f]{24}$/.test(id) || !(await ctx.models.platforms.exists({ _id: id })))
      throw notFound(`Platform ${id}`);
    res.json(await launchPathCounts(ctx, id));
  });
  return router;
}
