import { Router, type RequestHandler, type Response } from 'express';
import { launchOf } from './launchOf.js';
import type { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { ProviderName } from '../../db/models/providerSettings.js';
import { csrfTokenFor } from '../../lti/csrf.js';
import { COURSE_PATHS, withLtik } from '../../lti/launch.js';
import type { Launch } from '../../lti/session.js';
import { queueTemplateSync } from '../../providers/jobs.js';
import {
  SettingsRefused,
  accredibleSettingsSchema,
  checkSettings,
  credlySettingsSchema,
  deleteSettings,
  listSettings,
  saveSettings,
  settingsOf,
  type ProviderSettingsView,
} from '../../providers/settings.js';
import { formatIssues } from '../../rules/index.js';
import { smallFormBody } from './formBody.js';
import { pageLocals } from './links.js';

/**
 * The LMS administrator's page for the platform's Credly and Accredible settings, inside the LMS:
 * save (checked with the service first; its answer is shown), see them masked, check them again,
 * sync the templates now, remove them. Always the launch's platform, never one from the URL.
 */

export const PROVIDERS_PATH = `${COURSE_PATHS.admin}/providers`;

const NAMES: Record<ProviderName, string> = { credly: 'Credly', accredible: 'Accredible' };
const PROVIDERS: ProviderName[] = ['credly', 'accredible'];

type Message = { provider: ProviderName; ok: boolean; text: string; errors?: Record<string, string> };

async function render(ctx: Context, res: Response, message: Message | null, status = 200): Promise<void> {
  const launch = launchOf(res);
  const stored = await listSettings(ctx, launch.platformId);
  const action = (p: ProviderName, what: string) =>
    withLtik(`${PROVIDERS_PATH}/${p}${what ? `/${what}` : ''}`, launch.ltik);
  const section = (p: ProviderName) => {
    const s: ProviderSettingsView | null = stored[p];
    return {
      provider: p,
      name: NAMES[p],
      isCredly: p === 'credly',
      stored: s,
      environments: (p === 'credly' ? ['sandbox', 'production'] : ['sandbox', 'production', 'eu']).map(
        (e) => ({
          value: e,
          label: e === 'eu' ? 'Production (EU region)' : e === 'sandbox' ? 'Sandbox' : 'Production',
          selected: (s?.environment ?? 'sandbox') === e,
        }),
      ),
      message: message?.provider === p ? message : null,
      saveAction: action(p, ''),
      checkAction: action(p, 'check'),
      syncAction: action(p, 'sync'),
      removeAction: action(p, 'remove'),
    };
  };
  res.status(status).render('course/providers', {
    ...pageLocals(launch),
    title: `Credly and Accredible · ${launch.platformName}`,
    platformName: launch.platformName,
    csrfToken: csrfTokenFor(launch),
    webhookUrl: `${ctx.config.publicUrl}/api/v1/webhooks/credly/${String(launch.platformId)}`,
    sections: PROVIDERS.map(section),
  });
}

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** The form's values as the admin API's body; a blank secret keeps the stored one. */
async function inputOf(
  ctx: Context,
  platformId: Types.ObjectId,
  provider: ProviderName,
  body: Record<string, unknown>,
) {
  const secretField = provider === 'credly' ? 'authToken' : 'apiKey';
  let secret = text(body[secretField]);
  if (!secret) {
    const stored = await settingsOf(ctx, platformId, provider);
    if (stored) secret = ctx.sealer.open(stored.secretSealed);
  }
  const common = {
    environment: text(body.environment),
    ...(text(body.baseUrl) ? { baseUrl: text(body.baseUrl) } : {}),
    [secretField]: secret,
  };
  return provider === 'credly'
    ? credlySettingsSchema.safeParse({ ...common, organizationId: text(body.organizationId) })
    : accredibleSettingsSchema.safeParse(common);
}

export function providersPageRouter(ctx: Context, guard: RequestHandler[], csrf: RequestHandler): Router {
  const router = Router();
  const form = [...guard, smallFormBody, csrf];
  const providerOf = (value: string): ProviderName | null =>
    value === 'credly' || value === 'accredible' ? value : null;
  // The LMS administrator, by their person on this platform.
  const actor = (launch: Launch) => ({
    type: 'admin' as const,
    id: String(launch.personId),
    name: launch.personName,
  });

  router.get(PROVIDERS_PATH, ...guard, async (_req, res) => {
    await render(ctx, res, null);
  });

  router.post(`${PROVIDERS_PATH}/:name`, ...form, async (req, res) => {
    const provider = providerOf(String(req.params.name));
    if (!provider) return void res.status(404).end();
    const launch = launchOf(res);
    const parsed = await inputOf(
      ctx,
      launch.platformId,
      provider,
      (req.body ?? {}) as Record<string, unknown>,
    );
    if (!parsed.success) {
      const errors = Object.fromEntries(formatIssues(parsed.error).map((d) => [d.path || 'form', d.message]));
      return render(
        ctx,
        res,
        { provider, ok: false, text: 'Some fields need a change; each says what is wrong.', errors },
        400,
      );
    }
    try {
      const saved = await saveSettings(
        ctx,
        launch.platformId,
        { provider, ...parsed.data } as never,
        actor(launch),
      );
      await render(ctx, res, { provider, ok: true, text: `Saved. ${saved.check?.message ?? ''}` });
    } catch (err) {
      if (!(err instanceof SettingsRefused)) throw err;
      await render(ctx, res, { provider, ok: false, text: `Not saved. ${err.message}` }, 422);
    }
  });

  router.post(`${PROVIDERS_PATH}/:name/:action`, ...form, async (req, res) => {
    const provider = providerOf(String(req.params.name));
    const action = String(req.params.action);
    if (!provider || !['check', 'sync', 'remove'].includes(action)) return void res.status(404).end();
    const launch = launchOf(res);
    if (!(await settingsOf(ctx, launch.platformId, provider)))
      return render(ctx, res, { provider, ok: false, text: `${NAMES[provider]} is not set up yet.` }, 404);
    if (action === 'check') {
      const checked = await checkSettings(ctx, launch.platformId, provider);
      return render(ctx, res, {
        provider,
        ok: checked.check?.ok === true,
        text: checked.check?.message ?? '',
      });
    }
    if (action === 'sync') {
      await queueTemplateSync(ctx, launch.platformId, provider);
      return render(ctx, res, {
        provider,
        ok: true,
        text: `Sync queued: ${NAMES[provider]}'s templates appear among the badges in a moment (reload to see the result below).`,
      });
    }
    await deleteSettings(ctx, launch.platformId, provider, actor(launch));
    return render(ctx, res, {
      provider,
      ok: true,
      text: `${NAMES[provider]} settings removed; synced badges and awarded credentials stay.`,
    });
  });
  return router;
}
