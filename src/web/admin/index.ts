import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Context } from '../../context.js';
import type { PlatformDoc } from '../../db/models/platform.js';
import type { RegistrationLinkDoc } from '../../db/models/registrationLink.js';
import { HttpError } from '../../errors.js';
import { secretsEqual } from '../../security/compare.js';
import {
  approvePlatform,
  createRegistrationLink,
  deletePlatform,
  getPlatform,
  listPlatforms,
  registrationLinkState,
  revokeRegistrationLink,
  type PlatformHooks,
} from '../../platforms/service.js';
import { isActivePlatform } from '../../db/models/platform.js';
import { safeText } from '../../validation/text.js';
import { formatIssues } from '../../rules/index.js';
import { rateLimit } from '../public/rateLimit.js';
import { ADMIN_SESSION_MS, issueSession, requireAdmin, requireAdminCsrf, sessionCookie } from './session.js';

/**
 * Laurel's own administration pages at /admin, for whoever runs Laurel (they hold ADMIN_API_KEY):
 * registration links for LTI Dynamic Registration, and LMSs that registered without one and wait
 * for approval. The same actions as the admin API and the CLI, for people.
 */
const ADMIN_PAGE_ACTOR = { type: 'admin' as const, id: 'admin-page' };
const LMS_LABEL = { moodle: 'Moodle', canvas: 'Canvas', other: 'Other LMS' } as const;

const linkForm = z.strictObject({
  csrf: z.string(),
  name: safeText(200).optional(),
  lms: z
    .enum(['', 'moodle', 'canvas', 'other'], { error: 'choose Moodle, Canvas or another LMS' })
    .optional(),
  expiresInDays: z.coerce
    .number({ error: 'a whole number of days from 1 to 30' })
    .int('a whole number of days from 1 to 30')
    .min(1, 'a whole number of days from 1 to 30')
    .max(30, 'a whole number of days from 1 to 30'),
});
const approveForm = z.strictObject({ csrf: z.string(), name: safeText(200).min(1, 'must not be empty') });
const objectId = /^[0-9a-f]{24}$/i;

const when = (d: Date | null | undefined) =>
  d ? new Date(d).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '';

