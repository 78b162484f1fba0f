import { createHash } from 'node:crypto';
import { GridFSBucket, ObjectId, type Db } from 'mongodb';
import type { Context } from '../context.js';
import { checkBadgeImage, invalidImage, type BadgeImageType } from './check.js';
import { sanitizeSvg } from './sanitizeSvg.js';

const BUCKET = 'badge_images';

export type StoredImage = {
  id: string;
  contentType: BadgeImageType;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  /** What sanitising removed from an SVG (empty for PNG). */
  removed: string[];
};

type ImageMetadata = { contentType: BadgeImageType; width: number; height: number; sha256: string };

/** GridFS on Laurel's own database (the driver that mongoose holds), reached through any model. */
function bucket(ctx: Context): GridFSBucket {
  const db = ctx.models.templates.db.db as unknown as Db | undefined;
  if (!db) throw new Error('The database is not connected; badge images cannot be read or stored');
  return new GridFSBucket(db, { bucketName: BUCKET });
}

/**
 * Checks, sanitises (SVG) and stores a badge image in GridFS, returning its id for a template or
 * issuer profile (`imageId`). The same bytes stored twice give the same id: images are immutable
 * and addressed by content, so `/images/:id` can be cached for ever.
 */
export async function storeBadgeImage(
  ctx: Context,
  input: { bytes: Buffer; declaredType?: string | null },
): Promise<StoredImage> {
  const checked = checkBadgeImage(input.bytes, input.declaredType);
  let bytes = input.bytes;
  let removed: string[] = [];
  if (checked.type === 'image/svg+xml') {
    const clean = sanitizeSvg(input.bytes.toString('utf8'));
    if (!clean.svg)
      throw invalidImage('The SVG has no <svg> element left once scripts and links are removed.');
    bytes = Buffer.from(clean.svg, 'utf8');
    removed = clean.removed;
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const files = bucket(ctx);
  const [existing] = await files.find({ 'metadata.sha256': sha256 }).limit(1).toArray();
  const result = (id: ObjectId): StoredImage => ({
    id: id.toHexString(),
    contentType: checked.type,
    width: checked.width,
    height: checked.height,
    bytes: bytes.length,
    sha256,
    removed,
  });
  if (existing) return result(existing._id as ObjectId);
  const metadata: ImageMetadata = {
    contentType: checked.type,
    width: checked.width,
    height: checked.height,
    sha256,
  };
  const upload = files.openUploadStream(`${sha256}.${checked.type === 'image/png' ? 'png' : 'svg'}`, {
    metadata,
  });
  await new Promise<void>((resolve, reject) => {
    upload.once('finish', () => resolve());
    upload.once('error', reject);
    upload.end(bytes);
  });
  return result(upload.id as ObjectId);
}

/** A stored image's bytes and type, or null when there is no such image. */
export async function loadBadgeImage(
  ctx: Context,
  id: string,
): Promise<{ bytes: Buffer; contentType: BadgeImageType; sha256: string } | null> {
  if (!/^[0-9a-f]{24}$/.test(id)) return null;
  const files = bucket(ctx);
  const [file] = await files
    .find({ _id: new ObjectId(id) })
    .limit(1)
    .toArray();
  if (!file) return null;
  const meta = file.metadata as ImageMetadata | undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of files.openDownloadStream(file._id)) chunks.push(chunk as Buffer);
  return {
    bytes: Buffer.concat(chunks),
    contentType: meta?.contentType ?? 'image/png',
    sha256: meta?.sha256 ?? '',
  };
}
