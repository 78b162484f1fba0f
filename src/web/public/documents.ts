import { Router, type Request, type Response } from 'express';
import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { IssuerProfileDoc } from '../../db/models/issuerProfile.js';
import type { StatusListDoc } from '../../db/models/statusList.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { notFound } from '../../errors.js';
import { achievementDocument } from '../../issuers/openbadges/build.js';
import {
  findIssuerProfile,
  publishedKey,
  publishedProfile,
} from '../../issuers/openbadges/issuerProfiles.js';
import { achievementInputFor } from '../../issuers/openbadges/laurelDocuments.js';
import { formatDate } from './present.js';

const JSON_FIRST = ['application/ld+json', 'application/json', 'application/vc+ld+json', 'text/html'];

/** JSON-LD unless the client prefers a page (a browser following a link from a credential). */
function wantsHtml(req: Request, res: Response): boolean {
  res.setHeader('Vary', 'Accept');
  return req.accepts(JSON_FIRST) === 'text/html';
}

function sendJsonLd(req: Request, res: Response, body: unknown, maxAge = 300) {
  res.setHeader('Cache-Control', `public, max-age=${maxAge}`);
  res.type(
    req.accepts(['application/ld+json', 'application/json', 'application/vc+ld+json']) ||
      'application/ld+json',
  );
  res.send(JSON.stringify(body, null, 2));
}

const objectId = (id: string) => (/^[0-9a-f]{24}$/.test(id) ? new Types.ObjectId(id) : null);

/**
 * The documents a credential points at, at the URLs inside it: the issuer's OB 3.0 Profile and
 * each of its keys, the achievement, and the signed revocation status lists.
 */
export function documentsRouter(ctx: Context): Router {
  const router = Router();
  router.get('/issuers/:id', async (req, res) => {
    const profile = await findIssuerProfile(ctx, req.params.id);
    if (!profile) throw notFound(`Issuer ${req.params.id}`);
    const document = publishedProfile(ctx, profile);
    if (!wantsHtml(req, res)) {
      sendJsonLd(req, res, document);
      return;
    }
    res.render('public/issuer', {
      title: profile.name,
      profile: document,
      keys: profile.keys.map((k) => ({
        url: publishedKey(ctx, profile, k.publicKeyMultibase)!.id,
        created: formatDate(k.createdAt),
        retired: formatDate(k.retiredAt),
      })),
    });
  });
  router.get('/issuers/:id/keys/:key', async (req, res) => {
    const profile = await findIssuerProfile(ctx, req.params.id);
    const key = profile && publishedKey(ctx, profile, req.params.key);
    if (!key) throw notFound(`Key ${req.params.key} of issuer ${req.params.id}`);
    sendJsonLd(req, res, key, 3600);
  });
  router.get('/achievements/:id', async (req, res) => {
    const id = objectId(req.params.id);
    const template = id ? await ctx.models.templates.findById(id).lean<TemplateDoc>() : null;
    if (!template || template.source !== 'local') throw notFound(`Achievement ${req.params.id}`);
    const issuer = await ctx.models.issuerProfiles
      .findOne({ platformId: template.platformId })
      .lean<IssuerProfileDoc>();
    const document = achievementDocument(achievementInputFor(ctx, template, issuer));
    if (!wantsHtml(req, res)) {
      sendJsonLd(req, res, document);
      return;
    }
    res.render('public/achievement', { title: template.name, achievement: document });
  });
  router.get('/achievements/:id/levels/:level', async (req, res) => {
    const id = objectId(req.params.id);
    const template = id ? await ctx.models.templates.findById(id).lean<TemplateDoc>() : null;
    const step = template?.levels?.steps.find((s) => s.id === req.params.level);
    if (!template || template.source !== 'local' || !step)
      throw notFound(`Level ${req.params.level} of achievement ${req.params.id}`);
    const issuer = await ctx.models.issuerProfiles
      .findOne({ platformId: template.platformId })
      .lean<IssuerProfileDoc>();
    const document = achievementDocument(achievementInputFor(ctx, template, issuer, step.id));
    if (!wantsHtml(req, res)) {
      sendJsonLd(req, res, document);
      return;
    }
    res.render('public/achievement', { title: document.name, achievement: document });
  });
  router.get('/status-lists/:id', async (req, res) => {
    const id = objectId(req.params.id);
    const list = id ? await ctx.models.statusLists.findById(id).lean<StatusListDoc>() : null;
    if (!list?.signed) throw notFound(`Status list ${req.params.id}`);
    // Short: a revocation must reach verifiers soon.
    res.setHeader('Cache-Control', 'public, max-age=60');
    res.type(
      req.accepts(['application/vc+ld+json', 'application/ld+json', 'application/json']) ||
        'application/vc+ld+json',
    );
    res.send(JSON.stringify(list.signed));
  });
  return router;
}
