import express, { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../../../context.js';
import { conflict, HttpError } from '../../../errors.js';
import { LiveEventKeySets } from '../../../lms/canvas/keys.js';
import { LIVE_EVENT_TYPES } from '../../../lms/canvas/mapping.js';
import { MAX_LIVE_EVENT_BYTES, receiveLiveEvent } from '../../../lms/canvas/receive.js';
import {
  dataServicesToken,
  ensureLiveEventsSubscription,
  liveEventsDeliveryUrl,
} from '../../../lms/canvas/subscription.js';
import { lmsOutboundPolicy } from '../../../lti/registration.js';
import { getPlatform } from '../../../platforms/service.js';
import { formatIssues } from '../../../rules/index.js';
import { safeText } from '../../../validation/text.js';
import { requireAdminKey } from '../auth.js';

/**
 * POST /api/v1/webhooks/canvas/:platformId: Canvas Live Events (Data Services, HTTPS delivery with
 * "Sign Payload"), one signed JWT per request. Authorised by the signature alone (no admin key); see
 * receiveLiveEvent for the checks and answers.
 */
export function canvasWebhookRouter(
  ctx: Context,
  keySets = new LiveEventKeySets(lmsOutboundPolicy(ctx.config)),
): Router {
  const router = Router();
  router.post(
    '/webhooks/canvas/:platformId',
    // Canvas does not document the content type of a signed delivery: every body is read raw.
    express.raw({ type: () => true, limit: MAX_LIVE_EVENT_BYTES }),
    async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      res.json(await receiveLiveEvent(ctx, keySets, String(req.params.platformId), raw));
    },
  );
  return router;
}

const subscriptionBody = z.strictObject({
  /** The school's Canvas address, e.g. https://school.instructure.com (the API host, not the LTI issuer). */
  canvasUrl: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }),
  /** The root account's LTI context id (the account in the Data Services API's path). */
  accountId: safeText(200).min(1, 'must not be empty'),
  /** The subscription's ContextId, when Canvas wants another form of the root account's id. */
  contextId: safeText(200).min(1, 'must not be empty').optional(),
});

/**
 * POST /api/v1/platforms/:id/canvas/live-events-subscription (admin key): subscribes a Canvas platform to
 * the Live Events Laurel maps, through Canvas's Data Services API with the tool's own LTI service token
 * (ltijs's client_credentials), so that nobody has to click through Data Services. Answers the
 * subscription's id and whether it was created, widened or already there; 502 with Canvas's answer when
 * Canvas refuses (no Data Services scopes on the developer key, a self-hosted Canvas without the service).
 * Needs the ltijs provider, so it is mounted where that exists: `app.use('/api/v1',
 * canvasSubscriptionRouter(ctx, lti.provider))` in src/laurel.ts.
 */
export function canvasSubscriptionRouter(ctx: Context, ltiProvider: unknown): Router {
  const router = Router();
  router.post(
    '/platforms/:id/canvas/live-events-subscription',
    requireAdminKey(ctx.config.adminApiKey),
    express.json({ limit: '20kb', strict: true }),
    async (req, res) => {
      const platform = await getPlatform(ctx, String(req.params.id));
      if (platform.lms !== 'canvas') throw conflict('Only a Canvas platform has Live Events.');
      const parsed = subscriptionBody.safeParse(req.body ?? {});
      if (!parsed.success)
        throw new HttpError(400, 'invalid_request', 'The body is not valid.', formatIssues(parsed.error));
      const deliveryUrl = liveEventsDeliveryUrl(ctx.config.publicUrl, platform);
      if (!ltiProvider)
        throw new HttpError(503, 'unavailable', 'LTI services are not available in this process.');
      try {
        const accessToken = await dataServicesToken(ltiProvider, platform);
        const result = await ensureLiveEventsSubscription(lmsOutboundPolicy(ctx.config), {
          canvasUrl: parsed.data.canvasUrl,
          accountId: parsed.data.accountId,
          ...(parsed.data.contextId ? { contextId: parsed.data.contextId } : {}),
          deliveryUrl,
          accessToken,
        });
        ctx.logger.info({ platformId: String(platform._id), ...result }, 'canvas live events subscription');
        res.json({ ...result, deliveryUrl, eventTypes: [...LIVE_EVENT_TYPES] });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        ctx.logger.warn(
          { platformId: String(platform._id), err: message },
          'canvas live events subscription failed',
        );
        throw new HttpError(
          502,
          'canvas_refused',
          `Canvas did not take the subscription: ${message.slice(0, 500)}`,
        );
      }
    },
  );
  return router;
}
