import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { signatureHeader } from '../src/events/signature.js';
import { freePort } from '../test/support/laurel.js';
import { startTestDatabase } from '../test/support/database.js';
import { launch, startTestPlatform } from '../test/support/lms-platform/index.js';

/**
 * Load on loopback against one all-roles Laurel process of its own (`npm start` through tsx,
 * NODE_ENV=production so views are cached, as deployed): the event endpoint, the LTI launch (the
 * whole flow a browser makes: login, the LMS's answer, the launch, the page) and a public
 * verification page, each driven by `concurrency` clients for `durationMs`, with throughput, p50 and
 * p99 latency and errors; and the process's resident memory at rest and after the load (read from
 * /proc, so it is Laurel's alone: the database and the load generator live in this process).
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

function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return round(kb / 1024);
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

async function startLaurelProcess(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const root = path.resolve(import.meta.dirname, '..');
  // node itself with tsx's loader (not the tsx launcher, which would be a second process), so the
  // memory read below is that of the process serving.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  // Logs are kept to warnings (a line per request would be measured too), so readiness is polled.
  for (const deadline = Date.now() + 60_000; ;) {
    if (exited) throw new Error(`bench: Laurel exited:\n${out}`);
    if (Date.now() > deadline) throw new Error(`bench: Laurel did not start:\n${out}`);
    const ready = await fetch(`${env.PUBLIC_URL}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url: env.PUBLIC_URL! };
}

export async function benchLoad(
  durationMs = Number(process.env.BENCH_MS ?? 5000),
  concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16),
) {
  const db = await startTestDatabase();
  const port = await freePort();
  const adminKey = randomBytes(24).toString('hex');
  const publicUrl = `http://localhost:${port}`;
  const { child } = await startLaurelProcess({
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
    LOG_LEVEL: 'warn',
  });
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
    let eventNo = 0;
    const events = await drive(concurrency, durationMs, async () => {
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
    const launches = await drive(Math.max(1, Math.floor(concurrency / 4)), durationMs, async () => {
      const user = users[launchNo++ % users.length]!;
      const page = await launch(lms, { courseId, sub: user.sub });
      return page.status === 200 && new URL(page.url).pathname.startsWith('/course/');
    });

    let address = 0;
    const pageUrl = new URL(`/credentials/${award.id}`, publicUrl);
    // The first view verifies; the ones measured are served from the verification cache.
    await request(agent, pageUrl, { headers: { accept: 'text/html', 'x-forwarded-for': '10.255.0.1' } });
    const pages = await drive(concurrency, durationMs, async () => {
      const a = address++ % 5000;
      const status = await request(agent, pageUrl, {
        headers: { accept: 'text/html', 'x-forwarded-for': `10.${(a >> 8) & 255}.${a & 255}.1` },
      });
      return status === 200;
    });
    agent.destroy();
    const rssAfterLoadMb = residentMb(child.pid!);
    return { database: db.kind, durationMs, events, launches, pages, rssAtRestMb, rssAfterLoadMb };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await lms.close();
    await db.stop();
  }
}
