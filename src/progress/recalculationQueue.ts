import { randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { Recalculation, TemplateDoc } from '../db/models/template.js';
import { JOBS } from '../jobs/names.js';
import { wakeJob } from '../jobs/queue.js';
import { eventFilter, recalculateTemplate } from './recalculation.js';

/**
 * The recalculations' queue: a request waits on its template (`recalculation`), and the
 * recalculate-badges job claims it with a lease, runs it page by page with its progress written
 * back, and marks it done or failed. Requests are written without touching `updatedAt` or
 * `version`, so the processes' template caches stay valid.
 */

/** A run that stops renewing its lease this long is taken over by another worker. */
const LEASE_MS = 2 * 60_000;
const fresh = (now: Date): Recalculation => ({
  state: 'queued',
  requestedAt: now,
  claim: null,
  leaseUntil: null,
  startedAt: null,
  finishedAt: null,
  done: 0,
  total: 0,
  awarded: 0,
  error: null,
});

/**
 * Queues a recalculation of a badge (after activation or a change of its rules) and wakes the job.
 * A run under way is superseded: it stops at its next page and the new one starts from the top.
 * Written without touching `updatedAt`/`version`, so the process's template caches stay valid.
 */
export async function requestRecalculation(ctx: Context, templateId: Types.ObjectId): Promise<void> {
  await ctx.models.templates.collection.updateOne(
    { _id: templateId },
    { $set: { recalculation: fresh(ctx.now()) } },
  );
  await wakeJob(ctx.jobs, JOBS.recalculateBadges);
}

/**
 * The `recalculation` of a template write that also queues its recount (an activation, a change of an
 * active badge's rules): one write, so a process killed after it cannot leave the change without its
 * recount. Wake the job after it (wakeRecalculations).
 */
export const queuedRecalculation = (now: Date): Recalculation => fresh(now);

/** Wakes the recalculate-badges job for what was queued (its recurring run is the safety net). */
export async function wakeRecalculations(ctx: Context): Promise<void> {
  await wakeJob(ctx.jobs, JOBS.recalculateBadges);
}

/** Claims one queued recalculation of an active badge (or one whose run died), or null. */
async function claimOne(ctx: Context): Promise<{ template: TemplateDoc; claim: string } | null> {
  const now = ctx.now();
  const claim = randomUUID();
  const template = (await ctx.models.templates.collection.findOneAndUpdate(
    {
      state: 'active',
      $or: [
        { 'recalculation.state': 'queued' },
        { 'recalculation.state': 'running', 'recalculation.leaseUntil': { $lt: now } },
      ],
    },
    {
      $set: {
        'recalculation.state': 'running',
        'recalculation.claim': claim,
        'recalculation.leaseUntil': new Date(now.getTime() + LEASE_MS),
        'recalculation.startedAt': now,
        'recalculation.done': 0,
        'recalculation.awarded': 0,
      },
    },
    { returnDocument: 'after' },
  )) as unknown as TemplateDoc | null;
  return template ? { template, claim } : null;
}

/** The job: runs every queued recalculation, one after the other, until none is left. */
export async function runQueuedRecalculations(ctx: Context): Promise<number> {
  let runs = 0;
  for (let next = await claimOne(ctx); next; next = await claimOne(ctx)) {
    runs++;
    await runOne(ctx, next.template, next.claim);
  }
  return runs;
}

async function runOne(ctx: Context, template: TemplateDoc, claim: string): Promise<void> {
  const mine = { _id: template._id, 'recalculation.claim': claim, 'recalculation.state': 'running' };
  const set = (fields: Record<string, unknown>) =>
    ctx.models.templates.collection.updateOne(mine, {
      $set: Object.fromEntries(Object.entries(fields).map(([k, v]) => [`recalculation.${k}`, v])),
    });
  try {
    const total = (await ctx.models.events.distinct('personRef', eventFilter(template))).length;
    await set({ total });
    const summary = await recalculateTemplate(ctx, template, {
      dryRun: false,
      onPage: async (done, awarded) =>
        (await set({ done, awarded, leaseUntil: new Date(ctx.now().getTime() + LEASE_MS) })).matchedCount ===
        1,
    });
    await set({
      state: 'done',
      done: summary.learners,
      total: Math.max(total, summary.learners),
      awarded: summary.awarded,
      finishedAt: ctx.now(),
      leaseUntil: null,
    });
    if (summary.awarded)
      ctx.logger.info(
        { templateId: String(template._id), awarded: summary.awarded },
        'recalculation awarded',
      );
  } catch (err) {
    ctx.logger.warn({ err, templateId: String(template._id) }, 'recalculation failed');
    await set({
      state: 'failed',
      error: err instanceof Error ? err.message : String(err),
      finishedAt: ctx.now(),
      leaseUntil: null,
    });
  }
}
