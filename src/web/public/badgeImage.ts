import type { Context } from '../../context.js';
import { defaultBadgeSvg } from '../../images/defaultBadge.js';
import { defaultBadgePng } from '../../images/rasterBadge.js';
import { loadBadgeImage } from '../../images/store.js';
import { bakePng, bakeSvg } from '../../issuers/openbadges/bake.js';
import { isObject } from '../../issuers/openbadges/verifyChecks.js';
import { openBadgeUrls } from '../../issuers/openbadges/urls.js';
import type { PublicCredential } from './load.js';

/**
 * The image a credential was issued with: the one its signed achievement names (stored images
 * never change), else the template's current one. The default badge is drawn from the name.
 */
async function sourceImage(ctx: Context, pc: PublicCredential) {
  const achievement = isObject(pc.credential.signed?.credentialSubject)
    ? (pc.credential.signed.credentialSubject as Record<string, unknown>).achievement
    : null;
  const signedImage =
    isObject(achievement) && isObject(achievement.image) ? String(achievement.image.id) : null;
  const base = `${openBadgeUrls(ctx.config.publicUrl).base}/images/`;
  const imageId =
    signedImage && signedImage.startsWith(base) && /^[0-9a-f]{24}$/.test(signedImage.slice(base.length))
      ? signedImage.slice(base.length)
      : signedImage
        ? null
        : pc.template.imageId;
  const stored = imageId ? await loadBadgeImage(ctx, imageId) : null;
  return { stored, name: pc.template.name, seed: String(pc.template._id) };
}

/** A PNG of the badge: the stored PNG, or the drawn default (Laurel cannot rasterise an SVG). */
export async function badgePng(ctx: Context, pc: PublicCredential): Promise<Buffer> {
  const { stored, name, seed } = await sourceImage(ctx, pc);
  return stored?.contentType === 'image/png' ? stored.bytes : defaultBadgePng(name, seed);
}

/** An SVG of the badge: the stored SVG, a stored PNG wrapped in SVG, or the default SVG. */
export async function badgeSvg(ctx: Context, pc: PublicCredential): Promise<string> {
  const { stored, name, seed } = await sourceImage(ctx, pc);
  if (stored?.contentType === 'image/svg+xml') return stored.bytes.toString('utf8');
  if (stored?.contentType === 'image/png')
    return [
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 256 256" width="256" height="256">',
      `<image width="256" height="256" href="data:image/png;base64,${stored.bytes.toString('base64')}"/>`,
      '</svg>',
    ].join('');
  return defaultBadgeSvg(name, seed);
}

/** The OB 3.0 baked PNG: the signed credential's JSON in iTXt `openbadgecredential`. */
export async function bakedPng(ctx: Context, pc: PublicCredential): Promise<Buffer> {
  return bakePng(await badgePng(ctx, pc), 'ob3', JSON.stringify(pc.credential.signed));
}

/** The OB 2.0 baked PNG: the hosted assertion's URL in iTXt `openbadges`. */
export async function bakedOb2Png(ctx: Context, pc: PublicCredential): Promise<Buffer> {
  return bakePng(
    await badgePng(ctx, pc),
    'ob2',
    openBadgeUrls(ctx.config.publicUrl).ob2Assertion(pc.credential._id),
  );
}

/** The OB 3.0 baked SVG: the signed credential's JSON in `<openbadges:credential>`. */
export async function bakedSvg(ctx: Context, pc: PublicCredential): Promise<string> {
  return bakeSvg(await badgeSvg(ctx, pc), 'ob3', { json: JSON.stringify(pc.credential.signed, null, 2) });
}
