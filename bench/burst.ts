import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Connection } from 'mongoose';
import { signatureHeader } from '../src/events/signature.js';
import { registerPlatform } from '../src/platforms/service.js';
import { createTemplate } from '../src/templates/service.js';
import { createTemplateSchema } from '../src/templates/schema.js';
import { freePort } from '../test/support/laurel.js';
import { withDevDefaults } from '../test/support/dev-env.js';
import { cpuMs, residentMb, startLaurelProcess, type LaurelProcess } from './laurel-process.js';
import { benchContext } from './support-context.js';
import { cpuSecondsOf, percentile, separateDatabase } from './support-database.js';

/**
 * A burst as at the end of a term: `eventCount` events (1,000 learners, 50 badges over 10 courses,
 * 5% of them sent again) through POST /api/v1/events of one all-roles Laurel, as fast as it takes
 * them, then until every award is issued. Prints acceptance rate, awards expected / made / issued,
 * duplicates (must be 0), event → issued latency (from the moment the completing event was
 * acknowledged to the credential's issuedAt) and resident memory at rest and after the burst.
 *
 * Laurel runs in a process of its own (`src/main.ts`, bench/laurel-process.ts), and so does the
 * database (the engine unless MONGODB_URI is set): this process only sends, sets up through a
 * connection of its own and watches, so its work shares neither Laurel's event loop nor its CPU and
 * memory figures (read from /proc). With BENCH_CPU_PROFILE, both Laurel and the engine are profiled
 * from the first event sent until every award is issued (burst.cpuprofile, burst-db.cpuprofile).
 */
