import express, { Router } from 'express';
import type { Context } from '../../../context.js';
import { receiveCredlyWebhook } from '../../../providers/webhooks.js';

/**
 * POST /api/v1/webhooks/credly/:platformId: Credly's event notifications. Nothing in the body is
 * trusted: the event is fetched from Credly with the platform's own token (src/providers/webhooks.ts).
 */
export function credlyWebhookRouter(ctx: Context): Router {
  const router = Router();
  router.post(
    '/webhooks/credly/:platformId',
    express.json({ limit: '16kb', strict: true }),
    async (req, res) => {
      res.json(await receiveCredlyWebhook(ctx, String(req.params.platformId), req.body));
    },
  );
  return router;
}
