import express, { Router, type RequestHandler } from 'express';
import type { Context } from '../../context.js';
import { checkSignatureHeader, ingestGenericEvents, MAX_BODY_BYTES } from '../../events/ingest.js';

/**
 * For every body signed with a webhook secret: a missing, malformed or stale signature header is
 * refused before the body is read into memory (its bytes are let through unread, so the connection
 * stays usable, and the answer is a 401); then the raw bytes, which the signature covers, are read.
 */
export function signedRawBody(ctx: Context): RequestHandler[] {
  return [
    (req, _res, next) => {
      try {
        checkSignatureHeader(req.header('x-laurel-signature'), ctx.now().getTime());
      } catch (err) {
        req.resume();
        throw err;
      }
      next();
    },
    express.raw({ type: () => true, limit: MAX_BODY_BYTES }),
  ];
}

/** POST /api/v1/events: signed with the platform's webhook secret instead of the admin key. */
export function eventsRouter(ctx: Context): Router {
  const router = Router();
  router.post('/events', ...signedRawBody(ctx), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const answer = await ingestGenericEvents(ctx, raw, req.header('x-laurel-signature'));
    res.json(answer);
  });
  return router;
}
