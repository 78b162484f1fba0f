import type { Request } from 'express';
import type { Context } from '../context.js';
import type { PlatformDoc } from '../db/models/platform.js';

const platforms = new WeakMap<Request, Map<string, Promise<PlatformDoc | null>>>();

/**
 * The platform registered as (issuer, client id), read once per request: a course page's framing
 * policy and its launch session both need it. Kept with the request alone, so nothing is reused
 * across requests (no cache that processes would have to agree on).
 */
export function platformForRequest(
  ctx: Context,
  req: Request,
  issuer: string,
  clientId: string,
): Promise<PlatformDoc | null> {
  let reads = platforms.get(req);
  if (!reads) {
    reads = new Map();
    platforms.set(req, reads);
  }
  const key = JSON.stringify([issuer, clientId]);
  let read = reads.get(key);
  if (!read) {
    read = ctx.models.platforms.findOne({ issuer, clientId }).lean<PlatformDoc>().exec();
    reads.set(key, read);
  }
  return read;
}
