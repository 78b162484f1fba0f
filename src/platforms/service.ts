import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { recordAudit, type Actor } from '../audit/record.js';
import type { Context } from '../context.js';
import type { PlatformDoc } from '../db/models/platform.js';
import { conflict, notFound } from '../errors.js';
import type { PlatformInput } from './schema.js';

/** How long the secret before a rotation keeps working, so LMS plugins can be updated. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

export type PublicPlatform = Omit<
  PlatformDoc,
  '_id' | 'webhookSecretSealed' | 'previousWebhookSecretSealed' | 'previousSecretUntil'
> & { id: string };

/** Hooks other parts run when a platform comes or goes (ltijs keeps its own copy). */
export type PlatformHooks = {
  registered?(platform: PlatformDoc): Promise<void>;
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
    registeredBy: p.registeredBy,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

const newSecret = () => randomBytes(32).toString('hex');

export async function registerPlatform(
  ctx: Context,
  input: PlatformInput,
  by: { actor: Actor; via: PlatformDoc['registeredBy']; hooks?: PlatformHooks },
): Promise<{ platform: PlatformDoc; webhookSecret: string }> {
  const existing = await ctx.models.platforms.exists({ issuer: input.issuer, clientId: input.clientId });
  if (existing)
    throw conflict(
      `A platform with issuer ${input.issuer} and client id ${input.clientId} is already registered.`,
    );
  const webhookSecret = newSecret();
  let platform: PlatformDoc;
  try {
    const created = await ctx.models.platforms.create({
      ...input,
      webhookSecretSealed: ctx.sealer.seal(webhookSecret),
      registeredBy: by.via,
    });
    platform = created.toObject();
  } catch (err) {
    if ((err as { code?: number }).code === 11000)
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
    details: { issuer: platform.issuer, clientId: platform.clientId, via: by.via },
  });
  return { platform, webhookSecret };
}

export async function getPlatform(ctx: Context, id: string): Promise<PlatformDoc> {
  if (!Types.ObjectId.isValid(id)) throw notFound(`Platform ${id}`);
  const platform = await ctx.models.platforms.findById(id).lean<PlatformDoc>();
  if (!platform) throw notFound(`Platform ${id}`);
  return platform;
}

export async function listPlatforms(ctx: Context): Promise<PlatformDoc[]> {
  return ctx.models.platforms.find().sort({ _id: 1 }).lean<PlatformDoc[]>();
}

export async function deletePlatform(ctx: Context, id: string, by: { actor: Actor; hooks?: PlatformHooks }) {
  const platform = await getPlatform(ctx, id);
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
  const webhookSecret = newSecret();
  await ctx.models.platforms.updateOne(
    { _id: platform._id },
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

/** The secrets an event signature may use now: the current one, and the previous within its grace. */
export function webhookSecretsOf(ctx: Context, platform: PlatformDoc): string[] {
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
 * The platform an event names: its id from registration, or its LTI issuer where exactly one
 * registered platform has that issuer (Canvas Cloud schools share one issuer).
 */
export async function findPlatformByReference(ctx: Context, ref: string): Promise<PlatformDoc | null> {
  if (/^[0-9a-f]{24}$/i.test(ref)) {
    const byId = await ctx.models.platforms.findById(ref).lean<PlatformDoc>();
    if (byId) return byId;
  }
  const byIssuer = await ctx.models.platforms.find({ issuer: ref }).limit(2).lean<PlatformDoc[]>();
  return byIssuer.length === 1 ? byIssuer[0]! : null;
}
