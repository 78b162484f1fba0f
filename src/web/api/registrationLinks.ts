import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../../context.js';
import {
  createRegistrationLink,
  listRegistrationLinks,
  REGISTRATION_LINK_MINUTES,
  revokeRegistrationLink,
  toPublicRegistrationLink,
} from '../../platforms/service.js';
import { safeText } from '../../validation/text.js';
import { parseOr400 } from '../validation.js';
import { ADMIN_ACTOR } from './auth.js';
import { afterCursor, objectIdParam, page, parseQuery } from './paging.js';

const { min, max } = REGISTRATION_LINK_MINUTES;

/** The body of POST /api/v1/registration-links (and the CLI's `registration-link create`). */
export const registrationLinkInputSchema = z.strictObject({
  name: safeText(200).min(1, 'must not be empty').optional(),
  lms: z.enum(['moodle', 'canvas', 'other'], { error: 'must be moodle, canvas or other' }).optional(),
  expiresInMinutes: z
    .number({ error: `must be a whole number of minutes (${min}-${max})` })
    .int(`must be a whole number of minutes (${min}-${max})`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max} (30 days)`)
    .optional(),
});

export type RegistrationLinkInput = z.infer<typeof registrationLinkInputSchema>;

/**
 * /api/v1/registration-links: one-time, expiring links that authorise an LTI Dynamic Registration.
 * The URL (with its code) is answered once, at creation; lists show the links without it.
 */
export function registrationLinksRouter(ctx: Context): Router {
  const router = Router();
  router.post('/registration-links', async (req, res) => {
    const input = parseOr400(registrationLinkInputSchema, req.body ?? {}, 'registration link');
    const { link, url } = await createRegistrationLink(ctx, input, ADMIN_ACTOR);
    res.status(201).json({ ...toPublicRegistrationLink(link, ctx.now()), url });
  });
  router.get('/registration-links', async (req, res) => {
    const q = parseQuery({ state: z.enum(['open', 'used', 'expired']).optional() }, req.query);
    const docs = await listRegistrationLinks(ctx, {
      state: q.state,
      after: afterCursor(q.cursor),
      limit: q.limit + 1,
    });
    const now = ctx.now();
    res.json(page(docs, q.limit, (d) => toPublicRegistrationLink(d, now)));
  });
  router.delete('/registration-links/:id', async (req, res) => {
    const id = parseOr400(z.object({ id: objectIdParam }), req.params, 'path').id;
    await revokeRegistrationLink(ctx, id, ADMIN_ACTOR);
    res.status(204).end();
  });
  return router;
}
