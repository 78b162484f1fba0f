import { Router } from 'express';
import type { Context } from '../../context.js';
import {
  deletePlatform,
  getPlatform,
  listPlatforms,
  registerPlatform,
  rotateWebhookSecret,
  toPublicPlatform,
  type PlatformHooks,
} from '../../platforms/service.js';
import { platformInputSchema } from '../../platforms/schema.js';
import { parseOr400 } from '../validation.js';
import { ADMIN_ACTOR } from './auth.js';

/** /api/v1/platforms: the LMS admin registers an LMS; the webhook secret is shown once. */
export function platformsRouter(ctx: Context, hooks: PlatformHooks): Router {
  const router = Router();
  router.post('/platforms', async (req, res) => {
    const input = parseOr400(platformInputSchema, req.body, 'platform');
    const { platform, webhookSecret } = await registerPlatform(ctx, input, {
      actor: ADMIN_ACTOR,
      via: 'api',
      hooks,
    });
    res.status(201).json({ ...toPublicPlatform(platform), webhookSecret });
  });
  router.get('/platforms', async (_req, res) => {
    res.json({ items: (await listPlatforms(ctx)).map(toPublicPlatform), next: null });
  });
  router.get('/platforms/:id', async (req, res) => {
    res.json(toPublicPlatform(await getPlatform(ctx, req.params.id)));
  });
  router.delete('/platforms/:id', async (req, res) => {
    await deletePlatform(ctx, req.params.id, { actor: ADMIN_ACTOR, hooks });
    res.status(204).end();
  });
  router.post('/platforms/:id/webhook-secret', async (req, res) => {
    const webhookSecret = await rotateWebhookSecret(ctx, req.params.id, ADMIN_ACTOR);
    res.json({ id: req.params.id, webhookSecret });
  });
  return router;
}
