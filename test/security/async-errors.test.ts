/** An exception in an async handler of ltijs's express 4 app ends in an error answer, not a crash. */
import { createRequire } from 'node:module';
import request from 'supertest';
import { catchAsyncErrors } from '../../src/lti/catchAsyncErrors.js';

// ltijs brings its own express 4; the wrapper is for exactly that version's router.
const require = createRequire(import.meta.url);
const express4 = require(require.resolve('express', { paths: [require.resolve('ltijs')] })) as () => any;

function appWith(wrap: boolean) {
  // Unwrapped, /async never answers and its rejection is unhandled: what used to end the process.
  const app = express4();
  app.get('/async', async () => {
    await Promise.resolve();
    throw new TypeError('argument name is invalid');
  });
  app.get('/sync', () => {
    throw new Error('sync failure');
  });
  app.get('/fine', async (_req: unknown, res: { send(b: string): void }) => {
    await Promise.resolve();
    res.send('ok');
  });
  // Express 4's own error handler shape, as the outer app would answer.
  app.use(
    (err: Error, _req: unknown, res: { status(n: number): { json(b: unknown): void } }, _next: unknown) => {
      res.status(500).json({ error: 'internal_error', message: err.message });
    },
  );
  if (wrap) catchAsyncErrors(app);
  return app;
}

it('hands a rejected promise of a handler to the error handler', async () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    const res = await request(appWith(true)).get('/async').timeout(2000);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'internal_error', message: 'argument name is invalid' });
    expect((await request(appWith(true)).get('/sync')).status).toBe(500);
    const fine = await request(appWith(true)).get('/fine');
    expect(fine.text).toBe('ok');
    expect(rejections).toEqual([]);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
});
