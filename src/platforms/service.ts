import { createHash, randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { recordAudit, type Actor } from '../audit/record.js';
import type { Context } from '../context.js';
import {
  deploymentPolicyOf,
  isActivePlatform,
  type DeploymentPolicy,
  type LmsKind,
  type PendingDeployment,
  type PlatformDoc,
  type PlatformStatus,
} from '../db/models/platform.js';
import type { RegistrationLinkDoc } from '../db/models/registrationLink.js';
import { conflict, HttpError, notFound, isDuplicateKey } from '../errors.js';
import type { PlatformInput } from './schema.js';

/** How long the secret before a rotation keeps working, so LMS plugins can be updated. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

export type PublicPlatform = Omit<
  PlatformDoc,
  | '_id'
  | 'webhookSecretSealed'
  | 'previousWebhookSecretSealed'
  | 'previousSecretUntil'
  | 'status'
  | 'suggestedName'
  | 'deploymentPolicy'
  | 'pendingDeployments'
  | 'sameLmsAs'
> & {
  id: string;
  status: PlatformStatus;
  suggestedName?: string;
  deploymentPolicy: DeploymentPolicy;
  pendingDeployments: PendingDeployment[];
  /** Another registration of the same LMS whose courses and people this one shares. */
  sameLmsAs: string | null;
};

/** Hooks other parts run when a platform comes, is approved, or goes (ltijs keeps its own copy). */
export type PlatformHooks = {
  registered?(platform: PlatformDoc): Promise<void>;
  approved?(platform: PlatformDoc): Promise<void>;
  deleted?(platform: PlatformDoc): Promise<void>;
};

