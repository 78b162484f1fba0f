import { randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import { SYSTEM } from '../audit/record.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { PersonDoc } from '../db/models/person.js';
import type { ProviderName, ProviderSettingsDoc } from '../db/models/providerSettings.js';
import type { TemplateDoc } from '../db/models/template.js';
import { JOBS } from '../jobs/names.js';
import { wakeJob } from '../jobs/queue.js';
import { accredibleDate, accredibleExpired, type AccredibleClient } from './accredible.js';
import { credlyTime, type CredlyClient } from './credly.js';
import { ProviderError, defaultProviderDeps, type ProviderDeps } from './http.js';
import { storedClient, type ProviderClient } from './settings.js';

/**
 * Issuing and revoking at Credly and Accredible, exactly once, from the credential's own outbox
 * (`provider-issue`, `provider-revoke`), as local OB 3.0 issuing does (src/issuers/openbadges/issue.ts):
 * - a run claims a credential with a lease and a token, so one worker at a time calls the service;
 * - before each issuing call whose outcome could stay unknown (a timeout, a crash), `externalPending`
 *   is stored; the next attempt then looks the learner's badge up at the service before posting again;
 * - a 5xx or network failure waits, in `issuingUntil`, a delay doubling per attempt up to an hour (or
 *   a 503's Retry-After, when longer); a 429 waits what Retry-After says; after MAX_PROVIDER_ATTEMPTS,
 *   about a day of trying, the credential becomes `failed`, so an outage of hours delays issuing only;
 * - a refusal of the content (422, 4xx) is not retried: the credential becomes `failed` at once with
 *   the service's message, and POST /credentials/:id/retry tries again after the fix.
 */

/** 10 s, 20 s … 42 min, then hourly: 32 attempts span about 23 hours (test/reliability/provider-outage). */
export const MAX_PROVIDER_ATTEMPTS = 32;
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 60 * 60_000;
/** With no Retry-After: Credly counts per minute, Accredible per 30 s bucket. */
const RATE_LIMIT_DEFAULT_MS = 60_000;

export const backoffMs = (attempts: number) =>
  Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempts - 1));

const label = (p: ProviderName) => (p === 'credly' ? 'Credly' : 'Accredible');

/** What was found or made at the service. */
type External = { id: string; url: string | null; state: string };

/**
 * Awards of Credly and Accredible templates made before they had an outbox (or whose entry was lost)
 * are put into it; the recurring run calls this before draining.
 */
export async function requeueProviderAwards(ctx: Context): Promise<number> {
  const templates = await ctx.models.templates
    .find({ source: { $in: ['credly', 'accredible'] } }, { _id: 1 })
    .lean();
  if (templates.length === 0) return 0;
  const result = await ctx.models.credentials.updateMany(
    { templateId: { $in: templates.map((t) => t._id) }, status: 'awarded', outbox: null },
    { $set: { outbox: 'provider-issue' } },
  );
  return result.modifiedCount;
}

/** Runs the outbox until it is empty or the budget is spent; answers what it did. */
export async function drainProviderOutbox(
  ctx: Context,
  deps: ProviderDeps = defaultProviderDeps(ctx),
  options: { budget?: number; platformId?: Types.ObjectId } = {},
): Promise<{ done: number; retrying: number; failed: number }> {
  const totals = { done: 0, retrying: 0, failed: 0 };
  for (let n = 0; n < (options.budget ?? 200); n++) {
    const claimed = await claimOne(ctx, deps, options.platformId);
    if (!claimed) break;
    const outcome = await runOne(ctx, claimed, deps);
    totals[outcome]++;
  }
  return totals;
}

async function claimOne(
  ctx: Context,
  deps: ProviderDeps,
  platformId?: Types.ObjectId,
): Promise<CredentialDoc | null> {
  const now = deps.now();
  return ctx.models.credentials
    .findOneAndUpdate(
      {
        ...(platformId ? { platformId } : {}),
        $and: [
          { $or: [{ outbox: 'provider-issue', status: 'awarded' }, { outbox: 'provider-revoke' }] },
          { $or: [{ issuingUntil: null }, { issuingUntil: { $lte: now } }] },
        ],
      },
      {
        $set: {
          // A crashed worker's lease lapses after CLAIM_LEASE_MS (longer than a call's 15 s timeout).
          issuingUntil: new Date(now.getTime() + ctx.config.claimLeaseMs),
          issuingClaim: randomBytes(12).toString('hex'),
        },
      },
      { returnDocument: 'after', sort: { awardedAt: 1 } },
    )
    .lean<CredentialDoc>();
}

