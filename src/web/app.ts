import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { requestLogger } from './requestLog.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { HttpError } from '../errors.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { healthRouter, type ReadinessCheck } from './health.js';
import { configureViews } from './views.js';
import { hstsOverHttps, NO_FRAMING } from './framing.js';

export type AppDeps = { config: Config; logger: Logger; checkReady: ReadinessCheck };

/** The express app: security headers, request logging, views, and the routers Laurel mounts. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustProxy);
  app.use(requestLogger(deps.logger));
  // A fresh nonce per answer lets a page run its one inline script (an LTI auto-submitting form) under the CSP.
  app.use((_req, res, next) => {
    res.locals.cspNonce = randomBytes(16).toString('base64url');
    next();
  });
  app.use(
    helmet({
      // frame-ancestors says who may frame a page (framing.ts); X-Frame-Options cannot name an LMS.
      frameguard: false,
      // Sent by hstsOverHttps, only where the request came over HTTPS.
      strictTransportSecurity: false,
      contentSecurityPolicy: {
        directives: {
          // No framing unless framingPolicy allows the LMS that shows the page.
          'frame-ancestors': [NO_FRAMING],
          // LTI answers (deep linking) are forms posted back to the LMS.
          'form-action': ["'self'", 'https:', 'http:'],
          'img-src': ["'self'", 'data:', 'https:'],
          'script-src': [
            "'self'",
            (_req, res) =>
              `'nonce-${String((res as ServerResponse & { locals: { cspNonce: string } }).locals.cspNonce)}'`,
          ],
        },
      },
      crossOriginEmbedderPolicy: false,
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    }),
  );
  app.use(hstsOverHttps);
  configureViews(app);
  app.use(healthRouter(deps.checkReady));
  if (deps.config.role !== 'worker')
    app.get('/', (_req, res) => {
      res.render('home', { title: 'Laurel', publicUrl: deps.config.publicUrl });
    });
  return app;
}

/** Mounted last: 404 and error answers, JSON under /api, pages elsewhere; never a stack trace. */
export function finishApp(app: Express, logger: Logger): void {
  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `Nothing is at ${req.path}.`)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const httpError = toHttpError(err);
    if (httpError.code === 'database_unavailable') (req.log ?? logger).warn({ err }, 'database unavailable');
    else if (httpError.status >= 500) (req.log ?? logger).error({ err }, 'request failed');
    if (res.headersSent) return;
    // The request may be sent again unchanged once the database answers (the LMS plugins do).
    if (httpError.status === 503 && !res.hasHeader('Retry-After')) res.set('Retry-After', '10');
    // An answer before the body was read (a 404, a refused launch): close the connection, or Node
    // would go on reading and dropping however much the sender still sends.
    const announced =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (announced && !req.complete) res.set('Connection', 'close');
    const body = { error: httpError.code, message: httpError.message, details: httpError.details };
    if (req.path.startsWith('/api/') || !req.accepts('html')) {
      res.status(httpError.status).json(body);
      return;
    }
    res
      .status(httpError.status)
      .render('error', { title: titleFor(httpError.status), ...body, status: httpError.status });
  });
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (isDatabaseUnavailable(err))
    return new HttpError(
      503,
      'database_unavailable',
      'Laurel cannot reach its database right now. Nothing was stored; please send this again in a moment.',
    );
  const e = err as { status?: number; type?: string; message?: string };
  if (e?.type === 'entity.too.large')
    return new HttpError(413, 'too_large', 'The request body is too large.');
  if (e?.type === 'entity.parse.failed')
    return new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500)
    return new HttpError(e.status, 'invalid_request', e.message ?? 'The request was refused.');
  return new HttpError(500, 'internal_error', 'Something went wrong on our side. Please try again.');
}

function titleFor(status: number): string {
  if (status === 403) return 'Not allowed';
  if (status === 404) return 'Not found';
  if (status === 401) return 'Sign-in needed';
  if (status < 500) return 'That did not work';
  return 'Something went wrong';
}
