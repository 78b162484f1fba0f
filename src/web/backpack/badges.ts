import type { CredentialDoc } from '../../db/models/credential.js';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Context } from '../../context.js';
import { badRequest } from '../../errors.js';
import { earnedBadges, learnerRecord } from '../../backpack/record.js';
import { shareLinks } from '../../backpack/share.js';
import { holderKey, visibilityOf } from '../../backpack/visibility.js';
import { credentialState, loadPublicCredential } from '../public/load.js';
import { formatDate, presentCredential } from '../public/present.js';
import { bakedPng, bakedSvg } from '../public/badgeImage.js';
import { rateLimit } from '../public/rateLimit.js';
import { setFrameAncestors } from '../framing.js';
import { imageOf } from '../course/instructor.js';
import { loadOwnCredential } from './own.js';
import { backpackPathwayCards } from '../pathways/outside.js';
import { importedBadges } from './imports.js';
import { recordLinks } from './records.js';
import { recordOfImports, withImportActivity } from './recordImports.js';
import { BACKPACK, backpackOf, formBody, requireBackpackCsrf } from './session.js';
import type { RequestHandler } from 'express';

const VISIBILITY_TEXT = {
  public: 'Public: anyone with its address can see and verify it.',
  link: 'Only through my link: its public page answers “not found” unless opened with my private link.',
  hidden: 'Hidden: its public page, downloads and embed answer “not found” for everyone.',
} as const;

const STATE_TEXT = {
  valid: 'Valid',
  issuing: 'Being issued',
  revoked: 'Revoked',
  expired: 'Expired',
} as const;

/** A lower level replaced by a higher one stays valid, and says so (not revoked). */
const stateText = (c: CredentialDoc, now: Date) => {
  const text = STATE_TEXT[credentialState(c, now)];
  return c.status === 'superseded' && text === 'Valid' ? 'Valid · superseded by a higher level' : text;
};

const visibilityForm = z.object({ visibility: z.enum(['public', 'link', 'hidden']) });