async function runOne(
  ctx: Context,
  c: CredentialDoc,
  deps: ProviderDeps,
): Promise<'done' | 'retrying' | 'failed'> {
  const mine = { _id: c._id, issuingClaim: c.issuingClaim };
  const release = { issuingUntil: null, issuingClaim: null };
  const template = await ctx.models.templates.findById(c.templateId).lean<TemplateDoc>();
  const provider = template?.source;
  if (!template || provider === 'local' || !provider || !template.externalId) {
    const error = 'Its template is not a Credly or Accredible badge (or has lost its id there).';
    await ctx.models.credentials.updateOne(mine, {
      $set: {
        ...release,
        outbox: null,
        error,
        ...(c.outbox === 'provider-issue' ? { status: 'failed' } : {}),
      },
    });
    return 'failed';
  }
  const settings = await ctx.models.providerSettings
    .findOne({ platformId: c.platformId, provider })
    .lean<ProviderSettingsDoc>();
  const revoking = c.outbox === 'provider-revoke';
  if (!settings) {
    const error = `${label(provider)} is not set up for this platform: an administrator saves its settings, then retries.`;
    await ctx.models.credentials.updateOne(mine, {
      $set: { ...release, outbox: null, error, ...(revoking ? {} : { status: 'failed' }) },
    });
    if (!revoking) await auditFailed(ctx, c, error);
    return 'failed';
  }
  const client = storedClient(ctx, settings, deps);
  try {
    if (revoking) {
      const external = await revokeAt(ctx, client, c, template, deps);
      await ctx.models.credentials.updateOne(mine, {
        $set: {
          ...release,
          outbox: null,
          error: null,
          externalPending: false,
          ...(external ? { externalId: external.id, externalState: 'revoked' } : {}),
        },
      });
      if (external)
        await auditOf(ctx, c, 'credential.revoked-at-service', null, { provider, externalId: external.id });
      return 'done';
    }
    const external = await issueAt(ctx, client, c, template, deps);
    const set = {
      ...release,
      externalId: external.id,
      externalUrl: external.url,
      externalState: external.state,
      externalPending: false,
      error: null,
    };
    const stored = await ctx.models.credentials.updateOne(
      { ...mine, status: 'awarded' },
      { $set: { ...set, status: 'issued', issuedAt: deps.now(), outbox: null, issueAttempts: 0 } },
    );
    if (stored.modifiedCount === 1) {
      await auditOf(ctx, c, 'credential.issued', null, { provider, externalId: external.id });
      return 'done';
    }
    // Revoked while the service issued it: the badge there is revoked next.
    await ctx.models.credentials.updateOne(mine, {
      $set: { ...set, outbox: 'provider-revoke' },
    });
    await wakeJob(ctx.jobs, JOBS.providerOutbox);
    return 'done';
  } catch (err) {
    const outcome = await failed(ctx, c, provider, revoking, err, deps);
    // Revoked while an issuing call of unknown outcome was out: revoke whatever it may have made.
    if (!revoking)
      await ctx.models.credentials.updateOne(
        { _id: c._id, status: 'revoked', externalPending: true, outbox: null },
        { $set: { outbox: 'provider-revoke' } },
      );
    return outcome;
  }
}

