import { Router } from 'express';

export type ReadinessCheck = () => Promise<Record<string, boolean>>;

/** /healthz says the process runs; /readyz says it can do its work (database and job queue). */
export function healthRouter(checkReady: ReadinessCheck): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = await checkReady();
    const ready = Object.values(checks).every(Boolean);
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: ready ? 'ready' : 'not ready', checks });
  });
  return router;
}
