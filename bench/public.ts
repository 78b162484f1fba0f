import http from 'node:http';
import { registerTestPlatform } from '../test/support/api.js';
import { startTestLaurel } from '../test/support/laurel.js';
import { earnIssued, gradeTemplate } from '../test/openbadges/support.js';

type Answer = { status: number; ms: number };

/** One GET over a keep-alive agent, timed; the body is read and dropped. */
function get(agent: http.Agent, url: URL, headers: Record<string, string>): Promise<Answer> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - start) / 1e6 }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Probes `/healthz` one request at a time until `until()` says stop; returns latencies in ms. */
async function probeHealth(base: string, until: () => boolean, pauseMs = 10): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    while (!until()) {
      const answer = await get(agent, new URL('/healthz', base), {});
      if (answer.status !== 200) throw new Error(`bench: /healthz answered ${answer.status}`);
      times.push(answer.ms);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  } finally {
    agent.destroy();
  }
  return times.sort((a, b) => a - b);
}

/**
 * Public verification pages per second for one credential served over and over, to `concurrency`
 * clients spread over `addresses` client addresses (X-Forwarded-For, behind a trusted proxy, so
 * the per-address budget is not what is measured), and `/healthz` latency meanwhile (one probe
 * at a time) beside its latency with no load. The database is MONGODB_URI, else the test
 * database (an in-process engine when no mongod is installed, which then shares the CPU).
 */
export async function benchPublicPages(
  durationMs = Number(process.env.BENCH_MS ?? 5000),
  concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16),
  addresses = Number(process.env.BENCH_ADDRESSES ?? 200),
) {
  const t = await startTestLaurel({ TRUST_PROXY: 'true' });
  try {
    // Compiled templates are kept, as in production (express caches views when NODE_ENV=production).
    t.laurel.app.enable('view cache');
    const platform = await registerTestPlatform(t);
    const templateId = await gradeTemplate(t, platform, { name: 'Bench badge' });
    const credentialId = await earnIssued(t, platform, templateId, { id: 'bench-1', name: 'Ada Lovelace' });
    const pageUrl = new URL(`/credentials/${credentialId}`, t.url);
    // Round robin over the addresses, as many clients behind a proxy: each stays far below its
    // budget (120 pages a minute) unless the run is long or fast.
    let sent = 0;
    const address = () => {
      const a = sent++ % addresses;
      return `10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`;
    };
    // Warm up (templates compiled, connections open) and check the page verifies.
    const warm = await fetch(pageUrl, { headers: { accept: 'text/html', 'x-forwarded-for': '10.255.0.1' } });
    const warmText = await warm.text();
    if (warm.status !== 200 || !warmText.includes('Valid and verified'))
      throw new Error(`bench: the page did not verify (${warm.status})`);

    const idle = await (async () => {
      let n = 0;
      return probeHealth(t.url, () => n++ >= 50, 2);
    })();
    // One client, one page after another: the latency of a page view with the machine otherwise idle.
    const single: number[] = [];
    {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 40; i++) {
        const answer = await get(agent, pageUrl, { accept: 'text/html', 'x-forwarded-for': address() });
        if (answer.status !== 200) throw new Error(`bench: a page answered ${answer.status}`);
        single.push(answer.ms);
      }
      agent.destroy();
      single.sort((a, b) => a - b);
    }

    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const pages: number[] = [];
    const statuses: Record<string, number> = {};
    const cpuBefore = process.cpuUsage();
    const start = Date.now();
    const over = () => Date.now() - start >= durationMs;
    const worker = async () => {
      while (!over()) {
        const answer = await get(agent, pageUrl, { accept: 'text/html', 'x-forwarded-for': address() });
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (answer.status === 200) pages.push(answer.ms);
      }
    };
    const [health] = await Promise.all([
      probeHealth(t.url, over),
      ...Array.from({ length: concurrency }, worker),
    ]);
    const seconds = (Date.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    agent.destroy();
    pages.sort((a, b) => a - b);
    return {
      database: t.db.kind,
      concurrency,
      seconds: round(seconds),
      singleClientPageMs: round(percentile(single, 50)),
      pages: pages.length,
      pagesPerSecond: round(pages.length / seconds),
      // CPU of this process (server, load generator, and the database if it runs in-process) per
      // page: steadier than the rates on a shared machine.
      cpuMsPerPage: round((cpu.user + cpu.system) / 1000 / Math.max(1, pages.length), 2),
      pageP50Ms: round(percentile(pages, 50)),
      pageP95Ms: round(percentile(pages, 95)),
      healthzIdleP50Ms: round(percentile(idle, 50), 2),
      healthzP50Ms: round(percentile(health, 50), 2),
      healthzP95Ms: round(percentile(health, 95), 2),
      healthzMaxMs: round(health[health.length - 1] ?? 0, 2),
      notOk: Object.entries(statuses)
        .filter(([s]) => s !== '200')
        .reduce((sum, [, n]) => sum + n, 0),
    };
  } finally {
    await t.stop();
  }
}
