import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Context } from '../../context.js';
import { HttpError } from '../../errors.js';

export type RateLimit = {
  /** Names the counter, so that cheap and expensive endpoints can have their own budgets. */
  bucket: string;
  /** Requests allowed per client per window. */
  limit: number;
  windowMs: number;
};

const isDuplicateKey = (err: unknown) => (err as { code?: number })?.code === 11000;

/**
 * A fixed-window rate limit kept in MongoDB (one small document per client and window, dropped by
 * a TTL index), so every web process counts against the same budget. Clients are told their
 * budget in RateLimit-* headers, and over it they get 429 with Retry-After. If the counter cannot
 * be reached the request goes through: the limiter protects the service, it must not take it down.
 */
export function rateLimit(ctx: Context, options: RateLimit): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const now = ctx.now().getTime();
    const windowStart = now - (now % options.windowMs);
    const resetAt = windowStart + options.windowMs;
    const key = `${options.bucket}:${req.ip ?? 'unknown'}:${windowStart}`;
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
          `Too many requests from your address: at most ${options.limit} a minute here. Try again in ${resetSeconds} seconds.`,
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
      const doc = await ctx.models.rateWindows
        .findOneAndUpdate(
          { _id: key },
          { $inc: { count: 1 }, $setOnInsert: { expiresAt } },
          { upsert: true, returnDocument: 'after' },
        )
        .lean();
      return doc?.count ?? 1;
    } catch (err) {
      // Two first requests of a window may both try to insert it; the loser just counts again.
      if (!isDuplicateKey(err) || attempt > 0) throw err;
    }
  }
}
