import { Types } from 'mongoose';
import { z } from 'zod';
import type { Actor } from '../audit/record.js';
import { revokeCredential } from '../awards/revoke.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { ProviderSettingsDoc } from '../db/models/providerSettings.js';
import { HttpError, isDuplicateKey } from '../errors.js';
import { accredibleExpired } from './accredible.js';
import type { CredlyBadge, CredlyEvent } from './credly.js';
import { ProviderError, defaultProviderDeps, type ProviderDeps } from './http.js';
import { storedClient } from './settings.js';
import { fromCredly, upsertUpstreamTemplate } from './sync.js';

/**
 * Credly's webhook (POST /api/v1/webhooks/credly/:platformId). Credly signs nothing, so the body is
 * only a hint: Laurel accepts it for a platform whose Credly organisation it names, then fetches the
 * event from Credly with the platform's own token and acts on what Credly answers. A forged event id
 * is unknown to Credly (404) and refused; the same event twice is applied once.
 */

export const credlyNotificationSchema = z.object({
  id: z.string().min(1).max(200),
  organization_id: z.string().min(1).max(200),
  event_type: z.string().min(1).max(200),
  occurred_at: z.string().max(100).optional(),
});

const SERVICE: Actor = { type: 'system', id: 'credly', name: 'Credly' };

export type CredlyWebhookAnswer = { received: true; applied: boolean; note: string };

export async function receiveCredlyWebhook(
  ctx: Context,
  platformIdParam: string,
  body: unknown,
  deps: ProviderDeps = defaultProviderDeps(ctx),
): Promise<CredlyWebhookAnswer> {
  const parsed = credlyNotificationSchema.safeParse(body);
  if (!parsed.success)
    throw new HttpError(
      400,
      'invalid_request',
      'The body is not a Credly event notification (id, organization_id, event_type).',
    );
  const note = parsed.data;
  const settings = Types.ObjectId.isValid(platformIdParam)
    ? await ctx.models.providerSettings
        .findOne({ platformId: new Types.ObjectId(platformIdParam), provider: 'credly' })
        .lean<ProviderSettingsDoc>()
    : null;
  // Unknown platform or another organisation: refused (404, never 500, so Credly does not retry for days).
  if (!settings || settings.organizationId !== note.organization_id) {
    ctx.logger.warn(
      { platformId: platformIdParam, eventId: note.id },
      'Credly webhook for an unknown organisation refused',
    );
    throw new HttpError(404, 'not_found', 'No Credly organisation of that id is set up for this platform.');
  }
  const client = storedClient(ctx, settings, deps);
  if (client.provider !== 'credly') throw new Error('unreachable: Credly settings gave another client');
  let event: CredlyEvent;
  try {
    event = await client.client.event(note.id);
  } catch (err) {
    if (err instanceof ProviderError && (err.kind === 'not-found' || err.kind === 'validation')) {
      ctx.logger.warn(
        { platformId: platformIdParam, eventId: note.id },
        'Credly webhook refused: Credly does not know the event',
      );
      throw new HttpError(404, 'not_found', 'Credly does not know this event.');
    }
    // Credly unreachable now: a 503 makes it deliver the event again later.
    throw new HttpError(
      503,
      'provider_unavailable',
      'Credly could not be asked about this event now; send it again later.',
    );
  }
  if (event.organization_id !== settings.organizationId)
    throw new HttpError(404, 'not_found', 'The event belongs to another Credly organisation.');

  try {
    await ctx.models.providerEvents.create({
      platformId: settings.platformId,
      provider: 'credly',
      eventId: event.id,
      eventType: event.event_type,
      occurredAt: event.occurred_at ? new Date(event.occurred_at) : null,
      receivedAt: ctx.now(),
    });
  } catch (err) {
    if (isDuplicateKey(err)) return { received: true, applied: false, note: 'already applied' };
    throw err;
  }
  return applyCredlyEvent(ctx, settings, event);
}