/** My Record, My Badges and each badge's page: the session's own credentials only. */
export function badgePagesRouter(ctx: Context, session: RequestHandler): Router {
  const router = Router();
  const base = ctx.config.publicUrl;

  router.get(BACKPACK, session, async (_req, res) => {
    const bp = backpackOf(res);
    const [record, learnerRecords] = await Promise.all([
      learnerRecord(ctx, bp.session.people),
      recordLinks(ctx, bp.session.people),
    ]);
    // Badges earned elsewhere, with their last verification (each one's page verifies it again).
    const imported = recordOfImports(await importedBadges(ctx, res));
    res.render('backpack/record', {
      learnerRecords,
      title: 'My record',
      csrf: bp.csrf,
      email: bp.session.email,
      nav: { record: true },
      earned: record.earned.map((e) => ({
        name: e.template.name,
        image: imageOf(e.template),
        courseTitle: e.courseTitle,
        on: formatDate(e.credential.awardedAt),
        state: stateText(e.credential, ctx.now()),
        link: `${BACKPACK}/badges/${String(e.credential._id)}`,
      })),
      inProgress: record.inProgress.map((p) => ({
        name: p.template.name,
        image: imageOf(p.template),
        courseTitle: p.courseTitle,
        percent: p.percent,
      })),
      activity: withImportActivity(record.activity, imported).map((a) => ({ ...a, on: formatDate(a.at) })),
      imported,
      pathways: await backpackPathwayCards(ctx, bp.session.people),
    });
  });

  router.get(`${BACKPACK}/badges`, session, async (_req, res) => {
    const bp = backpackOf(res);
    const earned = await earnedBadges(ctx, bp.session.people);
    const sharings = await ctx.models.badgeSharings
      .find({ _id: { $in: earned.map((e) => e.credential._id) } })
      .lean();
    const visibility = new Map(sharings.map((s) => [String(s._id), s.visibility]));
    const others = await importedBadges(ctx, res);
    res.render('backpack/badges', {
      others,
      title: 'My badges',
      csrf: bp.csrf,
      nav: { badges: true },
      badges: earned.map((e) => {
        const v = visibilityOf({ visibility: visibility.get(String(e.credential._id)) ?? 'public' });
        return {
          name: e.template.name,
          image: imageOf(e.template),
          courseTitle: e.courseTitle,
          on: formatDate(e.credential.awardedAt),
          state: stateText(e.credential, ctx.now()),
          hidden: v !== 'public',
          link: `${BACKPACK}/badges/${String(e.credential._id)}`,
        };
      }),
    });
  });

  router.get(`${BACKPACK}/badges/:id`, session, async (req, res) => {
    const bp = backpackOf(res);
    const pc = await loadOwnCredential(ctx, bp.session, req.params.id as string);
    const id = String(pc.credential._id);
    const sharing = await ctx.models.badgeSharings.findById(pc.credential._id).lean();
    const visibility = visibilityOf(sharing);
    const view = presentCredential(ctx, pc, null);
    const key = visibility === 'link' ? `?key=${holderKey(ctx.config, id)}` : '';
    const shareUrl = `${base}/credentials/${id}${key}`;
    const shareable = visibility !== 'hidden' && view.state !== 'revoked';
    res.render('backpack/badge', {
      title: view.badge.name,
      csrf: bp.csrf,
      nav: { badges: true },
      saved: req.query.saved === '1',
      id,
      badge: view.badge,
      issuer: view.issuer,
      dates: view.dates,
      state: STATE_TEXT[view.state],
      isRevoked: view.isRevoked,
      revokedReason: view.revokedReason,
      courseTitle: null,
      visibility: (['public', 'link', 'hidden'] as const).map((value) => ({
        value,
        text: VISIBILITY_TEXT[value],
        checked: value === visibility,
      })),
      share: shareable
        ? {
            url: shareUrl,
            ...shareLinks({
              badgeName: view.badge.name,
              issuerName: view.issuer.name,
              issuedAt: pc.credential.issuedAt ?? pc.credential.awardedAt,
              expiresAt: pc.credential.expiresAt,
              credentialId: id,
              url: shareUrl,
              embedUrl: `${base}${BACKPACK}/embed/${id}${key}`,
              imageUrl: `${base}/credentials/${id}/image.png${key}`,
            }),
          }
        : null,
      downloads: pc.credential.signed
        ? {
            png: `${BACKPACK}/badges/${id}/badge.png`,
            svg: `${BACKPACK}/badges/${id}/badge.svg`,
            json: `${BACKPACK}/badges/${id}/credential.json`,
          }
        : null,
    });
  });

  router.post(
    `${BACKPACK}/badges/:id/visibility`,
    session,
    formBody,
    requireBackpackCsrf,
    async (req, res) => {
      const bp = backpackOf(res);
      const pc = await loadOwnCredential(ctx, bp.session, req.params.id as string);
      const parsed = visibilityForm.safeParse(req.body);
      if (!parsed.success)
        throw badRequest('Choose who may see the badge: public, only through your link, or hidden.', [
          { path: 'visibility', message: 'is public, link or hidden' },
        ]);
      const { credential } = pc;
      await ctx.models.badgeSharings.updateOne(
        { _id: credential._id },
        {
          $set: { visibility: parsed.data.visibility, updatedAt: ctx.now() },
          $setOnInsert: { platformId: credential.platformId, personId: credential.personId },
        },
        { upsert: true },
      );
      res.redirect(303, `${BACKPACK}/badges/${String(credential._id)}?saved=1`);
    },
  );

  // The holder's downloads work whatever the badge's public visibility.
  const download = (kind: 'png' | 'svg' | 'json') => async (req: Request, res: Response) => {
    const pc = await loadOwnCredential(ctx, backpackOf(res).session, req.params.id as string);
    const signed = pc.credential.signed;
    if (!signed) throw badRequest('This badge is still being issued: its files are not ready yet.');
    const name = `badge-${String(pc.credential._id)}`;
    if (kind === 'json') {
      res
        .attachment(`${name}.json`)
        .type('application/ld+json')
        .send(JSON.stringify(signed, null, 2));
      return;
    }
    if (kind === 'png') {
      res
        .attachment(`${name}.png`)
        .type('image/png')
        .send(await bakedPng(ctx, pc));
      return;
    }
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    res
      .attachment(`${name}.svg`)
      .type('image/svg+xml')
      .send(await bakedSvg(ctx, pc));
  };
  router.get(`${BACKPACK}/badges/:id/badge.png`, session, download('png'));
  router.get(`${BACKPACK}/badges/:id/badge.svg`, session, download('svg'));
  router.get(`${BACKPACK}/badges/:id/credential.json`, session, download('json'));

  // The embed card: public (it answers as the public page does, hidden badges 404), and framable by
  // any site, since embedding it elsewhere is its purpose. It has no form and no script.
  const embedLimit = rateLimit(ctx, { bucket: 'embed', limit: 600, windowMs: 60_000 });
  router.get(`${BACKPACK}/embed/:id`, embedLimit, async (req, res) => {
    const pc = await loadPublicCredential(ctx, req.params.id as string, req.query.key);
    const view = presentCredential(ctx, pc, null);
    setFrameAncestors(res, ['*']);
    res.setHeader('Cache-Control', 'no-store');
    const key = typeof req.query.key === 'string' ? `?key=${encodeURIComponent(req.query.key)}` : '';
    res.render('backpack/embed', {
      layout: false,
      title: view.badge.name,
      badge: view.badge,
      issuer: view.issuer,
      learner: view.learner,
      awarded: view.dates.awarded,
      state: STATE_TEXT[view.state],
      valid: view.state === 'valid',
      verifyUrl: `${base}/credentials/${String(pc.credential._id)}${key}`,
    });
  });
  return router;
}
