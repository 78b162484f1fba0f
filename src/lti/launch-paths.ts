import { Router } from 'express';
import { Types } from 'mongoose';
import type { Collection } from 'mongodb';
import { perContext, type Context } from '../context.js';
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

/**
 * Counts not written yet, per Laurel: a launch adds to them, and they are written together at most
 * FLUSH_MS later (one round trip for many launches instead of one each). They are statistics: a
 * process that dies loses at most that moment's counts, and another process sees them that late.
 */
type Pending = { platformId: Types.ObjectId; path: LaunchPath; count: number; firstAt: Date; lastAt: Date };
const pendingOf = perContext(() => ({
  counts: new Map<string, Pending>(),
  timer: undefined as NodeJS.Timeout | undefined,
}));
export const LAUNCH_PATH_FLUSH_MS = 5000;

export async function recordLaunchPath(
  ctx: Context,
  platformId: Types.ObjectId,
  path: LaunchPath,
): Promise<void> {
  const pending = pendingOf(ctx);
  const now = ctx.now();
  const key = `${String(platformId)} ${path}`;
  const known = pending.counts.get(key);
  if (known) {
    known.count++;
    if (now > known.lastAt) known.lastAt = now;
  } else pending.counts.set(key, { platformId, path, count: 1, firstAt: now, lastAt: now });
  if (pending.timer) return;
  pending.timer = setTimeout(() => {
    pending.timer = undefined;
    flushLaunchPaths(ctx).catch((err: unknown) =>
      ctx.logger.warn({ err }, 'launch path counts could not be written; kept for the next try'),
    );
  }, LAUNCH_PATH_FLUSH_MS);
  // A timer must not keep a stopping process alive: Laurel's close writes what is left.
  pending.timer.unref();
}

/** Writes the counts not written yet (on a timer, before they are read, and when Laurel stops). */
export async function flushLaunchPaths(ctx: Context): Promise<void> {
  const pending = pendingOf(ctx);
  if (pending.timer) clearTimeout(pending.timer);
  pending.timer = undefined;
  const batch = [...pending.counts.values()];
  pending.counts.clear();
  if (batch.length === 0) return;
  const write = (p: Pending, upsert: boolean) => ({
    updateOne: {
      filter: { platformId: p.platformId, path: p.path },
      update: { $inc: { count: p.count }, $max: { lastAt: p.lastAt }, $setOnInsert: { firstAt: p.firstAt } },
      upsert,
    },
  });
  try {
    await counters(ctx).bulkWrite(
      batch.map((p) => write(p, true)),
      { ordered: false },
    );
  } catch (err) {
    // Two processes' first counts at once: one upsert wins the unique index, the other increments it.
    const failed = (err as { writeErrors?: { index: number; code?: number }[] }).writeErrors;
    if (failed?.length && failed.every((e) => e.code === 11000)) {
      await counters(ctx).bulkWrite(
        failed.map((e) => write(batch[e.index]!, false)),
        { ordered: false },
      );
      return;
    }
    // Not written: kept for the next launch's write (counted again on top of newer ones).
    for (const p of batch) {
      const key = `${String(p.platformId)} ${p.path}`;
      const known = pending.counts.get(key);
      if (!known) pending.counts.set(key, p);
      else {
        known.count += p.count;
        if (p.firstAt < known.firstAt) known.firstAt = p.firstAt;
      }
    }
    throw err;
  }
}

/** The counts of one platform's launches by path (zeros for paths never taken). */
export async function launchPathCounts(
  ctx: Context,
  platformId: string | Types.ObjectId,
): Promise<LaunchPathCounts> {
  const id = typeof platformId === 'string' ? new Types.ObjectId(platformId) : platformId;
  // This process's counts not written yet are part of the answer.
  await flushLaunchPaths(ctx);
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