async function applyCredlyEvent(
  ctx: Context,
  settings: ProviderSettingsDoc,
  event: CredlyEvent,
): Promise<CredlyWebhookAnswer> {
  const platformId = settings.platformId;
  if (event.event_type.startsWith('badge_template.') && event.badge_template) {
    const t = event.badge_template;
    const deleted = event.event_type === 'badge_template.deleted';
    const outcome = await upsertUpstreamTemplate(ctx, platformId, 'credly', {
      ...fromCredly(t),
      externalState: deleted ? 'deleted' : t.state,
    });
    return { received: true, applied: outcome !== 'unchanged', note: `template ${outcome}` };
  }
  if (event.event_type.startsWith('badge.') && event.badge) {
    const badge = event.badge;
    const credential = await ctx.models.credentials
      .findOne({ platformId, externalId: badge.id })
      .lean<CredentialDoc>();
    if (!credential) {
      ctx.logger.info(
        { platformId: String(platformId), badgeId: badge.id, eventId: event.id },
        'Credly event names a badge Laurel did not issue; ignored',
      );
      return { received: true, applied: false, note: 'unknown badge' };
    }
    const state = event.event_type === 'badge.deleted' ? 'deleted' : badge.state;
    return applyBadgeState(ctx, credential, state, badge);
  }
  ctx.logger.info(
    { eventType: event.event_type, eventId: event.id },
    'Credly event of a type Laurel does not use; ignored',
  );
  return { received: true, applied: false, note: 'type not used' };
}

/** A badge's state at the service, applied to its credential: revoked or deleted there revokes it here. */
async function applyBadgeState(
  ctx: Context,
  credential: CredentialDoc,
  state: string,
  badge: Pick<CredlyBadge, 'revocation_reason'> | null,
): Promise<CredlyWebhookAnswer> {
  const gone = state === 'revoked' || state === 'deleted';
  await ctx.models.credentials.updateOne({ _id: credential._id }, { $set: { externalState: state } });
  if (gone && ['awarded', 'issued', 'failed'].includes(credential.status)) {
    const reason =
      state === 'deleted'
        ? 'Deleted at the badge service'
        : `Revoked at the badge service${badge?.revocation_reason ? `: ${badge.revocation_reason}` : ''}`;
    await revokeCredential(ctx, String(credential._id), reason, SERVICE, {
      platformId: credential.platformId,
    });
    return { received: true, applied: true, note: 'credential revoked' };
  }
  return { received: true, applied: state !== credential.externalState, note: `badge ${state}` };
}

/**
 * Accredible offers no webhooks: a periodic run reads back the credentials Laurel issued there and
 * applies what changed (expired or deleted there = revoked here). At most `limit` per run, the ones
 * read longest ago first.
 */
export async function reconcileAccredible(
  ctx: Context,
  deps: ProviderDeps = defaultProviderDeps(ctx),
  limit = 200,
): Promise<{ checked: number; revoked: number }> {
  const all = await ctx.models.providerSettings
    .find({ provider: 'accredible' })
    .lean<ProviderSettingsDoc[]>();
  const totals = { checked: 0, revoked: 0 };
  for (const settings of all) {
    const client = storedClient(ctx, settings, deps);
    if (client.provider !== 'accredible') continue;
    const templates = await ctx.models.templates
      .find({ platformId: settings.platformId, source: 'accredible' }, { _id: 1 })
      .lean();
    const live = await ctx.models.credentials
      .find({
        platformId: settings.platformId,
        templateId: { $in: templates.map((t) => t._id) },
        status: 'issued',
        externalId: { $ne: null },
      })
      .sort({ issuedAt: 1 })
      .limit(limit)
      .lean<CredentialDoc[]>();
    for (const c of live) {
      totals.checked++;
      try {
        const there = await client.client.credential(c.externalId!);
        // An expiry Laurel set itself (the template's) is not a revocation.
        const ownExpiry = c.expiresAt && there.expired_on === c.expiresAt.toISOString().slice(0, 10);
        if (accredibleExpired(there, deps.now()) && !ownExpiry) {
          await applyBadgeState(ctx, c, 'revoked', null);
          totals.revoked++;
        }
      } catch (err) {
        if (err instanceof ProviderError && err.kind === 'not-found') {
          await applyBadgeState(ctx, c, 'deleted', null);
          totals.revoked++;
        } else
          ctx.logger.warn(
            { credentialId: String(c._id), error: (err as Error).message },
            'Accredible reconciliation could not read a credential',
          );
      }
    }
  }
  return totals;
}