async function failed(
  ctx: Context,
  c: CredentialDoc,
  provider: ProviderName,
  revoking: boolean,
  err: unknown,
  deps: ProviderDeps,
): Promise<'retrying' | 'failed'> {
  const mine = { _id: c._id, issuingClaim: c.issuingClaim };
  const pe = err instanceof ProviderError ? err : null;
  const what = revoking ? 'revoke the badge' : 'issue the badge';
  const message = pe
    ? `${label(provider)} ${pe.status ? `answered ${pe.status}` : 'failed'}: ${pe.message}`
    : `Could not ${what}: ${err instanceof Error ? err.message : String(err)}`;
  const retryable = pe ? pe.retryable : true;
  // Waiting on a rate limit is the service's request, not a failure of ours: it costs no attempt.
  const attempts = (c.issueAttempts ?? 0) + (pe?.kind === 'rate-limited' ? 0 : 1);
  ctx.logger.warn(
    {
      credentialId: String(c._id),
      provider,
      status: pe?.status ?? null,
      kind: pe?.kind ?? 'error',
      attempts,
    },
    `${label(provider)}: could not ${what}`,
  );
  if (retryable && attempts < MAX_PROVIDER_ATTEMPTS) {
    // A 503 may say how long the outage lasts: no sooner than that (at most the longest backoff).
    const wait =
      pe?.kind === 'rate-limited'
        ? (pe.retryAfterMs ?? RATE_LIMIT_DEFAULT_MS)
        : Math.max(backoffMs(attempts), Math.min(pe?.retryAfterMs ?? 0, BACKOFF_MAX_MS));
    await ctx.models.credentials.updateOne(mine, {
      $set: {
        issueAttempts: attempts,
        error: message.slice(0, 500),
        issuingClaim: null,
        issuingUntil: new Date(deps.now().getTime() + wait),
      },
    });
    return 'retrying';
  }
  await ctx.models.credentials.updateOne(mine, {
    $set: {
      issueAttempts: attempts,
      error: message.slice(0, 500),
      issuingClaim: null,
      issuingUntil: null,
      outbox: null,
      ...(revoking ? {} : { status: 'failed' }),
    },
  });
  if (revoking)
    await auditOf(ctx, c, 'credential.revoke-at-service-failed', message.slice(0, 500), { provider });
  else await auditFailed(ctx, c, message);
  return 'failed';
}

const auditFailed = (ctx: Context, c: CredentialDoc, message: string) =>
  auditOf(ctx, c, 'credential.failed', message.slice(0, 500), {});

async function auditOf(
  ctx: Context,
  c: CredentialDoc,
  action: string,
  reason: string | null,
  details: Record<string, unknown>,
): Promise<void> {
  await ctx.models.audit.create({
    at: ctx.now(),
    actor: SYSTEM,
    action,
    platformId: c.platformId,
    courseRef: c.courseRef,
    target: { type: 'credential', id: String(c._id) },
    reason,
    details,
  });
}

/** The learner's id at the service: the person, so that a duplicate is recognised there too. */
const earnerId = (c: CredentialDoc) => String(c.personId);

/** First and last name as Credly wants them, from what the LMS said. */
export function splitName(name: string | null | undefined, email: string): { first: string; last: string } {
  const words = (name ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length >= 2) return { first: words.slice(0, -1).join(' '), last: words.at(-1)! };
  const only = words[0] ?? email.split('@')[0]!;
  return { first: only, last: only };
}

/** A badge of the learner at the service that is still valid, if any (the look-up before a retry). */
async function lookUp(
  client: ProviderClient,
  c: CredentialDoc,
  template: TemplateDoc,
  now: Date,
): Promise<External | null> {
  if (client.provider === 'credly') {
    const badges = await client.client.findBadges(earnerId(c), template.externalId!);
    const live = badges.find((b) => b.state !== 'revoked' && b.state !== 'rejected');
    return live ? { id: live.id, url: client.client.badgeUrl(live), state: live.state } : null;
  }
  const found = await client.client.find(earnerId(c), Number(template.externalId));
  const live = found.find((x) => !accredibleExpired(x, now));
  return live ? { id: String(live.id), url: live.url ?? null, state: 'issued' } : null;
}

async function issueAt(
  ctx: Context,
  client: ProviderClient,
  c: CredentialDoc,
  template: TemplateDoc,
  deps: ProviderDeps,
): Promise<External> {
  if (c.externalId)
    return { id: c.externalId, url: c.externalUrl ?? null, state: c.externalState ?? 'issued' };
  if (c.externalPending) {
    const earlier = await lookUp(client, c, template, deps.now());
    if (earlier) return earlier;
  }
  const person = await ctx.models.people.findById(c.personId).lean<PersonDoc>();
  const email = person?.email ?? null;
  if (!email)
    throw new ProviderError(
      client.provider,
      'validation',
      `needs the learner's e-mail, and the LMS gave none for ${c.userId}; once it is known (a launch, a roster sync, or the learner's backpack), retry`,
    );
  // From here the outcome may stay unknown: the next attempt looks before it posts.
  await ctx.models.credentials.updateOne(
    { _id: c._id, issuingClaim: c.issuingClaim },
    { $set: { externalPending: true } },
  );
  return client.provider === 'credly'
    ? issueAtCredly(client.client, c, template, email, person?.name ?? null)
    : issueAtAccredible(client.client, c, template, email, person?.name ?? null);
}

