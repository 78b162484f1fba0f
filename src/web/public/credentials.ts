import { Router, type Request, type Response } from 'express';
import type { Context } from '../../context.js';
import { HttpError } from '../../errors.js';
import { bakedOb2Png, bakedPng, bakedSvg } from './badgeImage.js';
import { freshPages } from './freshPages.js';
import { loadPublicCredential, type PublicCredential } from './load.js';
import { presentCredential } from './present.js';
import { renderedPages } from './renderedPages.js';
import { verificationCache } from './verificationCache.js';

/** The JSON-LD media types a client may ask a credential for, in the order Laurel prefers. */
const JSON_TYPES = ['application/ld+json', 'application/vc+ld+json', 'application/json'];

/** A credential still being signed has no JSON or baked image yet; clients may retry shortly. */
function requireSigned(pc: PublicCredential, res: Response): Record<string, unknown> {
  if (pc.credential.signed) return pc.credential.signed;
  res.setHeader('Retry-After', '30');
  throw new HttpError(
    404,
    'not_issued',
    pc.credential.status === 'awarded'
      ? `Credential ${String(pc.credential._id)} is being issued; its signed form is not ready yet.`
      : `Credential ${String(pc.credential._id)} was ${pc.credential.status} before it was issued.`,
  );
}

function sendJson(req: Request, res: Response, body: unknown, download?: string) {
  const type = req.accepts(JSON_TYPES) || 'application/ld+json';
  res.setHeader('Vary', 'Accept');
  if (download) res.setHeader('Content-Disposition', `attachment; filename="${download}"`);
  res.type(type).send(JSON.stringify(body, null, 2));
}

/**
 * /credentials/:id — the public verification page (HTML), or the signed credential for
 * `Accept: application/json` / `application/ld+json`; the baked PNG and SVG downloads.
 */
export function credentialsRouter(ctx: Context): Router {
  const verifications = verificationCache(ctx);
  const pages = renderedPages(ctx);
  const fresh = freshPages(ctx);
  const router = Router();
  router.get('/credentials/:id', async (req, res) => {
    const wanted = req.accepts(['text/html', ...JSON_TYPES]);
    const html = !wanted || wanted === 'text/html';
    // Only a plain id and a text key (or none) name a stored page; anything else is read as it comes.
    const id = req.params.id;
    const key =
      req.query.key === undefined ? null : typeof req.query.key === 'string' ? req.query.key : false;
    const reusable = html && key !== false && /^[0-9a-f]{24}$/.test(id);
    const stored = reusable ? fresh.get(id, key) : undefined;
    if (stored !== undefined) {
      res.setHeader('Vary', 'Accept');
      res.setHeader('Cache-Control', 'no-store');
      res.type('html').send(stored);
      return;
    }
    const made = fresh.begin();
    const pc = await loadPublicCredential(ctx, id, req.query.key, { statusList: true });
    if (!html) {
      sendJson(req, res, requireSigned(pc, res));
      return;
    }
    res.setHeader('Vary', 'Accept');
    // A Credly or Accredible badge is verified at its service: its page there is the one to show.
    if (pc.credential.status === 'issued' && pc.credential.externalUrl)
      return void res.redirect(303, pc.credential.externalUrl);
    // The page shows a current result; caches must not keep a verdict older than a revocation.
    res.setHeader('Cache-Control', 'no-store');
    const verification = await verifications.verify(pc).catch((err: unknown) => {
      if (err instanceof HttpError && err.status === 503) res.setHeader('Retry-After', '5');
      throw err;
    });
    const view = presentCredential(ctx, pc, verification);
    // Opened through its holder's link: the downloads carry the same key (src/backpack/visibility.ts).
    if (key && view.downloads)
      for (const name of Object.keys(view.downloads) as (keyof typeof view.downloads)[])
        view.downloads[name] += `?key=${encodeURIComponent(key)}`;
    const page = await pages.render(req.app, view.isIssuing ? 'public/issuing' : 'public/credential', view);
    res.type('html').send(page);
    if (reusable) fresh.store(id, key, page, made, pc.credential.expiresAt);
  });
  router.get('/credentials/:id/credential.json', async (req, res) => {
    const pc = await loadPublicCredential(ctx, req.params.id, req.query.key);
    sendJson(req, res, requireSigned(pc, res), `credential-${req.params.id}.json`);
  });
  router.get('/credentials/:id/image.png', async (req, res) => {
    const pc = await loadPublicCredential(ctx, req.params.id, req.query.key);
    requireSigned(pc, res);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('image/png').send(await bakedPng(ctx, pc));
  });
  router.get('/credentials/:id/image-ob2.png', async (req, res) => {
    const pc = await loadPublicCredential(ctx, req.params.id, req.query.key);
    requireSigned(pc, res);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('image/png').send(await bakedOb2Png(ctx, pc));
  });
  router.get('/credentials/:id/image.svg', async (req, res) => {
    const pc = await loadPublicCredential(ctx, req.params.id, req.query.key);
    requireSigned(pc, res);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    res.type('image/svg+xml').send(await bakedSvg(ctx, pc));
  });
  return router;
}
