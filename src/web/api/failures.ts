import { Router } from 'express';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Context } from '../../context.js';
import { FAILURE_KINDS, listFailures, retryFailure } from '../../platforms/failures.js';
import { getPlatform } from '../../platforms/service.js';
import { parseOr400 } from '../validation.js';
import { ADMIN_ACTOR } from './auth.js';

const retryParams = z.strictObject({
  id: z.string(),
  kind: z.enum(FAILURE_KINDS, { error: `must be one of ${FAILURE_KINDS.join(', ')}` }),
  itemId: z.string().regex(/^[0-9a-f]{24}$/i, 'must be the id of a failed item'),
});

/**
 * /api/v1/platforms/:id/failures: what of a platform's work gave up (events, issuances, gradebook
 * readings), and retrying one — the same list and action as the LMS administrator's page.
 */
export function failuresRouter(ctx: Context): Router {
  const router = Router();
  const platformIdOf = async (id: string) => new Types.ObjectId(String((await getPlatform(ctx, id))._id));
  router.get('/platforms/:id/failures', async (req, res) => {
    const failures = await listFailures(ctx, await platformIdOf(String(req.params.id)));
    res.json({ items: failures, next: null });
  });
  router.post('/platforms/:id/failures/:kind/:itemId/retry', async (req, res) => {
    const params = parseOr400(retryParams, req.params, 'retry');
    const platformId = await platformIdOf(params.id);
    await retryFailure(ctx, platformId, params.kind, params.itemId, ADMIN_ACTOR);
    res.status(202).json({ kind: params.kind, id: params.itemId, retried: true });
  });
  return router;
}