async function issueAtCredly(
  client: CredlyClient,
  c: CredentialDoc,
  template: TemplateDoc,
  email: string,
  name: string | null,
): Promise<External> {
  const { first, last } = splitName(name, email);
  try {
    const badge = await client.issue({
      recipient_email: email,
      issued_to_first_name: first,
      issued_to_last_name: last,
      badge_template_id: template.externalId!,
      issued_at: credlyTime(c.awardedAt),
      issuer_earner_id: earnerId(c),
      ...(c.expiresAt ? { expires_at: credlyTime(c.expiresAt) } : {}),
    });
    return { id: badge.id, url: client.badgeUrl(badge), state: badge.state };
  } catch (err) {
    // A duplicate is refused with a 422: the badge exists already; adopt it.
    if (err instanceof ProviderError && err.kind === 'validation') {
      const badges = await client.findBadges(earnerId(c), template.externalId!).catch(() => []);
      const live = badges.find((b) => b.state !== 'revoked' && b.state !== 'rejected');
      if (live) return { id: live.id, url: client.badgeUrl(live), state: live.state };
    }
    throw err;
  }
}

async function issueAtAccredible(
  client: AccredibleClient,
  c: CredentialDoc,
  template: TemplateDoc,
  email: string,
  name: string | null,
): Promise<External> {
  const credential = await client.create({
    recipient: { name: name?.trim() || email, email, id: earnerId(c) },
    group_id: Number(template.externalId),
    issued_on: accredibleDate(c.awardedAt),
    ...(c.expiresAt ? { expired_on: accredibleDate(c.expiresAt) } : {}),
    complete: true,
  });
  return { id: String(credential.id), url: credential.url ?? null, state: 'issued' };
}

/** Revokes at the service; answers the badge revoked, or null when there was none. */
async function revokeAt(
  ctx: Context,
  client: ProviderClient,
  c: CredentialDoc,
  template: TemplateDoc,
  deps: ProviderDeps,
): Promise<External | null> {
  let id = c.externalId ?? null;
  if (!id && c.externalPending) id = (await lookUp(client, c, template, deps.now()))?.id ?? null;
  if (!id) return null;
  const reason = c.revokedReason ?? 'Revoked';
  try {
    if (client.provider === 'credly') await client.client.revoke(id, reason);
    else await client.client.expire(id, deps.now());
  } catch (err) {
    // Gone there already: nothing is left to revoke.
    if (err instanceof ProviderError && err.kind === 'not-found') return { id, url: null, state: 'revoked' };
    // Revoked there already (say, by hand): Credly refuses a second revocation.
    if (err instanceof ProviderError && err.kind === 'validation' && client.provider === 'credly') {
      const badge = await client.client.badge(id);
      if (badge.state === 'revoked') return { id, url: null, state: 'revoked' };
    }
    throw err;
  }
  ctx.logger.info({ credentialId: String(c._id), provider: client.provider }, 'badge revoked at the service');
  return { id, url: null, state: 'revoked' };
}

/**
 * Called when a credential is revoked (src/awards/revoke.ts): a badge of Credly or Accredible is
 * revoked there too, from the outbox. One revoked there first (a webhook) is left alone.
 */
export async function queueProviderRevoke(ctx: Context, revoked: CredentialDoc): Promise<void> {
  const template = await ctx.models.templates
    .findById(revoked.templateId, { source: 1 })
    .lean<Pick<TemplateDoc, 'source'>>();
  if (!template || template.source === 'local') return;
  if (revoked.externalState === 'revoked' || revoked.externalState === 'deleted') return;
  const atService = !!revoked.externalId || revoked.externalPending === true;
  await ctx.models.credentials.updateOne(
    { _id: revoked._id, status: 'revoked' },
    { $set: { outbox: atService ? 'provider-revoke' : null } },
  );
  if (atService) await wakeJob(ctx.jobs, JOBS.providerOutbox);
}
