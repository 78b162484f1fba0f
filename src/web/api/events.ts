import express, { Router } from 'express';
import type { Context } from '../../context.js';
import { checkSignatureHeader, ingestGenericEvents, MAX_BODY_BYTES } from '../../events/ingest.js';

/** POST /api/v1/events: signed with the platform's webhook secret instead of the admin key. */
export function eventsRouter(ctx: Context): Router {
  const router = Router();
  router.post(
    '/events',
    // A missing, malformed or stale signature header is refused before the body is read into memory:
    // its bytes are let through unread (so the connection stays usable) and the answer is a 401.
    (req, _res, next) => {
      try {
        checkSignatureHeader(req.header('x-laurel-signature'), ctx.now().getTime());
      } catch (err) {
        req.resume();
        throw err;
      }
      next();
    },
    // The raw bytes are what the signature covers, so the body is parsed only after the check.
    express.raw({ type: () => true, limit: MAX_BODY_BYTES }),
    async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const answer = await ingestGenericEvents(ctx, raw, req.header('x-laurel-signature'));
      res.json(answer);
    },
  );
  return router;
}
