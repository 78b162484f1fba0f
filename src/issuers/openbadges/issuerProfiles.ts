import type { Ed25519KeyPair } from '@digitalbazaar/ed25519-multikey';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Context } from '../../context.js';
import type { IssuerProfileDoc } from '../../db/models/issuerProfile.js';
import type { PlatformDoc } from '../../db/models/platform.js';
import { badRequest, notFound, isDuplicateKey } from '../../errors.js';
import { issuerProfileDocument, type IssuerSummary } from './build.js';
import { activeKey, generateIssuerKey, multikeyDocument, openSigningKey } from './keys.js';
import { openBadgeUrls } from './urls.js';

/** A configured MAIL_FROM is the issuer's contact address; the development default is not. */
const contactEmail = (mailFrom: string) => (/@localhost$/i.test(mailFrom) ? null : mailFrom);

/**
 * The issuer's web site until an admin says otherwise: the LMS's own address, which is the
 * institution's, except on a hosted LMS shared by many institutions (Canvas Cloud), where
 * Laurel's own address is the better guess.
 */
function defaultIssuerUrl(platformIssuer: string, publicUrl: string): string {
  try {
    const host = new URL(platformIssuer).hostname;
    return /(^|\.)instructure\.com$/i.test(host) ? publicUrl : platformIssuer;
  } catch {
    return publicUrl;
  }
}

/**
 * The issuer of a platform's credentials, created with its first key on first use. Concurrent
 * first uses create one profile (unique index on platformId); the loser's key is dropped unused.
 */
export async function ensureIssuerProfile(
  ctx: Context,
  platformId: Types.ObjectId,
): Promise<IssuerProfileDoc> {
  const existing = await ctx.models.issuerProfiles.findOne({ platformId }).lean<IssuerProfileDoc>();
  if (existing && activeKey(existing.keys)) return existing;
  if (existing) return rotateIssuerKey(ctx, platformId);
  const platform = await ctx.models.platforms.findById(platformId).lean<PlatformDoc>();
  if (!platform) throw notFound(`Platform ${platformId}`);
  const key = await generateIssuerKey(ctx.sealer, ctx.now());
  try {
    const created = await ctx.models.issuerProfiles.create({
      platformId,
      name: platform.name,
      url: defaultIssuerUrl(platform.issuer, ctx.config.publicUrl),
      email: contactEmail(ctx.config.mailFrom),
      description: null,
      imageId: null,
      keys: [key],
    });
    return created.toObject();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const winner = await ctx.models.issuerProfiles.findOne({ platformId }).lean<IssuerProfileDoc>();
    if (!winner) throw err;
    return winner;
  }
}

/** What may change in an issuer profile; the URL ends up in links on public pages, so http(s) only. */
export const issuerProfileChangeSchema = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters').optional(),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })
    .nullable()
    .optional(),
  email: z.email('must be an e-mail address').nullable().optional(),
  description: z.string().trim().max(2000, 'at most 2000 characters').nullable().optional(),
  imageId: z
    .string()
    .regex(/^[0-9a-f]{24}$/, 'must be the id of a stored image')
    .nullable()
    .optional(),
});

export type IssuerProfileChange = z.input<typeof issuerProfileChangeSchema>;

/**
 * Changes what the issuer profile says about the issuer. Credentials already signed keep the
 * profile they embedded; the published profile (and new credentials) show the change.
 */
export async function updateIssuerProfile(
  ctx: Context,
  platformId: Types.ObjectId,
  change: IssuerProfileChange,
): Promise<IssuerProfileDoc> {
  const parsed = issuerProfileChangeSchema.safeParse(change);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({
      path: i.path.join('.') || '(body)',
      message: i.message,
    }));
    throw badRequest(
      `The issuer profile change is not valid: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}.`,
      details,
    );
  }
  const valid = parsed.data;
  await ensureIssuerProfile(ctx, platformId);
  const updated = await ctx.models.issuerProfiles
    .findOneAndUpdate({ platformId }, { $set: valid }, { returnDocument: 'after' })
    .lean<IssuerProfileDoc>();
  if (!updated) throw notFound(`The issuer profile of platform ${platformId}`);
  return updated;
}

/**
 * Starts signing with a new key. The old keys stay in the profile (retired), so every credential
 * they signed still verifies; only a compromised key would need removing, which this does not do.
 */
export async function rotateIssuerKey(ctx: Context, platformId: Types.ObjectId): Promise<IssuerProfileDoc> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await ctx.models.issuerProfiles.findOne({ platformId }).lean<IssuerProfileDoc>();
    if (!current) return ensureIssuerProfile(ctx, platformId);
    const now = ctx.now();
    const keys = [
      ...current.keys.map((k) => (k.retiredAt ? k : { ...k, retiredAt: now })),
      await generateIssuerKey(ctx.sealer, now),
    ];
    // Optimistic: the write only lands on the key list this rotation read.
    const updated = await ctx.models.issuerProfiles
      .findOneAndUpdate(
        { _id: current._id, keys: { $size: current.keys.length } },
        { $set: { keys } },
        { returnDocument: 'after' },
      )
      .lean<IssuerProfileDoc>();
    if (updated) return updated;
  }
  throw new Error(`The issuer key of platform ${platformId} changed too often to rotate; try again`);
}

/** What a credential and the profile document say about the issuer. */
export function issuerSummary(ctx: Context, profile: IssuerProfileDoc): IssuerSummary {
  const urls = openBadgeUrls(ctx.config.publicUrl);
  return {
    id: urls.issuer(profile._id),
    name: profile.name,
    url: profile.url,
    email: profile.email,
    description: profile.description,
    imageUrl: profile.imageId ? urls.image(profile.imageId) : null,
  };
}

/** The public OB 3.0 Profile of an issuer, with every key (current and retired) under assertionMethod. */
export function publishedProfile(ctx: Context, profile: IssuerProfileDoc) {
  const urls = openBadgeUrls(ctx.config.publicUrl);
  return issuerProfileDocument(
    issuerSummary(ctx, profile),
    profile.keys.map((k) => ({
      id: urls.issuerKey(profile._id, k.publicKeyMultibase),
      publicKeyMultibase: k.publicKeyMultibase,
    })),
  );
}

/** The Multikey document of one of the issuer's keys, or null when the issuer has no such key. */
export function publishedKey(ctx: Context, profile: IssuerProfileDoc, publicKeyMultibase: string) {
  const key = profile.keys.find((k) => k.publicKeyMultibase === publicKeyMultibase);
  if (!key) return null;
  const urls = openBadgeUrls(ctx.config.publicUrl);
  return multikeyDocument(
    urls.issuerKey(profile._id, key.publicKeyMultibase),
    urls.issuer(profile._id),
    key.publicKeyMultibase,
  );
}

/** The issuer's active key, opened for signing. */
export async function signingKeyOf(ctx: Context, profile: IssuerProfileDoc): Promise<Ed25519KeyPair> {
  const key = activeKey(profile.keys);
  if (!key) throw new Error(`The issuer ${profile._id} has no active signing key`);
  const urls = openBadgeUrls(ctx.config.publicUrl);
  return openSigningKey(ctx.sealer, key, {
    id: urls.issuerKey(profile._id, key.publicKeyMultibase),
    controller: urls.issuer(profile._id),
  });
}

export async function findIssuerProfile(ctx: Context, id: string): Promise<IssuerProfileDoc | null> {
  if (!Types.ObjectId.isValid(id)) return null;
  return ctx.models.issuerProfiles.findById(id).lean<IssuerProfileDoc>();
}
