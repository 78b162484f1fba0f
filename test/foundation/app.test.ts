import { startTestLaurel, type TestLaurel } from '../support/laurel.js';

describe('Laurel process', () => {
  let t: TestLaurel;
  beforeAll(async () => {
    t = await startTestLaurel();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers /healthz while running', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 when the database and the job queue are ready', async () => {
    let res = await fetch(`${t.url}/readyz`);
    for (let i = 0; i < 20 && res.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await fetch(`${t.url}/readyz`);
    }
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { database: true, jobs: true } });
  });

  it('sends security headers; the home page may not be framed (course pages may, see test/security/framing)', async () => {
    const res = await fetch(`${t.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.text()).toContain('<h1>Laurel</h1>');
  });

  it('answers an unknown page with a page for people, not a stack trace', async () => {
    const res = await fetch(`${t.url}/no/such/page`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('Not found');
    expect(html).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('runs an Agenda job to completion on its MongoDB backend', async () => {
    const { agenda } = t.laurel.queue;
    const seen: string[] = [];
    agenda.define('test-echo', async (job: { attrs: { data: { word: string } } }) => {
      seen.push(job.attrs.data.word);
    });
    const job = await agenda.now('test-echo', { word: 'laurel' });
    const deadline = Date.now() + 10000;
    let finished: unknown = null;
    while (Date.now() < deadline) {
      const { jobs } = await agenda.queryJobs({ name: 'test-echo' });
      finished = jobs[0]?.lastFinishedAt ?? null;
      if (finished) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toEqual(['laurel']);
    expect(finished).toBeInstanceOf(Date);
    expect(String(job.attrs._id)).toMatch(/^[0-9a-f]{24}$/);
  });
});

describe('readiness after the database goes away', () => {
  it('answers /readyz 503 once the connection is closed', async () => {
    const t = await startTestLaurel();
    try {
      await t.laurel.connection.close();
      const res = await fetch(`${t.url}/readyz`);
      expect(res.status).toBe(503);
      expect((await res.json()).checks.database).toBe(false);
    } finally {
      await t.stop();
    }
  });
});
