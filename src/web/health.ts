import { Router } from 'express';

export type ReadinessCheck = () => Promise<Record<string, boolean>>;

export type HealthOptions = {
  /** How long a readiness answer is reused (ms). Default 1000. */
  readyCacheMs?: number;
  /** The clock (ms), for tests. */
  now?: () => number;
};

/**
 * A readiness check that never piles up: concurrent callers share the one check in flight, and
 * its answer is reused for `cacheMs`, so a load balancer probing hard (or many of them) costs at
 * most one database ping per process per `cacheMs`. A check that throws counts as not ready.
 */
export function sharedReadiness(
  check: ReadinessCheck,
  cacheMs = 1000,
  now: () => number = Date.now,
): ReadinessCheck {
  let inFlight: Promise<Record<string, boolean>> | undefined;
  let last: { at: number; checks: Record<string, boolean> } | undefined;
  return () => {
    if (last && now() - last.at < cacheMs) return Promise.resolve(last.checks);
    inFlight ??= check()
      .catch(() => ({ readinessCheck: false }))
      .then((checks) => {
        last = { at: now(), checks };
        inFlight = undefined;
        return checks;
      });
    return inFlight;
  };
}

/**
 * /healthz says the process runs: no I/O, no await, answered from memory, so it stays fast as
 * long as the event loop turns. /readyz says it can do its work (database and job queue), through
 * sharedReadiness.
 */
export function healthRouter(checkReady: ReadinessCheck, options: HealthOptions = {}): Router {
  const ready = sharedReadiness(checkReady, options.readyCacheMs ?? 1000, options.now);
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = await ready();
    const isReady = Object.values(checks).every(Boolean);
    res
      .status(isReady ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: isReady ? 'ready' : 'not ready', checks });
  });
  return router;
}
