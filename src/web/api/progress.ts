import { Router } from 'express';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Context } from '../../context.js';
import { HttpError } from '../../errors.js';
import { listProgress } from '../../progress/query.js';
import { afterCursor, objectIdParam, parseQuery } from './paging.js';

/** /api/v1/progress: how far learners are on a template. */
export function progressRouter(ctx: Context): Router {
  const router = Router();
  router.get('/progress', async (req, res) => {
    const q = parseQuery(
      {
        templateId: objectIdParam.optional(),
        userId: z.string().min(1).max(200).optional(),
        platformId: objectIdParam.optional(),
      },
      req.query,
    );
    if (!q.templateId && !q.userId)
      throw new HttpError(400, 'invalid_request', 'Give templateId, userId or both.', [
        { path: 'templateId', message: 'templateId or userId is required' },
      ]);
    const items = await listProgress(
      ctx,
      {
        templateId: q.templateId,
        userId: q.userId,
        platformId: q.platformId ? new Types.ObjectId(q.platformId) : undefined,
        after: afterCursor(q.cursor),
      },
      q.limit + 1,
    );
    const pageItems = items.slice(0, q.limit);
    res.json({ items: pageItems, next: items.length > q.limit ? pageItems[pageItems.length - 1]!.id : null });
  });
  return router;
}
