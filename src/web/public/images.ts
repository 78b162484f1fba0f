import { Router } from 'express';
import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { notFound } from '../../errors.js';
import { defaultBadgeSvg } from '../../images/defaultBadge.js';
import { loadBadgeImage } from '../../images/store.js';

/** An SVG opened on its own may not run or fetch anything, whatever got past sanitising. */
const SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** Badge images: uploaded ones by id (immutable, cached for a year) and each template's default. */
export function imagesRouter(ctx: Context): Router {
  const router = Router();
  router.get('/images/default/:file', async (req, res) => {
    const m = /^([0-9a-f]{24})\.svg$/.exec(req.params.file);
    const template = m
      ? await ctx.models.templates.findById(new Types.ObjectId(m[1])).lean<TemplateDoc>()
      : null;
    if (!template) throw notFound(`Image ${req.params.file}`);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.setHeader('Content-Security-Policy', SVG_CSP);
    res.type('image/svg+xml').send(defaultBadgeSvg(template.name, String(template._id)));
  });
  router.get('/images/:id', async (req, res) => {
    const image = await loadBadgeImage(ctx, req.params.id);
    if (!image) throw notFound(`Image ${req.params.id}`);
    const etag = `"${image.sha256}"`;
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('ETag', etag);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (image.contentType === 'image/svg+xml') res.setHeader('Content-Security-Policy', SVG_CSP);
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.type(image.contentType).send(image.bytes);
  });
  return router;
}
