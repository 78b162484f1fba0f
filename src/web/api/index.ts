import express, { Router } from 'express';
import type { Context } from '../../context.js';
import { launchStatsRouter } from '../../lti/launch-paths.js';
import type { PlatformHooks } from '../../platforms/service.js';
import { auditRouter } from './audit.js';
import { failuresRouter } from './failures.js';
import { issuerRouter } from './issuer.js';
import { requireAdminKey } from './auth.js';
import { clrRouter } from './clr.js';
import { credentialsRouter } from './credentials.js';
import { eventsRouter } from './events.js';
import { openApiRouter } from './openapi.js';
import { platformsRouter } from './platforms.js';
import { progressRouter } from './progress.js';
import { providersRouter } from './providers.js';
import { registrationLinksRouter } from './registrationLinks.js';
import { templatesRouter } from './templates.js';
import { moodleWebhookRouter } from './webhooks/moodle.js';
import { credlyWebhookRouter } from './webhooks/credly.js';
import { canvasSubscriptionRouter, canvasWebhookRouter } from './webhooks/canvas.js';

/** Everything under /api/v1: the signed event endpoint, the OpenAPI document, the admin API. */
export function apiRouter(
  ctx: Context,
  options: { platformHooks: PlatformHooks; ltiProvider?: unknown },
): Router {
  const router = Router();
  router.use(eventsRouter(ctx));
  router.use(moodleWebhookRouter(ctx));
  router.use(canvasWebhookRouter(ctx));
  router.use(credlyWebhookRouter(ctx));
  router.use(openApiRouter(ctx));
  const admin = Router();
  admin.use(requireAdminKey(ctx.config.adminApiKey));
  admin.use(express.json({ limit: '200kb', strict: true }));
  admin.use(platformsRouter(ctx, options.platformHooks));
  admin.use(registrationLinksRouter(ctx));
  admin.use(launchStatsRouter(ctx));
  admin.use(templatesRouter(ctx));
  admin.use(credentialsRouter(ctx));
  admin.use(progressRouter(ctx));
  admin.use(auditRouter(ctx));
  admin.use(issuerRouter(ctx));
  admin.use(failuresRouter(ctx));
  admin.use(providersRouter(ctx));
  admin.use(clrRouter(ctx));
  // Its own admin-key check; it needs the ltijs provider for the tool's LTI service token.
  router.use(canvasSubscriptionRouter(ctx, options.ltiProvider));
  router.use(admin);
  return router;
}
