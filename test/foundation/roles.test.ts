/** LAUREL_ROLE: a worker processes jobs and answers only its health checks; a web process runs no jobs. */
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';

describe('LAUREL_ROLE=worker', () => {
  let t: TestLaurel;
  beforeAll(async () => {
    t = await startTestLaurel({ LAUREL_ROLE: 'worker' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
  });

  it.each([
    '/',
    '/api/v1/openapi.json',
    '/api/v1/platforms',
    '/lti/keys',
    '/lti/canvas.json',
    '/admin',
    '/course',
  ])('serves nothing at %s', async (path) => {
    const res = await fetch(`${t.url}${path}`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(404);
  });

  it('processes jobs', async () => {
    const agenda = t.laurel.queue.agenda;
    let ran = false;
    agenda.define('role-test-job', async () => {
      ran = true;
    });
    await agenda.now('role-test-job', {});
    const deadline = Date.now() + 10_000;
    while (!ran && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(ran).toBe(true);
  });
});

describe('LAUREL_ROLE=web', () => {
  it('serves the app and processes no jobs', async () => {
    const t = await startTestLaurel({ LAUREL_ROLE: 'web' });
    try {
      expect((await fetch(`${t.url}/api/v1/openapi.json`)).status).toBe(200);
      const agenda = t.laurel.queue.agenda;
      let ran = false;
      agenda.define('role-test-job', async () => {
        ran = true;
      });
      await agenda.now('role-test-job', {});
      await new Promise((r) => setTimeout(r, 1500));
      expect(ran).toBe(false);
    } finally {
      await t.stop();
    }
  });
});
