import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../../context.js';
import { notFound } from '../../errors.js';
import { queueTemplateSync } from '../../providers/jobs.js';
import {
  accredibleSettingsSchema,
  credlySettingsSchema,
  deleteSettings,
  listSettings,
  requirePlatform,
  saveSettings,
  settingsOf,
} from '../../providers/settings.js';
import { parseOr400 } from '../validation.js';
import { ADMIN_ACTOR } from './auth.js';

const providerName = z.enum(['credly', 'accredible']);

const nameOf = (value: string) => {
  const parsed = providerName.safeParse(value);
  if (!parsed.success) throw notFound(`Badge service ${value}`);
  return parsed.data;
};

/** /api/v1/platforms/:id/providers: a platform's Credly and Accredible settings (ARCHITECTURE.md). */
export function providersRouter(ctx: Context): Router {
  const router = Router();
  router.get('/platforms/:id/providers', async (req, res) => {
    const platformId = await requirePlatform(ctx, req.params.id);
    res.json(await listSettings(ctx, platformId));
  });
  router.put('/platforms/:id/providers/credly', async (req, res) => {
    const platformId = await requirePlatform(ctx, req.params.id);
    const input = parseOr400(credlySettingsSchema, req.body, 'Credly settings');
    res.json(await saveSettings(ctx, platformId, { provider: 'credly', ...input }, ADMIN_ACTOR));
  });
  router.put('/platforms/:id/providers/accredible', async (req, res) => {
    const platformId = await requirePlatform(ctx, req.params.id);
    const input = parseOr400(accredibleSettingsSchema, req.body, 'Accredible settings');
    res.json(await saveSettings(ctx, platformId, { provider: 'accredible', ...input }, ADMIN_ACTOR));
  });
  router.delete('/platforms/:id/providers/:name', async (req, res) => {
    const platformId = await requirePlatform(ctx, req.params.id);
    await deleteSettings(ctx, platformId, nameOf(req.params.name), ADMIN_ACTOR);
    res.status(204).end();
  });
  router.post('/platforms/:id/providers/:name/sync', async (req, res) => {
    const platformId = await requirePlatform(ctx, req.params.id);
    const provider = nameOf(req.params.name);
    if (!(await settingsOf(ctx, platformId, provider)))
      throw notFound(`${provider} settings of this platform`);
    await queueTemplateSync(ctx, platformId, provider);
    res.status(202).json({ queued: true, provider });
  });
  return router;
}
