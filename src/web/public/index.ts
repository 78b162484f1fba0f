import path from 'node:path';
import { Router } from 'express';
import type { Context } from '../../context.js';
import { credentialsRouter } from './credentials.js';
import { documentsRouter } from './documents.js';
import { imagesRouter } from './images.js';
import { ob2Router } from './ob2.js';
import { rateLimit } from './rateLimit.js';
import { viewsRoot } from '../views.js';

/**
 * Budgets per client address per minute. A school often sits behind one address, so they are
 * generous; what they stop is one client hammering the costly endpoints.
 */
export type PublicRouterOptions = {
  /** Verification pages (each one verifies a credential live). */
  pageLimit?: number;
  /** Signed JSON, issuer and status documents, baked downloads, OB 2.0 objects. */
  documentLimit?: number;
  /** Badge images (immutable and cached by browsers, so rarely asked twice). */
  imageLimit?: number;
};

const PUBLIC_PATH = /^\/(credentials|issuers|achievements|status-lists|ob2|images)(\/|$)/;
const PAGE_PATH = /^\/credentials\/[^/]+\/?$/;

/**
 * Everything public, outside the LMS: credential pages and downloads, the documents verifiers
 * fetch, OB 2.0 hosted objects and badge images. Rate-limited per client address through
 * MongoDB, so the budget holds across every web process.
 */
export function publicRouter(ctx: Context, options: PublicRouterOptions = {}): Router {
  const pages = rateLimit(ctx, { bucket: 'pages', limit: options.pageLimit ?? 120, windowMs: 60_000 });
  const images = rateLimit(ctx, { bucket: 'images', limit: options.imageLimit ?? 3000, windowMs: 60_000 });
  const documents = rateLimit(ctx, {
    bucket: 'documents',
    limit: options.documentLimit ?? 600,
    windowMs: 60_000,
  });
  const router = Router();
  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (!PUBLIC_PATH.test(req.path)) return next();
    if (req.path.startsWith('/images/')) return images(req, res, next);
    const page = PAGE_PATH.test(req.path) && req.accepts(['text/html', 'application/json']) === 'text/html';
    return (page ? pages : documents)(req, res, next);
  });
  router.get('/public.css', (_req, res) => {
    res.sendFile(path.join(viewsRoot(), 'public', 'public.css'), { maxAge: '1h' });
  });
  router.use(credentialsRouter(ctx));
  router.use(documentsRouter(ctx));
  router.use(ob2Router(ctx));
  router.use(imagesRouter(ctx));
  return router;
}