export async function benchBurst(options: { events?: number; learners?: number; templates?: number } = {}) {
  const eventCount = options.events ?? 20_000;
  const learners = options.learners ?? 1000;
  const templates = options.templates ?? 50;
  const courses = 10;
  const t0 = Date.now();
  const trace = (what: string) => {
    if (process.env.BENCH_TRACE)
      console.error(`burst setup +${((Date.now() - t0) / 1000).toFixed(1)}s: ${what}`);
  };
  const db = await separateDatabase('laurel_burst');
  trace('database up');
  let laurel: LaurelProcess | undefined;
  let connection: Connection | undefined;
  let stopJobs: (() => Promise<unknown>) | undefined;
  try {
    const port = await freePort();
    // The development keys, as before this bench ran Laurel apart: the bench's own context below
    // seals the platform's webhook secret with the same encryption key Laurel opens it with.
    const { env } = withDevDefaults({
      NODE_ENV: 'test',
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
      MONGODB_URI: db.uri,
      LAUREL_ROLE: 'all',
      LOG_LEVEL: process.env.BENCH_LAUREL_LOG_LEVEL ?? 'warn',
    });
    laurel = await startLaurelProcess(env as Record<string, string>, { probe: true });
    const { url } = laurel;
    const laurelPid = laurel.child.pid!;
    trace('Laurel started');
    // The bench's own connection (no job processing): setup, then watching the queue drain.
    const bench = await benchContext(db.uri, 60_000);
    connection = bench.connection;
    const { ctx } = bench;
    stopJobs = () => ctx.jobs.stop(0);
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
    trace('templates created');
    // Let start-up settle (indexes, recurring jobs) before measuring memory at rest.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const rssAtRest = residentMb(laurelPid);
    // What is live at rest (after a forced collection), to compare with what is live after the burst.
    const atRest = await laurel.heapAfterGc();
    const heapUsedAtRestMb = atRest.usedMb;
    const externalAtRestMb = atRest.externalMb;

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
    const profileDir = process.env.BENCH_CPU_PROFILE;
    if (profileDir) await mkdir(profileDir, { recursive: true });
    const stopProfiles = profileDir ? await Promise.all([laurel.profile(), db.profile?.()]) : undefined;
    const cpuBefore = cpuMs(laurelPid);
    const clientCpuBefore = process.cpuUsage();
    const dbCpuBefore = cpuSecondsOf(db.pid);
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
    // The bench polls cheaply (is anything left?), counting only at the end or when tracing, so that
    // its own queries take as little as possible from the database it measures.
    const tracing = !!process.env.BENCH_TRACE;
    for (;;) {
      const [pending, waiting] = await Promise.all([
        models.events.exists({ status: { $in: ['pending', 'processing'] } }),
        models.credentials.exists({ status: 'awarded' }),
      ]);
      const done = !pending && !waiting;
      const issued = done || tracing ? await models.credentials.countDocuments({ status: 'issued' }) : 0;
      if (tracing) {
        const [events, awarded] = await Promise.all([
          models.events.countDocuments({ status: { $in: ['pending', 'processing'] } }),
          models.credentials.countDocuments({ status: 'awarded' }),
        ]);
        console.error(
          `burst +${((Date.now() - start) / 1000).toFixed(1)}s: ${events} events waiting, ${awarded} awarded, ${issued} issued, rss ${residentMb(laurelPid)} MB`,
        );
      }
      if ((done && issued >= expected.size) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const drainedSeconds = (Date.now() - start) / 1000;
    // CPU per event, which a busy shared machine disturbs less than the wall clock: Laurel's process,
    // the database's (the engine's child process, when used) and this client's (sending and watching).
    const laurelCpuMsPerEvent = +((cpuMs(laurelPid) - cpuBefore) / stream.length).toFixed(3);
    const dbCpuMsPerEvent = +(((cpuSecondsOf(db.pid) - dbCpuBefore) * 1000) / stream.length).toFixed(3);
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const clientCpuMsPerEvent = +((clientCpu.user + clientCpu.system) / 1000 / stream.length).toFixed(3);
    if (stopProfiles && profileDir) {
      const [stopLaurel, stopDb] = stopProfiles;
      await stopLaurel(join(profileDir, 'burst.cpuprofile'));
      await stopDb?.(join(profileDir, 'burst-db.cpuprofile'));
    }
    const credentials = await models.credentials
      .find({}, { templateId: 1, userId: 1, status: 1, awardedAt: 1, issuedAt: 1, evidence: 1 })
      .lean();
    const pairs = new Set(credentials.map((c) => `${c.templateId}:${c.userId}`));
    const sentAt = (c: (typeof credentials)[number]) =>
      Math.max(...c.evidence.map((e) => ackedAt.get(e.eventId ?? '') ?? start));
    const issuedOnes = credentials.filter((c) => c.status === 'issued' && c.issuedAt);
    const latencies = issuedOnes.map((c) => c.issuedAt!.getTime() - sentAt(c)).sort((a, b) => a - b);
    // Where an award waits: before its award (processing) or between award and signature (issuing).
    const toAwarded = issuedOnes.map((c) => c.awardedAt.getTime() - sentAt(c)).sort((a, b) => a - b);
    const toIssued = issuedOnes
      .map((c) => c.issuedAt!.getTime() - c.awardedAt.getTime())
      .sort((a, b) => a - b);
    const rssAfter = residentMb(laurelPid);
    // Then what stays: after a quiet spell (V8 hands heap pages back to the system only once the
    // process is idle a few seconds) and a full collection in Laurel's process, the heap that is
    // still live, which tells retained memory from garbage not yet collected.
    await new Promise((resolve) => setTimeout(resolve, Number(process.env.BENCH_SETTLE_MS ?? 15_000)));
    const heapAfterGc = await laurel.heapAfterGc();
    const rssAfterGc = residentMb(laurelPid);
    const missing = [...expected].filter((k) => !pairs.has(k)).length;
    return {
      database: db.kind,
      loadAverage: loadavg().map((l) => +l.toFixed(2)),
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
      eventToAwardedP99Ms: percentile(toAwarded, 99),
      awardedToIssuedP99Ms: percentile(toIssued, 99),
      laurelCpuMsPerEvent,
      dbCpuMsPerEvent,
      clientCpuMsPerEvent,
      rssAtRestMb: rssAtRest,
      heapUsedAtRestMb,
      externalAtRestMb,
      rssAfterBurstMb: rssAfter,
      rssAfterGcMb: rssAfterGc,
      heapUsedAfterGcMb: heapAfterGc.usedMb,
      heapTotalAfterGcMb: heapAfterGc.totalMb,
      externalAfterGcMb: heapAfterGc.externalMb,
    };
  } finally {
    trace('closing Laurel');
    await laurel?.stop();
    await stopJobs?.();
    await connection?.close();
    trace('stopping the database');
    await db.stop();
    trace('done');
  }
}
