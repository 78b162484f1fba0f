import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { signatureHeader } from '../src/events/signature.js';
import { startLaurel, type Laurel } from '../src/laurel.js';
import { registerPlatform } from '../src/platforms/service.js';
import { createTemplate } from '../src/templates/service.js';
import { createTemplateSchema } from '../src/templates/schema.js';
import { withDevDefaults } from '../test/support/dev-env.js';

const MB = 1024 * 1024;
const rssMb = () => Math.round(process.memoryUsage().rss / MB);

/**
 * The database for the burst: MONGODB_URI (a database of its own), else the in-memory engine in a
 * child process, so that this process's resident memory is Laurel's (and the bench client's) alone.
 */
async function burstDatabase(): Promise<{ uri: string; kind: string; stop(): Promise<void> }> {
  const dbName = `laurel_burst_${randomBytes(4).toString('hex')}`;
  if (process.env.MONGODB_URI) {
    const url = new URL(process.env.MONGODB_URI);
    url.pathname = `/${dbName}`;
    return { uri: url.toString(), kind: 'external', stop: async () => undefined };
  }
  const extra = process.env.BENCH_DB_NODE_ARGS ? process.env.BENCH_DB_NODE_ARGS.split(' ') : [];
  const child: ChildProcess = spawn(
    process.execPath,
    [...extra, '--import', 'tsx', 'test/support/db-cli.ts'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  const url = new URL(first.trim());
  url.pathname = `/${dbName}`;
  return {
    uri: url.toString(),
    kind: 'engine (child process)',
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0;

/**
 * A burst as at the end of a term: `eventCount` events (1,000 learners, 50 badges over 10 courses,
 * 5% of them sent again) through POST /api/v1/events of one all-roles Laurel, as fast as it takes
 * them, then until every award is issued. Prints acceptance rate, awards expected / made / issued,
 * duplicates (must be 0), event → issued latency (from the moment the completing event was
 * acknowledged to the credential's issuedAt) and resident memory at rest and after the burst.
 */
export async function benchBurst(options: { events?: number; learners?: number; templates?: number } = {}) {
  const eventCount = options.events ?? 20_000;
  const learners = options.learners ?? 1000;
  const templates = options.templates ?? 50;
  const courses = 10;
  const db = await burstDatabase();
  let laurel: Laurel | undefined;
  try {
    const { env } = withDevDefaults({
      NODE_ENV: 'test',
      PORT: '0',
      MONGODB_URI: db.uri,
      LAUREL_ROLE: 'all',
    });
    laurel = await startLaurel(loadConfig(env), { logger: pino({ level: 'silent' }) });
    const { ctx, url } = laurel;
    const actor = { type: 'system' as const, id: 'bench' };
    const { platform, webhookSecret } = await registerPlatform(
      ctx,
      {
        name: 'Burst LMS',
        lms: 'moodle',
        issuer: 'https://burst.example.edu',
        clientId: 'burst',
        authLoginUrl: 'https://burst.example.edu/auth',
        authTokenUrl: 'https://burst.example.edu/token',
        jwksUrl: 'https://burst.example.edu/jwks',
        deploymentIds: ['1'],
      },
      { actor, via: 'api' },
    );
    const quizOf = (t: number) => `quiz-${t % 7}`;
    const templateIds: string[] = [];
    for (let i = 0; i < templates; i++) {
      const input = createTemplateSchema.parse({
        platformId: String(platform._id),
        courseId: `course-${i % courses}`,
        name: `Burst badge ${i}`,
        groups: [
          {
            requirements: [
              {
                event: 'activity.grade.updated',
                rules: [
                  { path: 'data.activityId', op: 'eq', value: quizOf(i) },
                  { path: 'data.percent', op: 'gte', value: 60 },
                ],
              },
            ],
          },
          { requirements: [{ event: 'course.completed' }] },
        ],
      });
      const t = await createTemplate(ctx, input, actor);
      await ctx.models.templates.updateOne(
        { _id: t._id },
        { $set: { state: 'active', activeSince: new Date(0) } },
      );
      templateIds.push(String(t._id));
    }
    // Let start-up settle (indexes, recurring jobs) before measuring memory at rest.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const rssAtRest = rssMb();

    // mulberry32: deterministic, so runs compare, and well mixed (no float overflow, no short cycles).
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return Math.floor((((x ^ (x >>> 14)) >>> 0) / 2 ** 32) * n);
    };
    const originals = Math.round(eventCount / 1.05);
    const events = Array.from({ length: originals }, (_, i) => {
      const learner = rand(learners);
      const completed = rand(5) === 0;
      return {
        id: `burst-${i}`,
        type: completed ? 'course.completed' : 'activity.grade.updated',
        occurredAt: new Date().toISOString(),
        platform: String(platform._id),
        course: { id: `course-${learner % courses}` },
        user: { id: `learner-${learner}`, email: `learner-${learner}@example.edu` },
        data: completed ? {} : { activityId: `quiz-${rand(7)}`, score: 40 + rand(60), maxScore: 100 },
      };
    });
    // 5% replays: the same ids again, interleaved.
    const stream = [...events];
    for (let k = 0; k < eventCount - originals; k++)
      stream.splice(rand(stream.length), 0, events[rand(originals)]!);

    // What the rules must award: both groups met by a learner of the template's course.
    const expected = new Set<string>();
    const state = new Map<string, { graded: Set<string>; completed: boolean }>();
    for (const e of events) {
      const s = state.get(e.user.id) ?? { graded: new Set<string>(), completed: false };
      if (e.type === 'course.completed') s.completed = true;
      else if ((e.data.score as number) >= 60) s.graded.add(e.data.activityId as string);
      state.set(e.user.id, s);
    }
    for (const [user, s] of state) {
      const learner = Number(user.slice('learner-'.length));
      for (let i = learner % courses; i < templates; i += courses)
        if (s.completed && s.graded.has(quizOf(i))) expected.add(`${templateIds[i]}:${user}`);
    }

    const ackedAt = new Map<string, number>();
    const start = Date.now();
    const chunks: (typeof stream)[] = [];
    for (let i = 0; i < stream.length; i += 500) chunks.push(stream.slice(i, i + 500));
    let stored = 0;
    let duplicates = 0;
    const senders = Array.from({ length: 4 }, async () => {
      for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
        const raw = JSON.stringify({ events: chunk });
        const res = await fetch(`${url}/api/v1/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-laurel-signature': signatureHeader(webhookSecret, raw),
          },
          body: raw,
        });
        const body = (await res.json()) as { stored: number; duplicates: number };
        if (res.status !== 200)
          throw new Error(`POST /api/v1/events answered ${res.status}: ${JSON.stringify(body)}`);
        stored += body.stored;
        duplicates += body.duplicates;
        const now = Date.now();
        for (const e of chunk) if (!ackedAt.has(e.id)) ackedAt.set(e.id, now);
      }
    });
    await Promise.all(senders);
    const sentSeconds = (Date.now() - start) / 1000;

    // Until every expected award is issued (or a generous deadline passes).
    const deadline = Date.now() + 10 * 60_000;
    const { models } = ctx;
    for (;;) {
      const [pending, waiting, issued] = await Promise.all([
        models.events.countDocuments({ status: { $in: ['pending', 'processing'] } }),
        models.credentials.countDocuments({ status: 'awarded' }),
        models.credentials.countDocuments({ status: 'issued' }),
      ]);
      if ((pending === 0 && waiting === 0 && issued >= expected.size) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const drainedSeconds = (Date.now() - start) / 1000;
    const credentials = await models.credentials
      .find({}, { templateId: 1, userId: 1, status: 1, issuedAt: 1, evidence: 1 })
      .lean();
    const pairs = new Set(credentials.map((c) => `${c.templateId}:${c.userId}`));
    const latencies = credentials
      .filter((c) => c.status === 'issued' && c.issuedAt)
      .map((c) => {
        const sent = Math.max(...c.evidence.map((e) => ackedAt.get(e.eventId ?? '') ?? start));
        return c.issuedAt!.getTime() - sent;
      })
      .sort((a, b) => a - b);
    const rssAfter = rssMb();
    const missing = [...expected].filter((k) => !pairs.has(k)).length;
    return {
      database: db.kind,
      events: stream.length,
      replays: stream.length - originals,
      learners,
      templates,
      stored,
      duplicates,
      acceptedPerSecond: Math.round(stream.length / sentSeconds),
      awardsExpected: expected.size,
      awards: credentials.length,
      issued: credentials.filter((c) => c.status === 'issued').length,
      failed: credentials.filter((c) => c.status === 'failed').length,
      missing,
      awardedTwice: credentials.length - pairs.size,
      drainedSeconds: +drainedSeconds.toFixed(1),
      eventToIssuedP50Ms: percentile(latencies, 50),
      eventToIssuedP99Ms: percentile(latencies, 99),
      eventToIssuedMaxMs: latencies[latencies.length - 1] ?? 0,
      rssAtRestMb: rssAtRest,
      rssAfterBurstMb: rssAfter,
    };
  } finally {
    await laurel?.close();
    await db.stop();
  }
}
