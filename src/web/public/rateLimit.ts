import { isIPv4, isIPv6 } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Collection } from 'mongodb';
import type { RateWindowDoc } from '../../db/models/rateLimit.js';
import type { Context } from '../../context.js';
import { HttpError, isDuplicateKey } from '../../errors.js';

export type RateLimit = {
  /** Names the counter, so that cheap and expensive endpoints can have their own budgets. */
  bucket: string;
  /** Requests allowed per client network per window. */
  limit: number;
  windowMs: number;
};

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a dotted IPv4 tail turned into two groups). */
function ipv6Groups(address: string): number[] | null {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    if (!isIPv4(dotted[1]!)) return null;
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const part = (s: string | undefined) => (s ? s.split(':') : []);
  const head = part(halves[0]);
  const tail = part(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail].map((g) =>
    /^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN,
  );
  return groups.some(Number.isNaN) ? null : groups;
}

/**
 * The network a client address stands for in rate limits: an IPv4 address is its own network
 * (a /32), an IPv6 address counts as its /64 (one subscriber or site gets a whole /64, so a
 * client could otherwise take a fresh address for every request), and an IPv4-mapped IPv6
 * address (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4 clients) counts as the IPv4
 * address it carries. Anything that is not an address shares one budget, `unknown`.
 */
export function clientNetwork(ip: string | undefined | null): string {
  if (!ip) return 'unknown';
  const address = ip
    .trim()
    .replace(/%.*$/, '')
    .replace(/^\[(.*)\]$/, '$1');
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return 'unknown';
  const groups = ipv6Groups(address);
  if (!groups) return 'unknown';
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/**
 * A fixed-window rate limit kept in MongoDB (one small document per client network and window,
 * dropped by a TTL index), so every web process counts against the same budget. Clients are
 * counted by network (see clientNetwork: an IPv4 address, an IPv6 /64). They are told their
 * budget in RateLimit-* headers, and over it they get 429 with Retry-After in Laurel's error shape.
 * If the counter cannot be reached the request goes through: the limiter protects the service, it
 * must not take it down.
 */
export function rateLimit(ctx: Context, options: RateLimit): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const now = ctx.now().getTime();
    const windowStart = now - (now % options.windowMs);
    const resetAt = windowStart + options.windowMs;
    const key = `${options.bucket}:${clientNetwork(req.ip)}:${windowStart}`;
    let count: number;
    try {
      count = await increment(ctx, key, new Date(resetAt));
    } catch (err) {
      req.log?.warn({ err, bucket: options.bucket }, 'rate limit counter unavailable; request let through');
      next();
      return;
    }
    const resetSeconds = Math.max(1, Math.ceil((resetAt - now) / 1000));
    res.setHeader('RateLimit-Limit', String(options.limit));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, options.limit - count)));
    res.setHeader('RateLimit-Reset', String(resetSeconds));
    if (count > options.limit) {
      res.setHeader('Retry-After', String(resetSeconds));
      next(
        new HttpError(
          429,
          'rate_limited',
          `Too many requests from your network: at most ${options.limit} a minute here. Try again in ${resetSeconds} seconds.`,
        ),
      );
      return;
    }
    next();
  };
}

async function increment(ctx: Context, key: string, expiresAt: Date): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      // Through the driver: every public request pays for this call, and mongoose's casting of a
      // fixed update of a string id, a number and a date is most of its cost in this process.
      const windows = ctx.models.rateWindows.collection as unknown as Collection<RateWindowDoc>;
      const doc = await windows.findOneAndUpdate(
        { _id: key },
        { $inc: { count: 1 }, $setOnInsert: { expiresAt } },
        { upsert: true, returnDocument: 'after', projection: { count: 1 } },
      );
      return typeof doc?.count === 'number' ? doc.count : 1;
    } catch (err) {
      // Two first requests of a window may both try to insert it; the loser just counts again.
      if (!isDuplicateKey(err) || attempt > 0) throw err;
    }
  }
}
