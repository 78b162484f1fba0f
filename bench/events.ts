import type { Connection } from 'mongoose';
import { ingestGenericEvents } from '../src/events/ingest.js';
import { signatureHeader } from '../src/events/signature.js';
import { registerPlatform } from '../src/platforms/service.js';
import { processPendingEvents } from '../src/progress/processPending.js';
import { createTemplate } from '../src/templates/service.js';
import { createTemplateSchema } from '../src/templates/schema.js';
import { profiled } from './profile.js';
import { benchContext } from './support-context.js';
import { cpuSecondsOf, separateDatabase, type BenchDatabase } from './support-database.js';
import { withDatabase } from '../test/support/database.js';

/**
 * Events per second through ingestion and processing, and database round trips per event, with
 * `scale`× (50 templates, 1,000 learners). Round trips are counted with the driver's command
 * monitoring, so they do not depend on how fast this machine or database is. The database is a
 * process of its own (the in-memory engine in a child process unless MONGODB_URI is set), as a
 * real MongoDB is, so CPU per event is reported for each side: Laurel's and the database's. Runs
 * given one `server` share it (a database of their own each, dropped after), so that a warm-up run
 * warms the database's code paths too.
 */
export async function benchEvents(scale: number, eventCount: number, server?: BenchDatabase) {
  const templates = 50 * scale;
  const learners = 1000 * scale;
  const courses = 10 * scale;
  const own = server ? undefined : await separateDatabase('laurel_events');
  const db = (server ?? own)!;
  let connection: Connection | undefined;
  try {
    const bench = await benchContext(withDatabase(db.uri, `laurel_events_${scale}x_${Date.now()}`), 60_000);
    connection = bench.connection;
    const ctx = bench.ctx;
    const { models } = ctx;
    const actor = { type: 'system' as const, id: 'bench' };
    const { platform, webhookSecret } = await registerPlatform(
      ctx,
      {
        name: 'Bench LMS',
        lms: 'moodle',
        issuer: 'https://bench.example.edu',
        clientId: 'bench',
        authLoginUrl: 'https://bench.example.edu/auth',
        authTokenUrl: 'https://bench.example.edu/token',
        jwksUrl: 'https://bench.example.edu/jwks',
        deploymentIds: ['1'],
      },
      { actor, via: 'api' },
    );
    for (let i = 0; i < templates; i++) {
      const input = createTemplateSchema.parse({
        platformId: String(platform._id),
        courseId: `course-${i % courses}`,
        name: `Badge ${i}`,
        groups: [
          {
            requirements: [
              {
                event: 'activity.grade.updated',
                rules: [
                  { path: 'data.activityId', op: 'eq', value: `quiz-${i % 7}` },
                  { path: 'data.percent', op: 'gte', value: 60 },
                ],
              },
            ],
          },
          { requirements: [{ event: 'course.completed' }] },
        ],
      });
      const t = await createTemplate(ctx, input, actor);
      await models.templates.updateOne(
        { _id: t._id },
        { $set: { state: 'active', activeSince: new Date(0) } },
      );
    }

    // Learners are known (from launches or the roster), as in a course under way.
    for (let i = 0; i < learners; i += 1000) {
      await models.people.insertMany(
        Array.from({ length: Math.min(1000, learners - i) }, (_, k) => ({
          platformId: platform._id,
          ids: [`learner-${i + k}`],
          lmsUserId: `learner-${i + k}`,
          email: `learner-${i + k}@example.edu`,
          createKey: `${platform._id}:learner-${i + k}`,
        })),
      );
    }

    // Deterministic pseudo-random events so runs compare.
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const events = Array.from({ length: eventCount }, (_, i) => {
      const learner = rand(learners);
      const completed = rand(5) === 0;
      return {
        id: `bench-${i}`,
        type: completed ? 'course.completed' : 'activity.grade.updated',
        occurredAt: new Date().toISOString(),
        platform: String(platform._id),
        course: { id: `course-${learner % courses}` },
        user: { id: `learner-${learner}`, email: `learner-${learner}@example.edu` },
        data: completed ? {} : { activityId: `quiz-${rand(7)}`, score: 40 + rand(60), maxScore: 100 },
      };
    });

    let commands = 0;
    connection.getClient().on('commandStarted', () => commands++);

    const cpuBefore = process.cpuUsage();
    const dbCpuBefore = cpuSecondsOf(db.pid);
    const ingestStart = process.hrtime.bigint();
    commands = 0;
    await profiled(
      `events-ingest-${scale}x`,
      async () => {
        for (let i = 0; i < events.length; i += 500) {
          const raw = Buffer.from(JSON.stringify({ events: events.slice(i, i + 500) }));
          await ingestGenericEvents(ctx, raw, signatureHeader(webhookSecret, raw));
        }
      },
      db,
    );
    const ingestSeconds = Number(process.hrtime.bigint() - ingestStart) / 1e9;
    const ingestCommands = commands;

    commands = 0;
    const processCpu = process.cpuUsage();
    const dbProcessCpu = cpuSecondsOf(db.pid);
    const processStart = process.hrtime.bigint();
    let processed = 0;
    await profiled(
      `events-process-${scale}x`,
      async () => {
        for (;;) {
          const run = await processPendingEvents(ctx, 10_000);
          processed += run.processed;
          if (run.processed === 0) break;
        }
      },
      db,
    );
    const processSeconds = Number(process.hrtime.bigint() - processStart) / 1e9;
    const cpu = process.cpuUsage(processCpu);
    const allCpu = process.cpuUsage(cpuBefore);
    const dbCpuNow = cpuSecondsOf(db.pid);
    // CPU time (Laurel's, and the engine's process unless MONGODB_URI is set), which a busy shared
    // machine disturbs less than the wall clock.
    const processCpuSeconds = (cpu.user + cpu.system) / 1e6 + (dbCpuNow - dbProcessCpu);
    const processCommands = commands;
    const awards = await models.credentials.countDocuments({});
    await ctx.jobs.stop(0);
    return {
      database: db.kind,
      scale: `${scale}x`,
      templates,
      learners,
      events: eventCount,
      processed,
      awards,
      ingestPerSecond: Math.round(eventCount / ingestSeconds),
      processPerSecond: Math.round(processed / processSeconds),
      endToEndPerSecond: Math.round(eventCount / (ingestSeconds + processSeconds)),
      roundTripsPerEventIngest: +(ingestCommands / eventCount).toFixed(3),
      roundTripsPerEventProcess: +(processCommands / processed).toFixed(2),
      processPerCpuSecond: Math.round(processed / processCpuSeconds),
      // End to end (ingestion and processing), per event sent.
      laurelCpuMsPerEvent: +((allCpu.user + allCpu.system) / 1000 / eventCount).toFixed(3),
      dbCpuMsPerEvent: +(((dbCpuNow - dbCpuBefore) * 1000) / eventCount).toFixed(3),
    };
  } finally {
    await connection?.db?.dropDatabase().catch(() => undefined);
    await connection?.close();
    await own?.stop();
  }
}
