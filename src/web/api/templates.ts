import express, { Router, type RequestHandler } from 'express';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Context } from '../../context.js';
import { HttpError } from '../../errors.js';
import { findCourse } from '../../identity/resolve.js';
import { invalidImage, IMAGE_LIMITS } from '../../images/check.js';
import { storeBadgeImage } from '../../images/store.js';
import { openBadgeUrls } from '../../issuers/openbadges/urls.js';
import { createTemplateSchema, updateTemplateSchema } from '../../templates/schema.js';
import {
  activateTemplate,
  createTemplate,
  getTemplate,
  listTemplates,
  toPublicTemplate,
  updateTemplate,
  withdrawTemplate,
} from '../../templates/service.js';
import { parseOr400 } from '../validation.js';
import { ADMIN_ACTOR } from './auth.js';
import { afterCursor, objectIdParam, page, parseQuery } from './paging.js';

const rawImage = express.raw({ type: () => true, limit: '4mb' });
/** The image file as raw bytes; a body past the parser's cap is still a 400 that names the size limit. */
const imageBody: RequestHandler = (req, res, next) =>
  rawImage(req, res, (err?: unknown) => {
    if ((err as { type?: string } | undefined)?.type === 'entity.too.large')
      next(invalidImage(`The image is too large: over 4 MiB, at most ${IMAGE_LIMITS.maxBytes / 1024} KiB.`));
    else next(err);
  });

/** /api/v1/templates: badge templates, their requirements and penalties, activation. */
export function templatesRouter(ctx: Context): Router {
  const router = Router();
  router.post('/templates', async (req, res) => {
    const input = parseOr400(createTemplateSchema, req.body, 'badge template');
    res.status(201).json(toPublicTemplate(await createTemplate(ctx, input, ADMIN_ACTOR)));
  });
  router.get('/templates', async (req, res) => {
    const q = parseQuery(
      {
        platformId: objectIdParam.optional(),
        courseId: z.string().min(1).max(200).optional(),
        state: z.enum(['draft', 'active', 'inactive']).optional(),
      },
      req.query,
    );
    const platformId = q.platformId ? new Types.ObjectId(q.platformId) : undefined;
    let courseRef: Types.ObjectId | undefined;
    if (q.courseId) {
      if (!platformId)
        throw new HttpError(400, 'invalid_request', 'courseId needs platformId.', [
          { path: 'platformId', message: 'is required with courseId' },
        ]);
      const course = await findCourse(ctx.models, platformId, q.courseId);
      if (!course) {
        res.json({ items: [], next: null });
        return;
      }
      courseRef = course._id;
    }
    const docs = await listTemplates(
      ctx,
      { platformId, courseRef, state: q.state, after: afterCursor(q.cursor) },
      q.limit + 1,
    );
    res.json(page(docs, q.limit, toPublicTemplate));
  });
  router.get('/templates/:id', async (req, res) => {
    res.json(toPublicTemplate(await getTemplate(ctx, req.params.id)));
  });
  router.patch('/templates/:id', async (req, res) => {
    const input = parseOr400(updateTemplateSchema, req.body, 'badge template change');
    res.json(toPublicTemplate(await updateTemplate(ctx, req.params.id, input, ADMIN_ACTOR)));
  });
  router.post('/templates/:id/activate', async (req, res) => {
    res.json(toPublicTemplate(await activateTemplate(ctx, req.params.id, ADMIN_ACTOR)));
  });
  router.put('/templates/:id/image', imageBody, async (req, res) => {
    const id = String(req.params.id);
    await getTemplate(ctx, id);
    if (!Buffer.isBuffer(req.body))
      throw invalidImage(
        'Send the PNG or SVG file itself as the body (Content-Type image/png or image/svg+xml).',
      );
    const image = await storeBadgeImage(ctx, { bytes: req.body, declaredType: req.headers['content-type'] });
    const template = await updateTemplate(ctx, id, { imageId: image.id }, ADMIN_ACTOR);
    res.json({
      ...toPublicTemplate(template),
      image: { ...image, url: openBadgeUrls(ctx.config.publicUrl).image(image.id) },
    });
  });
  router.post('/templates/:id/withdraw', async (req, res) => {
    res.json(toPublicTemplate(await withdrawTemplate(ctx, req.params.id, ADMIN_ACTOR)));
  });
  return router;
}