export function toPublicPlatform(p: PlatformDoc): PublicPlatform {
  return {
    id: String(p._id),
    name: p.name,
    lms: p.lms,
    issuer: p.issuer,
    clientId: p.clientId,
    authLoginUrl: p.authLoginUrl,
    authTokenUrl: p.authTokenUrl,
    jwksUrl: p.jwksUrl,
    deploymentIds: p.deploymentIds,
    deploymentPolicy: deploymentPolicyOf(p),
    pendingDeployments: (p.pendingDeployments ?? []).map((d) => ({
      deploymentId: d.deploymentId,
      firstSeenAt: d.firstSeenAt,
      lastSeenAt: d.lastSeenAt,
    })),
    sameLmsAs: p.sameLmsAs ? String(p.sameLmsAs) : null,
    registeredBy: p.registeredBy,
    status: p.status ?? 'active',
    ...(p.suggestedName ? { suggestedName: p.suggestedName } : {}),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

const newSecret = () => randomBytes(32).toString('hex');

/**
 * Stores a new platform and runs the `registered` hook. A `pending` platform (a dynamic
 * registration without a registration link) is stored with a secret nobody is shown; approval
 * replaces it. `details` go into the audit entry.
 */
export async function registerPlatform(
  ctx: Context,
  input: PlatformInput,
  by: {
    actor: Actor;
    via: PlatformDoc['registeredBy'];
    hooks?: PlatformHooks;
    status?: PlatformStatus;
    suggestedName?: string | null;
    details?: Record<string, unknown>;
  },
): Promise<{ platform: PlatformDoc; webhookSecret: string }> {
  const existing = await ctx.models.platforms.exists({ issuer: input.issuer, clientId: input.clientId });
  if (existing)
    throw conflict(
      `A platform with issuer ${input.issuer} and client id ${input.clientId} is already registered.`,
    );
  const webhookSecret = newSecret();
  const sameLmsAs = await sameLmsOf(ctx, input);
  let platform: PlatformDoc;
  try {
    const created = await ctx.models.platforms.create({
      ...input,
      sameLmsAs,
      webhookSecretSealed: ctx.sealer.seal(webhookSecret),
      registeredBy: by.via,
      status: by.status ?? 'active',
      suggestedName: by.suggestedName ?? null,
    });
    platform = created.toObject();
  } catch (err) {
    if (isDuplicateKey(err))
      throw conflict(
        `A platform with issuer ${input.issuer} and client id ${input.clientId} is already registered.`,
      );
    throw err;
  }
  try {
    await by.hooks?.registered?.(platform);
  } catch (err) {
    // Keep the two stores in step: a platform ltijs could not take is not registered at all.
    await ctx.models.platforms.deleteOne({ _id: platform._id });
    throw err;
  }
  await recordAudit(ctx.models, {
    actor: by.actor,
    action: 'platform.registered',
    platformId: platform._id,
    target: { type: 'platform', id: String(platform._id) },
    details: {
      issuer: platform.issuer,
      clientId: platform.clientId,
      via: by.via,
      status: platform.status ?? 'active',
      ...(sameLmsAs ? { sameLmsAs: String(sameLmsAs) } : {}),
      ...by.details,
    },
  });
  return { platform, webhookSecret };
}

/**
 * The platform a new registration shares its courses and people with: the first registration of
 * the same issuer, when the issuer names one LMS. A Moodle's issuer is its site URL, so two
 * registrations with it (a dynamic and a manual one) are one Moodle. Canvas Cloud schools all share
 * `https://canvas.instructure.com`, so Canvas registrations are never joined by issuer alone (an
 * administrator may join them: setSameLms).
 */
async function sameLmsOf(ctx: Context, input: PlatformInput): Promise<Types.ObjectId | null> {
  if (input.lms === 'canvas') return null;
  const first = await ctx.models.platforms
    .findOne({ issuer: input.issuer, lms: input.lms })
    .sort({ _id: 1 })
    .lean<PlatformDoc>();
  return first ? (first.sameLmsAs ?? first._id) : null;
}

/** At most this many deployments wait for approval per platform; later ones are refused unlisted. */
export const MAX_PENDING_DEPLOYMENTS = 50;

/**
 * A validly signed launch (or the cookieless path's verified id_token) names a deployment: known,
 * or new. A new one of an active platform is recorded and admitted under the `auto` policy, or
 * listed as pending under `approve`; both are audited once.
 */
export async function admitDeployment(
  ctx: Context,
  platform: PlatformDoc,
  deploymentId: string,
): Promise<'known' | 'admitted' | 'pending'> {
  if (platform.deploymentIds.includes(deploymentId)) return 'known';
  const actor: Actor = { type: 'lms', id: platform.issuer };
  if (deploymentPolicyOf(platform) === 'auto') {
    const added = await ctx.models.platforms.updateOne(
      { _id: platform._id, deploymentIds: { $ne: deploymentId } },
      { $addToSet: { deploymentIds: deploymentId }, $pull: { pendingDeployments: { deploymentId } } },
    );
    if (added.modifiedCount === 1)
      await recordAudit(ctx.models, {
        actor,
        action: 'platform.deployment.added',
        platformId: platform._id,
        target: { type: 'platform', id: String(platform._id) },
        details: { deploymentId, via: 'first-launch', policy: 'auto' },
      });
    return 'admitted';
  }
  const now = ctx.now();
  const seen = await ctx.models.platforms.updateOne(
    { _id: platform._id, 'pendingDeployments.deploymentId': deploymentId },
    { $set: { 'pendingDeployments.$.lastSeenAt': now } },
  );
  if (seen.matchedCount === 0) {
    const listed = await ctx.models.platforms.updateOne(
      {
        _id: platform._id,
        deploymentIds: { $ne: deploymentId },
        'pendingDeployments.deploymentId': { $ne: deploymentId },
        [`pendingDeployments.${MAX_PENDING_DEPLOYMENTS - 1}`]: { $exists: false },
      },
      { $push: { pendingDeployments: { deploymentId, firstSeenAt: now, lastSeenAt: now } } },
    );
    if (listed.modifiedCount === 1)
      await recordAudit(ctx.models, {
        actor,
        action: 'platform.deployment.pending',
        platformId: platform._id,
        target: { type: 'platform', id: String(platform._id) },
        details: { deploymentId },
      });
  }
  return 'pending';
}

/** An administrator accepts (adds) or stops (removes) a deployment; adding approves a pending one. */
export async function changeDeployment(
  ctx: Context,
  id: string,
  change: { add?: string; remove?: string },
  actor: Actor,
): Promise<PlatformDoc> {
  const platform = await getPlatform(ctx, id);
  const deploymentId = (change.add ?? change.remove ?? '').trim();
  if (!deploymentId) throw new HttpError(400, 'invalid_request', 'A deployment id is required.');
  const adding = change.add !== undefined;
  const updated = await ctx.models.platforms
    .findOneAndUpdate(
      { _id: platform._id },
      adding
        ? { $addToSet: { deploymentIds: deploymentId }, $pull: { pendingDeployments: { deploymentId } } }
        : { $pull: { deploymentIds: deploymentId, pendingDeployments: { deploymentId } } },
      { returnDocument: 'after' },
    )
    .lean<PlatformDoc>();
  if (!updated) throw notFound(`Platform ${id}`);
  await recordAudit(ctx.models, {
    actor,
    action: adding ? 'platform.deployment.added' : 'platform.deployment.removed',
    platformId: platform._id,
    target: { type: 'platform', id },
    details: {
      deploymentId,
      ...(adding && platform.pendingDeployments?.some((d) => d.deploymentId === deploymentId)
        ? { approvedPending: true }
        : {}),
    },
  });
  return updated;
}

/** Platform settings an administrator changes after registration. */
export async function updatePlatformSettings(
  ctx: Context,
  id: string,
  settings: { deploymentPolicy?: DeploymentPolicy; sameLmsAs?: string | null },
  actor: Actor,
): Promise<PlatformDoc> {
  const platform = await getPlatform(ctx, id);
  const set: Record<string, unknown> = {};
  if (settings.deploymentPolicy) set.deploymentPolicy = settings.deploymentPolicy;
  if (settings.sameLmsAs !== undefined) {
    if (settings.sameLmsAs === null) set.sameLmsAs = null;
    else {
      const other = await getPlatform(ctx, settings.sameLmsAs);
      // Only registrations of one LMS (one issuer) may share courses, and only with a primary.
      if (other.issuer !== platform.issuer || other._id.equals(platform._id) || other.sameLmsAs)
        throw new HttpError(
          409,
          'not_same_lms',
          'sameLmsAs must name another, primary registration with the same issuer.',
        );
      set.sameLmsAs = other._id;
    }
  }
  const updated = await ctx.models.platforms
    .findOneAndUpdate({ _id: platform._id }, { $set: set }, { returnDocument: 'after' })
    .lean<PlatformDoc>();
  if (!updated) throw notFound(`Platform ${id}`);
  await recordAudit(ctx.models, {
    actor,
    action: 'platform.settings.updated',
    platformId: platform._id,
    target: { type: 'platform', id },
    details: {
      ...(settings.deploymentPolicy ? { deploymentPolicy: settings.deploymentPolicy } : {}),
      ...(settings.sameLmsAs !== undefined ? { sameLmsAs: settings.sameLmsAs } : {}),
    },
  });
  return updated;
}

export async function getPlatform(ctx: Context, id: string): Promise<PlatformDoc> {
  if (!Types.ObjectId.isValid(id)) throw notFound(`Platform ${id}`);
  const platform = await ctx.models.platforms.findById(id).lean<PlatformDoc>();
  if (!platform) throw notFound(`Platform ${id}`);
  return platform;
}

/** Platforms in id order; without a limit, all of them. */
export async function listPlatforms(
  ctx: Context,
  query: { status?: PlatformStatus; after?: Types.ObjectId; limit?: number } = {},
): Promise<PlatformDoc[]> {
  const filter: Record<string, unknown> = {};
  if (query.status === 'pending') filter.status = 'pending';
  else if (query.status === 'active') filter.status = { $ne: 'pending' };
  if (query.after) filter._id = { $gt: query.after };
  const found = ctx.models.platforms.find(filter).sort({ _id: 1 });
  if (query.limit) found.limit(query.limit);
  return found.lean<PlatformDoc[]>();
}

/** At most this many dynamic registrations wait for approval at once; more are refused. */
export const MAX_PENDING_PLATFORMS = 50;

export async function countPendingPlatforms(ctx: Context): Promise<number> {
  return ctx.models.platforms.countDocuments({ status: 'pending' });
}

/**
 * An administrator approves a pending platform: it becomes active (in ltijs's store too, through the
 * `approved` hook), optionally under a new name, and gets a fresh webhook secret, answered this once
 * (the one made at registration was never shown to anyone).
 */
export async function approvePlatform(
  ctx: Context,
  id: string,
  by: { actor: Actor; name?: string; hooks?: PlatformHooks },
): Promise<{ platform: PlatformDoc; webhookSecret: string }> {
  const before = await getPlatform(ctx, id);
  const notPending = () =>
    new HttpError(409, 'not_pending', `Platform ${id} is not waiting for approval; it is already active.`);
  if (isActivePlatform(before)) throw notPending();
  const webhookSecret = newSecret();
  const name = by.name ?? before.name;
  const platform = await ctx.models.platforms
    .findOneAndUpdate(
      { _id: before._id, status: 'pending' },
      {
        $set: {
          status: 'active',
          name,
          suggestedName: null,
          webhookSecretSealed: ctx.sealer.seal(webhookSecret),
          previousWebhookSecretSealed: null,
          previousSecretUntil: null,
        },
      },
      { returnDocument: 'after' },
    )
    .lean<PlatformDoc>();
  if (!platform) throw notPending();
  try {
    await by.hooks?.approved?.(platform);
  } catch (err) {
    // Keep the two stores in step: a platform ltijs would not launch stays pending.
    await ctx.models.platforms.updateOne(
      { _id: platform._id },
      { $set: { status: 'pending', name: before.name, suggestedName: before.suggestedName ?? null } },
    );
    throw err;
  }
  // An issuer profile made before approval carries the old name; the one confirmed now replaces it.
  if (name !== before.name)
    await ctx.models.issuerProfiles.updateOne(
      { platformId: platform._id, name: before.name },
      { $set: { name } },
    );
  await recordAudit(ctx.models, {
    actor: by.actor,
    action: 'platform.approved',
    platformId: platform._id,
    target: { type: 'platform', id },
    details: { name, previousName: before.name, suggestedName: before.suggestedName ?? null },
  });
  return { platform, webhookSecret };
}

export async function deletePlatform(ctx: Context, id: string, by: { actor: Actor; hooks?: PlatformHooks }) {
  const platform = await getPlatform(ctx, id);
  // Other registrations of the LMS keep their courses and people under this one: it stays.
  if (await ctx.models.platforms.exists({ sameLmsAs: platform._id }))
    throw new HttpError(
      409,
      'platform_shared',
      `Platform ${id} holds the courses of other registrations of the same LMS (sameLmsAs); remove those first.`,
    );
  await by.hooks?.deleted?.(platform);
  await ctx.models.platforms.deleteOne({ _id: platform._id });
  await recordAudit(ctx.models, {
    actor: by.actor,
    action: 'platform.deleted',
    platformId: platform._id,
    target: { type: 'platform', id },
    details: { issuer: platform.issuer, clientId: platform.clientId },
  });
}

/** A new webhook secret; the old one keeps working for PREVIOUS_SECRET_GRACE_MS. */
export async function rotateWebhookSecret(ctx: Context, id: string, actor: Actor): Promise<string> {
  const platform = await getPlatform(ctx, id);
  if (!isActivePlatform(platform))
    throw new HttpError(
      409,
      'platform_pending',
      `Platform ${id} waits for approval; approving it answers its webhook secret.`,
    );
  const webhookSecret = newSecret();
  await ctx.models.platforms.updateOne(
    { _id: platform._id, status: { $ne: 'pending' as const } },
    {
      $set: {
        webhookSecretSealed: ctx.sealer.seal(webhookSecret),
        previousWebhookSecretSealed: platform.webhookSecretSealed,
        previousSecretUntil: new Date(ctx.now().getTime() + PREVIOUS_SECRET_GRACE_MS),
      },
    },
  );
  await recordAudit(ctx.models, {
    actor,
    action: 'platform.webhook-secret.rotated',
    platformId: platform._id,
    target: { type: 'platform', id },
  });
  return webhookSecret;
}

/**
 * The secrets an event signature may use now: the current one, and the previous within its grace.
 * None for a pending platform: it sends no events until approved.
 */
export function webhookSecretsOf(ctx: Context, platform: PlatformDoc): string[] {
  if (!isActivePlatform(platform)) return [];
  const secrets = [ctx.sealer.open(platform.webhookSecretSealed)];
  if (
    platform.previousWebhookSecretSealed &&
    platform.previousSecretUntil &&
    platform.previousSecretUntil > ctx.now()
  )
    secrets.push(ctx.sealer.open(platform.previousWebhookSecretSealed));
  return secrets;
}

/**
 * The active platform an event names: its id from registration, or its LTI issuer where exactly one
 * registered platform has that issuer (Canvas Cloud schools share one issuer). A pending platform
 * is unknown here.
 */
export async function findPlatformByReference(ctx: Context, ref: string): Promise<PlatformDoc | null> {
  const active = { status: { $ne: 'pending' as const } };
  if (/^[0-9a-f]{24}$/i.test(ref)) {
    const byId = await ctx.models.platforms
      .findOne({ _id: new Types.ObjectId(ref), ...active })
      .lean<PlatformDoc>();
    if (byId) return byId;
  }
  // A pending platform with the same issuer still makes the issuer ambiguous.
  const byIssuer = await ctx.models.platforms.find({ issuer: ref }).limit(2).lean<PlatformDoc[]>();
  return byIssuer.length === 1 && isActivePlatform(byIssuer[0]!) ? byIssuer[0]! : null;
}

// ---------------------------------------------------------------------------------------------
// Registration links: one-time, expiring authorisations for LTI Dynamic Registration
// ---------------------------------------------------------------------------------------------

/** Default and limits of a registration link's lifetime, in minutes. */
export const REGISTRATION_LINK_MINUTES = { default: 7 * 24 * 60, min: 1, max: 30 * 24 * 60 } as const;

/** The query parameter of /lti/register that carries a link's code. */
export const REGISTRATION_CODE_PARAM = 'code';

const CODE_FORMAT = /^[A-Za-z0-9_-]{43}$/;
const hashCode = (code: string) => createHash('sha256').update(code, 'utf8').digest('hex');

export type RegistrationLinkState = 'open' | 'used' | 'expired';

export const registrationLinkState = (link: RegistrationLinkDoc, now: Date): RegistrationLinkState =>
  link.usedAt ? 'used' : link.expiresAt <= now ? 'expired' : 'open';

export type PublicRegistrationLink = {
  id: string;
  name: string | null;
  lms: LmsKind | null;
  state: RegistrationLinkState;
  expiresAt: Date;
  usedAt: Date | null;
  platformId: string | null;
  createdAt: Date;
};

export function toPublicRegistrationLink(link: RegistrationLinkDoc, now: Date): PublicRegistrationLink {
  return {
    id: String(link._id),
    name: link.name,
    lms: link.lms,
    state: registrationLinkState(link, now),
    expiresAt: link.expiresAt,
    usedAt: link.usedAt,
    platformId: link.usedBy ? String(link.usedBy) : null,
    createdAt: link.createdAt,
  };
}

/** The URL an LMS administrator pastes into the LMS (which appends its own two parameters). */
export const registrationUrl = (publicUrl: string, code: string) =>
  `${publicUrl}/lti/register?${REGISTRATION_CODE_PARAM}=${encodeURIComponent(code)}`;

/** Makes a registration link; the URL (holding the code) is answered this once and stored only as a hash. */
export async function createRegistrationLink(
  ctx: Context,
  input: { name?: string | null; lms?: LmsKind | null; expiresInMinutes?: number },
  actor: Actor,
): Promise<{ link: RegistrationLinkDoc; url: string }> {
  const code = randomBytes(32).toString('base64url');
  const minutes = input.expiresInMinutes ?? REGISTRATION_LINK_MINUTES.default;
  const created = await ctx.models.registrationLinks.create({
    codeHash: hashCode(code),
    name: input.name ?? null,
    lms: input.lms ?? null,
    expiresAt: new Date(ctx.now().getTime() + minutes * 60_000),
    createdBy: actor,
  });
  const link = created.toObject();
  await recordAudit(ctx.models, {
    actor,
    action: 'registration-link.created',
    target: { type: 'registration-link', id: String(link._id) },
    details: { name: link.name, lms: link.lms, expiresAt: link.expiresAt },
  });
  return { link, url: registrationUrl(ctx.config.publicUrl, code) };
}

export async function listRegistrationLinks(
  ctx: Context,
  query: { state?: RegistrationLinkState; after?: Types.ObjectId; limit: number },
): Promise<RegistrationLinkDoc[]> {
  const now = ctx.now();
  const filter: Record<string, unknown> = {};
  if (query.state === 'used') filter.usedAt = { $ne: null };
  else if (query.state === 'open') Object.assign(filter, { usedAt: null, expiresAt: { $gt: now } });
  else if (query.state === 'expired') Object.assign(filter, { usedAt: null, expiresAt: { $lte: now } });
  if (query.after) filter._id = { $gt: query.after };
  return ctx.models.registrationLinks
    .find(filter)
    .sort({ _id: 1 })
    .limit(query.limit)
    .lean<RegistrationLinkDoc[]>();
}

/** Revokes (deletes) a link nobody has used; a used one is the platform's history: 409. */
export async function revokeRegistrationLink(ctx: Context, id: string, actor: Actor): Promise<void> {
  if (!Types.ObjectId.isValid(id)) throw notFound(`Registration link ${id}`);
  const link = await ctx.models.registrationLinks.findOneAndDelete({ _id: id, usedAt: null }).lean();
  if (!link) {
    if (await ctx.models.registrationLinks.exists({ _id: id }))
      throw new HttpError(
        409,
        'already_used',
        `Registration link ${id} has been used; remove the platform it registered instead.`,
      );
    throw notFound(`Registration link ${id}`);
  }
  await recordAudit(ctx.models, {
    actor,
    action: 'registration-link.revoked',
    target: { type: 'registration-link', id },
    details: { name: link.name, lms: link.lms },
  });
}

export type RegistrationLinkProblem = 'missing' | 'unknown' | 'expired' | 'used';

/** What a code stands for, without using it (for the page an administrator sees opening the link). */
export async function inspectRegistrationCode(
  ctx: Context,
  code: string | undefined,
): Promise<{ link: RegistrationLinkDoc } | { problem: RegistrationLinkProblem }> {
  if (!code) return { problem: 'missing' };
  if (!CODE_FORMAT.test(code)) return { problem: 'unknown' };
  const link = await ctx.models.registrationLinks
    .findOne({ codeHash: hashCode(code) })
    .lean<RegistrationLinkDoc>();
  if (!link) return { problem: 'unknown' };
  const state = registrationLinkState(link, ctx.now());
  return state === 'open' ? { link } : { problem: state };
}

/**
 * Claims a link for one registration: atomically, so of two registrations with one link only one
 * gets it. The winner calls `linkUsed` once the platform is stored, or `releaseRegistrationLink`
 * when the registration failed, so the link can be tried again.
 */
export async function claimRegistrationLink(
  ctx: Context,
  code: string | undefined,
): Promise<{ link: RegistrationLinkDoc } | { problem: RegistrationLinkProblem }> {
  if (!code) return { problem: 'missing' };
  if (!CODE_FORMAT.test(code)) return { problem: 'unknown' };
  const now = ctx.now();
  const link = await ctx.models.registrationLinks
    .findOneAndUpdate(
      { codeHash: hashCode(code), usedAt: null, expiresAt: { $gt: now } },
      { $set: { usedAt: now } },
      { returnDocument: 'after' },
    )
    .lean<RegistrationLinkDoc>();
  if (link) return { link };
  const why = await inspectRegistrationCode(ctx, code);
  // Open a moment ago but claimed by another registration meanwhile: used.
  return 'problem' in why ? why : { problem: 'used' };
}

export async function releaseRegistrationLink(ctx: Context, link: RegistrationLinkDoc): Promise<void> {
  await ctx.models.registrationLinks.updateOne(
    { _id: link._id, usedAt: link.usedAt, usedBy: null },
    { $set: { usedAt: null } },
  );
}

export async function linkUsed(
  ctx: Context,
  link: RegistrationLinkDoc,
  platform: PlatformDoc,
  actor: Actor,
): Promise<void> {
  await ctx.models.registrationLinks.updateOne({ _id: link._id }, { $set: { usedBy: platform._id } });
  await recordAudit(ctx.models, {
    actor,
    action: 'registration-link.used',
    platformId: platform._id,
    target: { type: 'registration-link', id: String(link._id) },
    details: { platformId: String(platform._id), issuer: platform.issuer },
  });
}
