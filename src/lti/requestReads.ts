import type { Request } from 'express';
import type { Context } from '../context.js';
import type { PlatformDoc } from '../db/models/platform.js';

const platforms = new WeakMap<Request, Map<string, Promise<PlatformDoc | null>>>();
const issuers = new WeakMap<Request, Map<string, Promise<PlatformDoc[]>>>();

/** More registrations of one issuer than any LMS has (one per client id: dynamic, manual, test). */
const MAX_REGISTRATIONS_OF_AN_ISSUER = 50;

/**
 * The platform registered as (issuer, client id), read once per request: a course page's framing
 * policy and its launch session both need it. Kept with the request alone, so nothing is reused
 * across requests (no cache that processes would have to agree on). Where the request has read
 * every registration of the issuer already (the framing of a login or launch), it is taken from
 * that read.
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
    const ofIssuer = issuers.get(req)?.get(issuer);
    read = ofIssuer
      ? ofIssuer.then((list) => list.find((p) => p.clientId === clientId) ?? null)
      : ctx.models.platforms.findOne({ issuer, clientId }).lean<PlatformDoc>().exec();
    reads.set(key, read);
  }
  return read;
}

/** Every registration of one issuer (whatever its client id), read once per request. */
export function platformsOfIssuerForRequest(
  ctx: Context,
  req: Request,
  issuer: string,
): Promise<PlatformDoc[]> {
  let reads = issuers.get(req);
  if (!reads) {
    reads = new Map();
    issuers.set(req, reads);
  }
  let read = reads.get(issuer);
  if (!read) {
    read = ctx.models.platforms
      .find({ issuer })
      .limit(MAX_REGISTRATIONS_OF_AN_ISSUER)
      .lean<PlatformDoc[]>()
      .exec();
    reads.set(issuer, read);
  }
  return read;
}
