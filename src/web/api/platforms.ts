import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../../context.js';
import {
  approvePlatform,
  changeDeployment,
  deletePlatform,
  getPlatform,
  listPlatforms,
  registerPlatform,
  rotateWebhookSecret,
  toPublicPlatform,
  updatePlatformSettings,
  type PlatformHooks,
} from '../../platforms/service.js';
import { platformInputSchema } from '../../platforms/schema.js';
import { safeText } from '../../validation/text.js';
import { parseOr400 } from '../validation.js';
import { ADMIN_ACTOR } from './auth.js';
import { afterCursor, page, parseQuery } from './paging.js';

/** The body of POST /api/v1/platforms/:id/approve: the name the administrator confirms or sets. */
export const approvePlatformSchema = z.strictObject({
  name: safeText(200).min(1, 'must not be empty').optional(),
});

/** The body of PATCH /api/v1/platforms/:id/settings. */
export const platformSettingsSchema = z.strictObject({
  deploymentPolicy: z.enum(['auto', 'approve']).optional(),
  sameLmsAs: z
    .string()
    .regex(/^[0-9a-f]{24}$/i, 'must be a platform id')
    .nullable()
    .optional(),
});

/** The body of POST /api/v1/platforms/:id/deployments: a deployment to accept (or approve). */
export const deploymentSchema = z.strictObject({ deploymentId: safeText(255).min(1, 'must not be empty') });

/**
 * /api/v1/platforms: the LMS admin registers an LMS; the webhook secret is shown once. A platform a
 * dynamic registration left pending is approved here, which answers its (new) secret once.
 */
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
  router.get('/platforms', async (req, res) => {
    const q = parseQuery({ status: z.enum(['active', 'pending']).optional() }, req.query);
    const docs = await listPlatforms(ctx, {
      status: q.status,
      after: afterCursor(q.cursor),
      limit: q.limit + 1,
    });
    res.json(page(docs, q.limit, toPublicPlatform));
  });
  router.get('/platforms/:id', async (req, res) => {
    res.json(toPublicPlatform(await getPlatform(ctx, req.params.id)));
  });
  router.delete('/platforms/:id', async (req, res) => {
    await deletePlatform(ctx, req.params.id, { actor: ADMIN_ACTOR, hooks });
    res.status(204).end();
  });
  router.post('/platforms/:id/approve', async (req, res) => {
    const input = parseOr400(approvePlatformSchema, req.body ?? {}, 'approval');
    const { platform, webhookSecret } = await approvePlatform(ctx, req.params.id, {
      actor: ADMIN_ACTOR,
      name: input.name,
      hooks,
    });
    res.json({ ...toPublicPlatform(platform), webhookSecret });
  });
  router.patch('/platforms/:id/settings', async (req, res) => {
    const input = parseOr400(platformSettingsSchema, req.body ?? {}, 'settings');
    res.json(toPublicPlatform(await updatePlatformSettings(ctx, req.params.id, input, ADMIN_ACTOR)));
  });
  router.post('/platforms/:id/deployments', async (req, res) => {
    const input = parseOr400(deploymentSchema, req.body ?? {}, 'deployment');
    const platform = await changeDeployment(ctx, req.params.id, { add: input.deploymentId }, ADMIN_ACTOR);
    res.json(toPublicPlatform(platform));
  });
  router.delete('/platforms/:id/deployments/:deploymentId', async (req, res) => {
    const platform = await changeDeployment(
      ctx,
      req.params.id,
      { remove: String(req.params.deploymentId) },
      ADMIN_ACTOR,
    );
    res.json(toPublicPlatform(platform));
  });
  router.post('/platforms/:id/webhook-secret', async (req, res) => {
    const webhookSecret = await rotateWebhookSecret(ctx, req.params.id, ADMIN_ACTOR);
    res.json({ id: req.params.id, webhookSecret });
  });
  return router;
}