export function adminRouter(ctx: Context, deps: { platformHooks: PlatformHooks }): Router {
  const router = Router();
  const key = ctx.config.adminApiKey;
  const now = () => ctx.now().getTime();
  // Small forms only; read after the session is checked (sign-in reads its one field after the rate limit).
  const smallForm = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });
  const page = (res: Response, view: string, locals: Record<string, unknown>, status = 200) =>
    res
      .status(status)
      .set('Cache-Control', 'no-store')
      .render(view, { title: 'Laurel administration', ...locals });
  const signInPage = (res: Response, status = 200, error?: string) =>
    page(res, 'admin/sign-in', { title: 'Sign in to Laurel administration', error }, status);
  const signedIn = requireAdmin(key, now, (res) => signInPage(res));
  const csrf = requireAdminCsrf(key);

  async function dashboard(res: Response, extra: Record<string, unknown> = {}, status = 200) {
    const at = ctx.now();
    const [links, platforms] = await Promise.all([
      ctx.models.registrationLinks.find({}).sort({ _id: -1 }).limit(50).lean<RegistrationLinkDoc[]>(),
      listPlatforms(ctx),
    ]);
    const names = new Map(platforms.map((p) => [String(p._id), p.name]));
    page(
      res,
      'admin/dashboard',
      {
        csrfToken: res.locals.csrfToken,
        links: links.map((l) => {
          const state = registrationLinkState(l, at);
          return {
            id: String(l._id),
            name: l.name ?? '(named after the LMS)',
            lms: l.lms ? LMS_LABEL[l.lms] : 'any',
            state,
            open: state === 'open',
            expiresAt: when(l.expiresAt),
            usedAt: when(l.usedAt),
            platform: l.usedBy ? (names.get(String(l.usedBy)) ?? 'removed') : null,
          };
        }),
        pending: platforms
          .filter((p) => !isActivePlatform(p))
          .map((p) => ({
            id: String(p._id),
            name: p.name,
            suggestedName: p.suggestedName ?? null,
            issuer: p.issuer,
            lms: LMS_LABEL[p.lms],
            registeredAt: when(p.createdAt),
          })),
        active: platforms.filter(isActivePlatform).map((p: PlatformDoc) => ({
          id: String(p._id),
          name: p.name,
          issuer: p.issuer,
          lms: LMS_LABEL[p.lms],
        })),
        registrationWithoutLink: ctx.config.registrationWithoutLink,
        values: { expiresInDays: 7, ...((extra.values as object | undefined) ?? {}) },
        ...extra,
      },
      status,
    );
  }

  router.get('/admin', signedIn, async (_req, res) => {
    await dashboard(res);
  });

  router.post(
    '/admin/sign-in',
    rateLimit(ctx, { bucket: 'admin-sign-in', limit: 10, windowMs: 15 * 60_000 }),
    smallForm,
    (req: Request, res: Response) => {
      const given = (req.body as Record<string, unknown> | undefined)?.key;
      if (typeof given !== 'string' || given === '' || !secretsEqual(given, key)) {
        req.log?.info('admin page sign-in refused');
        return signInPage(res, 401, 'That is not the administrator key of this Laurel.');
      }
      const { cookie } = issueSession(key, now());
      res.setHeader('Set-Cookie', sessionCookie(cookie, req.secure, ADMIN_SESSION_MS));
      res.redirect(303, '/admin');
    },
  );

  router.post('/admin/sign-out', signedIn, smallForm, csrf, (req, res) => {
    res.setHeader('Set-Cookie', sessionCookie('', req.secure, 0));
    res.redirect(303, '/admin');
  });

  router.post('/admin/registration-links', signedIn, smallForm, csrf, async (req, res) => {
    const parsed = linkForm.safeParse(req.body ?? {});
    if (!parsed.success) {
      const errors = Object.fromEntries(formatIssues(parsed.error).map((d) => [d.path, d.message]));
      return dashboard(res, { errors, values: req.body, errorCount: Object.keys(errors).length }, 400);
    }
    const { name, lms, expiresInDays } = parsed.data;
    const { link, url } = await createRegistrationLink(
      ctx,
      { name: name || null, lms: lms || null, expiresInMinutes: expiresInDays * 24 * 60 },
      ADMIN_PAGE_ACTOR,
    );
    page(res, 'admin/link-created', {
      url,
      name: link.name,
      lms: link.lms ? LMS_LABEL[link.lms] : null,
      expiresAt: when(link.expiresAt),
    });
  });

  router.post('/admin/registration-links/:id/revoke', signedIn, smallForm, csrf, async (req, res) => {
    const id = String(req.params.id);
    if (!objectId.test(id)) throw new HttpError(404, 'not_found', 'That registration link was not found.');
    await revokeRegistrationLink(ctx, id, ADMIN_PAGE_ACTOR);
    await dashboard(res, { notice: 'The registration link was revoked: it can no longer register an LMS.' });
  });

  router.post('/admin/platforms/:id/approve', signedIn, smallForm, csrf, async (req, res) => {
    const id = String(req.params.id);
    if (!objectId.test(id)) throw new HttpError(404, 'not_found', 'That LMS was not found.');
    const parsed = approveForm.safeParse(req.body ?? {});
    if (!parsed.success) {
      const errors = Object.fromEntries(formatIssues(parsed.error).map((d) => [`approve-${id}`, d.message]));
      return dashboard(res, { errors, errorCount: 1 }, 400);
    }
    const { platform, webhookSecret } = await approvePlatform(ctx, id, {
      actor: ADMIN_PAGE_ACTOR,
      name: parsed.data.name,
      hooks: deps.platformHooks,
    });
    page(res, 'admin/approved', {
      platform: {
        id: String(platform._id),
        name: platform.name,
        issuer: platform.issuer,
        lms: LMS_LABEL[platform.lms],
      },
      webhookSecret,
      eventsUrl: `${ctx.config.publicUrl}/api/v1/events`,
    });
  });

  router.post('/admin/platforms/:id/refuse', signedIn, smallForm, csrf, async (req, res) => {
    const id = String(req.params.id);
    if (!objectId.test(id)) throw new HttpError(404, 'not_found', 'That LMS was not found.');
    const platform = await getPlatform(ctx, id);
    if (isActivePlatform(platform))
      throw new HttpError(
        409,
        'not_pending',
        `${platform.name} is active; remove it through the admin API or CLI.`,
      );
    await deletePlatform(ctx, id, { actor: ADMIN_PAGE_ACTOR, hooks: deps.platformHooks });
    await dashboard(res, { notice: `The registration of ${platform.name} was refused and removed.` });
  });

  return router;
}
