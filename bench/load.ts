import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { loadavg } from 'node:os';
import { MongoClient } from 'mongodb';
import { signatureHeader } from '../src/events/signature.js';
import { cpuMs, residentMb, startLaurelProcess } from './laurel-process.js';
import { separateDatabase } from './support-database.js';
import { freePort } from '../test/support/laurel.js';
import { startTestDatabase } from '../test/support/database.js';
import { launch, startTestPlatform } from '../test/support/lms-platform/index.js';

/**
 * Load on loopback against one all-roles Laurel process of its own (`npm start` through tsx,
 * NODE_ENV=production so views are cached, as deployed): the event endpoint, the LTI launch (the
 * whole flow a browser makes: login, the LMS's answer, the launch, the page) and a public
 * verification page, each driven by `concurrency` clients for `durationMs`, with throughput, p50 and
 * p99 latency and errors; and the process's resident memory at rest and after the load (read from
 * /proc, so it is Laurel's alone).
 *
 * Method `separate` (the default): the in-memory database runs in a process of its own, as MongoDB
 * would; each phase starts with an unmeasured warm-up (`BENCH_WARMUP_MS`, default 1 s) and waits
 * until the events of the event phase are processed, so a phase is not measured while the worker
 * still digests the one before. Method `shared` (`BENCH_LOAD_METHOD=shared`) is the first one: the
 * database inside this process (competing with the load generator and the test LMS for one event
 * loop), no warm-up, no wait. `BENCH_LOAD_PHASES` picks phases (events,launches,pages);
 * `BENCH_LAUREL_NODE_ARGS` passes node flags to Laurel (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */

type Sample = { ok: boolean; ms: number };
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;

