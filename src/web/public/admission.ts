import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from '../../errors.js';

export type AdmissionOptions = {
  /** Requests of this kind handled at once by this process. */
  concurrency: number;
  /** Requests waiting for a turn; over this they are refused with 503 and Retry-After. */
  queue: number;
  /** What Retry-After says when the queue is full (seconds). */
  retryAfterSeconds?: number;
};

export type AdmissionStats = { running: number; waiting: number; admitted: number; refused: number };

/**
 * Admission control for one kind of public request, per process: at most `concurrency` handled
 * at once, the rest wait their turn (first come, first served, costing nothing while they wait),
 * and past `queue` waiting the answer is 503 at once. Under any load the event loop then only
 * ever has a few page views in progress, so what is not queued here (health checks, the LMS's
 * launches and events) still gets its turn within milliseconds; the excess waits instead of
 * slowing everything down. It is not a budget: the rate limit is (rateLimit.ts, per network).
 */
export function admission(options: AdmissionOptions): RequestHandler & { stats: AdmissionStats } {
  const stats: AdmissionStats = { running: 0, waiting: 0, admitted: 0, refused: 0 };
  const waiting: (() => void)[] = [];

  const release = () => {
    const next = waiting.shift();
    stats.waiting = waiting.length;
    // The turn passes straight on to the next one waiting, so `running` stays as it is.
    if (next) next();
    else stats.running--;
  };

  const admit = (res: Response, next: NextFunction) => {
    stats.admitted++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      release();
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };

  const handler = (_req: Request, res: Response, next: NextFunction) => {
    if (stats.running < options.concurrency) {
      stats.running++;
      admit(res, next);
      return;
    }
    if (waiting.length >= options.queue) {
      stats.refused++;
      res.setHeader('Retry-After', String(options.retryAfterSeconds ?? 5));
      next(new HttpError(503, 'busy', 'Laurel is busy right now. Please try again in a few seconds.'));
      return;
    }
    let gone = false;
    const onClose = () => {
      gone = true;
    };
    // The response closes early only when the client goes away (a request's own 'close' is not that).
    res.once('close', onClose);
    waiting.push(() => {
      res.off('close', onClose);
      // A client that left while waiting gives its turn straight to the next one.
      if (gone || res.writableEnded || res.destroyed) release();
      else admit(res, next);
    });
    stats.waiting = waiting.length;
  };
  return Object.assign(handler, { stats });
}
