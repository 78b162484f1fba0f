import path from 'node:path';
import { Router } from 'express';
import type { Context } from '../../context.js';
import { credentialsRouter } from './credentials.js';
import { documentsRouter } from './documents.js';
import { admission } from './admission.js';
import { imagesRouter } from './images.js';
import { ob2Router } from './ob2.js';
import { rateLimit } from './rateLimit.js';
import { viewsRoot } from '../views.js';

/**
 * Budgets per client network per minute (an IPv4 address, an IPv6 /64). A school often sits
 * behind one address, so they are generous; what they stop is one client hammering the costly
 * endpoints. And how many requests of each kind one process works on at once (admission.ts).
 */
export type PublicRouterOptions = {
  /** Verification pages (each one verifies a credential live). */
  pageLimit?: number;
  /** Signed JSON, issuer and status documents, baked downloads, OB 2.0 objects. */
  documentLimit?: number;
  /** Badge images (immutable and cached by browsers, so rarely asked twice). */
  imageLimit?: number;
  /** Verification pages in progress at once in this process (the rest wait). Default 4. */
  pageConcurrency?: number;
  /** Documents and images in progress at once in this process (the rest wait). Default 16. */
  documentConcurrency?: number;
  /** Requests waiting for a turn, per kind, before the next is answered 503. Default 256. */
  queue?: number;
};

const PUBLIC_PATH = /^\/(credentials|issuers|achievements|status-lists|ob2|images)(\/|$)/;
const PAGE_PATH = /^\/credentials\/[^/]+\/?$/;

/**
 * Everything public, outside the LMS: credential pages and downloads, the documents verifiers
 * fetch, OB 2.0 hosted objects and badge images. Admitted a few at a time per process (so a flood
 * waits its turn instead of starving health checks and launches), then rate-limited per client
 * network through MongoDB, so the budget holds across every web process.
 */
export function publicRouter(ctx: Context, options: PublicRouterOptions = {}): Router {
  const pages = rateLimit(ctx, { bucket: 'pages', limit: options.pageLimit ?? 120, windowMs: 60_000 });
  const images = rateLimit(ctx, { bucket: 'images', limit: options.imageLimit ?? 3000, windowMs: 60_000 });
  const documents = rateLimit(ctx, {
    bucket: 'documents',
    limit: options.documentLimit ?? 600,
    windowMs: 60_000,
  });
  const queue = options.queue ?? 256;
  const pageTurns = admission({ concurrency: options.pageConcurrency ?? 4, queue });
  const documentTurns = admission({ concurrency: options.documentConcurrency ?? 16, queue });
  const router = Router();
  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (!PUBLIC_PATH.test(req.path)) return next();
    const page = PAGE_PATH.test(req.path) && req.accepts(['text/html', 'application/json']) === 'text/html';
    const limit = req.path.startsWith('/images/') ? images : page ? pages : documents;
    return (page ? pageTurns : documentTurns)(req, res, (err?: unknown) =>
      err ? next(err) : limit(req, res, next),
    );
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
