import { Router } from 'express';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Context } from '../../context.js';
import type { AuditEntryDoc } from '../../db/models/auditEntry.js';
import { afterCursor, objectIdParam, parseQuery } from './paging.js';

const toPublicEntry = (e: AuditEntryDoc) => ({
  id: String(e._id),
  at: e.at,
  actor: e.actor,
  action: e.action,
  platformId: e.platformId ? String(e.platformId) : null,
  target: e.target,
  reason: e.reason,
  details: e.details,
});

/** GET /api/v1/audit: who did what, when and why, newest first. */
export function auditRouter(ctx: Context): Router {
  const router = Router();
  router.get('/audit', async (req, res) => {
    const q = parseQuery(
      {
        platformId: objectIdParam.optional(),
        action: z.string().max(100).optional(),
        targetId: z.string().max(100).optional(),
      },
      req.query,
    );
    const filter: Record<string, unknown> = {};
    if (q.platformId) filter.platformId = new Types.ObjectId(q.platformId);
    if (q.action) filter.action = q.action;
    if (q.targetId) filter['target.id'] = q.targetId;
    const after = afterCursor(q.cursor);
    if (after) filter._id = { $lt: after };
    const docs = await ctx.models.audit
      .find(filter)
      .sort({ _id: -1 })
      .limit(q.limit + 1)
      .lean<AuditEntryDoc[]>();
    const items = docs.slice(0, q.limit);
    res.json({
      items: items.map(toPublicEntry),
      next: docs.length > q.limit ? String(items[items.length - 1]!._id) : null,
    });
  });
  return router;
}
