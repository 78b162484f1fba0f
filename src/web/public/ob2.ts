import { Router, type Request, type Response } from 'express';
import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { HttpError, notFound } from '../../errors.js';
import { findIssuerProfile, issuerSummary } from '../../issuers/openbadges/issuerProfiles.js';
import { achievementInputFor, templateImageUrl } from '../../issuers/openbadges/laurelDocuments.js';
import { ob2Assertion, ob2BadgeClass, ob2Issuer, ob2RevokedAssertion } from '../../issuers/openbadges/ob2.js';
import { openBadgeUrls } from '../../issuers/openbadges/urls.js';
import { asArray, isObject, str } from '../../issuers/openbadges/verifyChecks.js';
import { loadPublicCredential } from './load.js';

/** OB 2.0 objects are JSON-LD; a client that accepts only application/json gets that type. */
function send(req: Request, res: Response, status: number, body: unknown) {
  res.setHeader('Vary', 'Accept');
  res.setHeader('Cache-Control', status === 200 ? 'public, max-age=300' : 'no-store');
  res.status(status).type(req.accepts(['application/ld+json', 'application/json']) || 'application/ld+json');
  res.send(JSON.stringify(body, null, 2));
}

/** The OB 2.0 hosted form of Laurel's credentials: Assertion, BadgeClass and Issuer at stable URLs. */
export function ob2Router(ctx: Context): Router {
  const router = Router();
  const urls = openBadgeUrls(ctx.config.publicUrl);
  router.get('/ob2/assertions/:id', async (req, res) => {
    const pc = await loadPublicCredential(ctx, req.params.id, req.query.key);
    const { credential: c } = pc;
    const id = urls.ob2Assertion(c._id);
    if (c.status === 'revoked') {
      send(req, res, 410, ob2RevokedAssertion(id, c.revokedReason));
      return;
    }
    if (!c.signed || !c.recipientSalt) {
      res.setHeader('Retry-After', '30');
      throw new HttpError(
        404,
        'not_issued',
        `Assertion ${req.params.id} is being issued; try again shortly.`,
      );
    }
    const evidence = asArray(c.signed.evidence as unknown[])
      .filter(isObject)
      .map((e) => ({
        name: str(e.name) ?? 'Evidence',
        narrative: str(e.narrative) ?? '',
        genre: str(e.genre),
      }));
    send(
      req,
      res,
      200,
      ob2Assertion({
        id,
        badgeUrl: urls.ob2Badge(c.templateId),
        imageUrl: `${urls.credential(c._id)}/image-ob2.png`,
        recipient: {
          email: pc.person?.email ?? null,
          fallback: pc.person?.sub ?? c.userId,
          salt: c.recipientSalt,
        },
        issuedOn: c.awardedAt,
        expires: c.expiresAt,
        evidence,
      }),
    );
  });
  router.get('/ob2/badges/:id', async (req, res) => {
    const template = /^[0-9a-f]{24}$/.test(req.params.id)
      ? await ctx.models.templates.findById(new Types.ObjectId(req.params.id)).lean<TemplateDoc>()
      : null;
    if (!template || template.source !== 'local') throw notFound(`Badge ${req.params.id}`);
    const issuer = await ctx.models.issuerProfiles.findOne({ platformId: template.platformId }).lean();
    if (!issuer) throw notFound(`Badge ${req.params.id}`);
    const input = { ...achievementInputFor(ctx, template), imageUrl: templateImageUrl(ctx, template) };
    send(req, res, 200, ob2BadgeClass(urls.ob2Badge(template._id), urls.ob2Issuer(issuer._id), input));
  });
  router.get('/ob2/issuers/:id', async (req, res) => {
    const profile = await findIssuerProfile(ctx, req.params.id);
    if (!profile) throw notFound(`Issuer ${req.params.id}`);
    const summary = issuerSummary(ctx, profile);
    send(
      req,
      res,
      200,
      ob2Issuer(urls.ob2Issuer(profile._id), {
        ...summary,
        // OB 2.0 requires a URL and an e-mail of every issuer.
        url: summary.url ?? urls.base,
        email: summary.email ?? ctx.config.mailFrom,
      }),
    );
  });
  return router;
}