async function drive(concurrency: number, durationMs: number, once: () => Promise<boolean>) {
  const samples: Sample[] = [];
  const start = Date.now();
  const client = async () => {
    while (Date.now() - start < durationMs) {
      const t0 = process.hrtime.bigint();
      let ok = false;
      try {
        ok = await once();
      } catch {
        ok = false;
      }
      samples.push({ ok, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = (Date.now() - start) / 1000;
  const times = samples
    .filter((s) => s.ok)
    .map((s) => s.ms)
    .sort((a, b) => a - b);
  return {
    concurrency,
    requests: samples.length,
    perSecond: round(times.length / seconds),
    p50Ms: round(percentile(times, 50)),
    p99Ms: round(percentile(times, 99)),
    errors: samples.length - times.length,
  };
}

function request(
  agent: http.Agent,
  url: URL,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { agent, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const words = (value: string | undefined) => (value ? value.split(' ').filter(Boolean) : []);

/** Until the event worker has nothing pending (at most `limitMs`), so the next phase is measured alone. */
async function eventsDrained(uri: string, limitMs = 120_000): Promise<number> {
  const client = await MongoClient.connect(uri);
  const start = Date.now();
  try {
    const events = client.db().collection('learning_events');
    while (Date.now() - start < limitMs) {
      const open = await events.countDocuments({ status: { $in: ['pending', 'processing'] } });
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    return Date.now() - start;
  } finally {
    await client.close();
  }
}

export type LoadMethod = 'separate' | 'shared';

export async function benchLoad(
  durationMs = Number(process.env.BENCH_MS ?? 5000),
  concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16),
  method: LoadMethod = process.env.BENCH_LOAD_METHOD === 'shared' ? 'shared' : 'separate',
  phases = new Set(words((process.env.BENCH_LOAD_PHASES ?? 'events,launches,pages').replaceAll(',', ' '))),
) {
  const warmupMs = method === 'shared' ? 0 : Number(process.env.BENCH_WARMUP_MS ?? 1000);
  const db =
    method === 'shared' || process.env.MONGODB_URI
      ? await startTestDatabase()
      : await separateDatabase('laurel_load');
  const port = await freePort();
  const adminKey = randomBytes(24).toString('hex');
  const publicUrl = `http://localhost:${port}`;
  const laurel = await startLaurelProcess({
    NODE_ENV: 'production',
    PORT: String(port),
    PUBLIC_URL: publicUrl,
    MONGODB_URI: db.uri,
    LTI_KEY: randomBytes(24).toString('hex'),
    ADMIN_API_KEY: adminKey,
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    // The test LMS runs on loopback; production refuses private addresses unless named here.
    LMS_ALLOWED_HOSTS: '127.0.0.1',
    // Clients of the public page arrive through a trusted proxy with addresses of their own.
    TRUST_PROXY: 'true',
    LOG_LEVEL: process.env.BENCH_LAUREL_LOG_LEVEL ?? 'warn',
  });
  const { child } = laurel;
  const lms = await startTestPlatform({
    toolUrl: publicUrl,
    flavour: 'moodle',
    host: '127.0.0.1',
    seedDemo: true,
  });
  try {
    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${publicUrl}/api/v1${p}`, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, any>;
      if (res.status >= 300)
        throw new Error(`bench: ${method} ${p} answered ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const platform = await api('POST', '/platforms', lms.registrationInfo());
    const courseId = lms.demo!.courses.chemistry.id;
    const template = await api('POST', '/templates', {
      platformId: platform.id,
      courseId,
      name: 'Load badge',
      groups: [
        {
          requirements: [
            {
              event: 'activity.grade.updated',
              rules: [
                { path: 'data.activityId', op: 'eq', value: 'quiz' },
                { path: 'data.percent', op: 'gte', value: 50 },
              ],
            },
          ],
        },
      ],
    });
    await api('POST', `/templates/${template.id}/activate`);
    // One learner launches once, then earns the badge: its public page is the one viewed under load.
    const ada = lms.demo!.users.ada;
    await launch(lms, { courseId, sub: ada.sub });
    const award = await api('POST', '/credentials', {
      templateId: template.id,
      userId: ada.sub,
      reason: 'bench',
    });
    for (let i = 0; i < 200; i++) {
      const c = await api('GET', `/credentials/${award.id}`);
      if (c.status === 'issued') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const rssAtRestMb = residentMb(child.pid!);

    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const skipped = {
      concurrency: 0,
      requests: 0,
      perSecond: 0,
      p50Ms: 0,
      p99Ms: 0,
      errors: 0,
      laurelCpuMs: 0,
      dbCpuMs: 0,
      clientCpuPct: 0,
      dbCommands: 0,
    };
    /** A phase: warm-up first (not measured), then the measured run. */
    const phase = async (name: string, clients: number, once: () => Promise<boolean>) => {
      if (!phases.has(name)) return skipped;
      if (method === 'separate') await eventsDrained(db.uri);
      if (warmupMs > 0) await drive(clients, warmupMs, once);
      const count = 'commands' in db ? db.commands : undefined;
      const commandsBefore = count ? await count() : 0;
      const cpuBefore = cpuMs(child.pid!);
      const dbPid = 'pid' in db ? db.pid : undefined;
      const dbCpuBefore = dbPid ? cpuMs(dbPid) : 0;
      const clientBefore = process.cpuUsage();
      const t0 = performance.now();
      const figures = await drive(clients, durationMs, once);
      // Laurel's CPU per request: what the optimisations change, and steadier than latency on a busy machine.
      const laurelCpuMs = round((cpuMs(child.pid!) - cpuBefore) / Math.max(1, figures.requests));
      // And the database process's (in-memory engine only): what Laurel's reads and writes cost it.
      const dbCpuMs = dbPid ? round((cpuMs(dbPid) - dbCpuBefore) / Math.max(1, figures.requests)) : null;
      // How busy the load generator (and the test LMS) was: near 100% it, not Laurel, sets the pace.
      const used = process.cpuUsage(clientBefore);
      const clientCpuPct = round(((used.user + used.system) / 1000 / (performance.now() - t0)) * 100, 0);
      // Database commands per request (the engine's count; background jobs included, a few a second).
      const dbCommands = count
        ? round(((await count()) - commandsBefore) / Math.max(1, figures.requests))
        : null;
      return { ...figures, laurelCpuMs, dbCpuMs, clientCpuPct, dbCommands };
    };
    let eventNo = 0;
    const events = await phase('events', concurrency, async () => {
      eventNo++;
      const raw = JSON.stringify({
        id: `load-${eventNo}`,
        type: 'activity.grade.updated',
        occurredAt: new Date().toISOString(),
        platform: platform.id,
        course: { id: courseId },
        user: { id: `learner-${eventNo % 1000}` },
        data: { activityId: 'quiz', percent: eventNo % 100 },
      });
      const status = await request(agent, new URL('/api/v1/events', publicUrl), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-laurel-signature': signatureHeader(platform.webhookSecret, raw, Date.now()),
        },
        body: raw,
      });
      return status === 200;
    });

    const users = [ada, lms.demo!.users.grace, lms.demo!.users.instructor];
    let launchNo = 0;
    // A launch is five round trips between a browser, the LMS and Laurel: fewer clients at once.
    const launches = await phase('launches', Math.max(1, Math.floor(concurrency / 4)), async () => {
      const user = users[launchNo++ % users.length]!;
      const page = await launch(lms, { courseId, sub: user.sub });
      return page.status === 200 && new URL(page.url).pathname.startsWith('/course/');
    });

    let address = 0;
    const pageUrl = new URL(`/credentials/${award.id}`, publicUrl);
    // The first view verifies; the ones measured are served from the verification cache.
    await request(agent, pageUrl, { headers: { accept: 'text/html', 'x-forwarded-for': '10.255.0.1' } });
    const pages = await phase('pages', concurrency, async () => {
      const a = address++ % 5000;
      const status = await request(agent, pageUrl, {
        headers: { accept: 'text/html', 'x-forwarded-for': `10.${(a >> 8) & 255}.${a & 255}.1` },
      });
      return status === 200;
    });
    agent.destroy();
    const rssAfterLoadMb = residentMb(child.pid!);
    return {
      method,
      database: db.kind,
      durationMs,
      warmupMs,
      loadAverage: loadavg().map((l) => round(l, 2)),
      events,
      launches,
      pages,
      rssAtRestMb,
      rssAfterLoadMb,
    };
  } finally {
    await laurel.stop();
    await lms.close();
    await db.stop();
  }
}
