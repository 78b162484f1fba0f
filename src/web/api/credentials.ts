import { Router } from 'express';
import { z } from 'zod';
import { awardByHand, listCredentials, toPublicCredential } from '../../awards/credentials.js';
import { getCredential, revokeCredential } from '../../awards/revoke.js';
import type { Context } from '../../context.js';
import { retryCredential } from '../../issuers/openbadges/issue.js';
import { parseOr400 } from '../validation.js';
import { ADMIN_ACTOR } from './auth.js';
import { afterCursor, objectIdParam, page, parseQuery } from './paging.js';

const reason = z.string().trim().min(1, 'must not be empty').max(1000, 'at most 1000 characters');

/** /api/v1/credentials: list, award by hand, revoke, retry a failed issuance. */
export function credentialsRouter(ctx: Context): Router {
  const router = Router();
  router.get('/credentials', async (req, res) => {
    const q = parseQuery(
      {
        templateId: objectIdParam.optional(),
        platformId: objectIdParam.optional(),
        userId: z.string().min(1).max(200).optional(),
      },
      req.query,
    );
    const docs = await listCredentials(ctx, { ...q, after: afterCursor(q.cursor) }, q.limit + 1);
    res.json(page(docs, q.limit, (c) => toPublicCredential(ctx, c)));
  });
  router.post('/credentials', async (req, res) => {
    const input = parseOr400(
      z.strictObject({ templateId: objectIdParam, userId: z.string().trim().min(1).max(200), reason }),
      req.body,
      'award',
    );
    res.status(201).json(toPublicCredential(ctx, await awardByHand(ctx, input, ADMIN_ACTOR)));
  });
  router.get('/credentials/:id', async (req, res) => {
    res.json(toPublicCredential(ctx, await getCredential(ctx, req.params.id)));
  });
  router.post('/credentials/:id/revoke', async (req, res) => {
    const input = parseOr400(z.strictObject({ reason }), req.body, 'revocation');
    res.json(toPublicCredential(ctx, await revokeCredential(ctx, req.params.id, input.reason, ADMIN_ACTOR)));
  });
  router.post('/credentials/:id/retry', async (req, res) => {
    // A failed issuance goes back to `awarded` and is issued again; 409 for any other status.
    const current = await getCredential(ctx, req.params.id);
    res.json(toPublicCredential(ctx, await retryCredential(ctx, current, ADMIN_ACTOR)));
  });
  return router;
}
