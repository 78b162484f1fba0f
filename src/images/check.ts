import { imageSize } from 'image-size';
import extractPng from 'png-chunks-extract';
import { HttpError } from '../errors.js';

/**
 * What a badge image may be. 256 KiB is what the common badge platforms accept and plenty for a
 * badge; images are embedded in every baked download, so small matters.
 */
export const IMAGE_LIMITS = {
  maxBytes: 256 * 1024,
  /** PNG sides, in pixels: big enough to look sharp, small enough to bake and serve. */
  minSide: 64,
  maxSide: 2048,
  /** Longer side over shorter side: badges are shown in square slots. */
  maxAspect: 1.25,
} as const;

export type BadgeImageType = 'image/png' | 'image/svg+xml';

/** A 400 that names what is wrong with the image, for the API and for the instructor pages. */
export const invalidImage = (message: string) =>
  new HttpError(400, 'invalid_image', message, [{ path: 'image', message }]);

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Recognised by their first bytes (never by file name or declared type). */
export function sniffType(bytes: Buffer): BadgeImageType | 'jpeg' | 'gif' | 'webp' | null {
  if (bytes.subarray(0, 8).equals(PNG_MAGIC)) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (
    bytes.subarray(0, 4).toString('latin1') === 'RIFF' &&
    bytes.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'webp';
  // SVG is text: after a BOM, whitespace, an XML declaration, comments and a doctype comes <svg.
  const head = bytes
    .subarray(0, 4096)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  const rest = head.replace(/^(\s*(<\?xml[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>))*\s*/i, '');
  if (/^<svg[\s>]/i.test(rest)) return 'image/svg+xml';
  return null;
}

const SVG_WITHOUT_SIZE = 'The SVG gives no size: add a viewBox (or width and height) to its <svg> element.';

export type CheckedImage = { type: BadgeImageType; width: number; height: number };

/**
 * Checks an uploaded badge image: PNG or SVG by its bytes, within the size limit, readable, and
 * square-ish with sides within bounds (PNG; an SVG's size is nominal, so only its shape counts).
 * Throws a 400 naming the first problem.
 */
export function checkBadgeImage(bytes: Buffer, declaredType?: string | null): CheckedImage {
  if (bytes.length === 0)
    throw invalidImage('The image is empty: send the PNG or SVG file as the request body.');
  if (bytes.length > IMAGE_LIMITS.maxBytes)
    throw invalidImage(
      `The image is too large: ${Math.ceil(bytes.length / 1024)} KiB, at most ${IMAGE_LIMITS.maxBytes / 1024} KiB.`,
    );
  const sniffed = sniffType(bytes);
  if (sniffed === null) throw invalidImage('The file is not a PNG or SVG image.');
  if (sniffed === 'jpeg' || sniffed === 'gif' || sniffed === 'webp')
    throw invalidImage(`The image is a ${sniffed.toUpperCase()}; badges must be PNG or SVG.`);
  const declared = declaredType?.split(';')[0]?.trim().toLowerCase();
  if (declared && declared.startsWith('image/') && declared !== sniffed)
    throw invalidImage(`The body is ${sniffed} but was sent as ${declared}.`);
  if (sniffed === 'image/png') {
    try {
      // Reads every chunk and checks every CRC: a truncated or corrupted PNG fails here.
      const chunks = extractPng(bytes);
      if (chunks.at(-1)?.name !== 'IEND') throw new Error('it has no IEND chunk');
    } catch (err) {
      throw invalidImage(`The PNG is malformed: ${(err as Error).message}.`);
    }
  }
  let size: { width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch (err) {
    // image-size reads an SVG's size from its root element only; failing that, it has none.
    if (sniffed === 'image/svg+xml') throw invalidImage(SVG_WITHOUT_SIZE);
    throw invalidImage(`The PNG is malformed: ${(err as Error).message}.`);
  }
  const { width, height } = size;
  if (!width || !height)
    throw invalidImage(sniffed === 'image/svg+xml' ? SVG_WITHOUT_SIZE : 'The PNG gives no size.');
  const aspect = Math.max(width, height) / Math.min(width, height);
  if (aspect > IMAGE_LIMITS.maxAspect)
    throw invalidImage(`The image is ${width}×${height}; a badge must be (nearly) square.`);
  if (
    sniffed === 'image/png' &&
    (Math.min(width, height) < IMAGE_LIMITS.minSide || Math.max(width, height) > IMAGE_LIMITS.maxSide)
  )
    throw invalidImage(
      `The image is ${width}×${height} pixels; sides must be between ${IMAGE_LIMITS.minSide} and ${IMAGE_LIMITS.maxSide}.`,
    );
  return { type: sniffed, width, height };
}
