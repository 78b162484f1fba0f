import type { Connection, Types } from 'mongoose';
import { registerPlatform } from '../src/platforms/service.js';
import { recalculateTemplate } from '../src/progress/recalculation.js';
import { runQueuedRecalculations } from '../src/progress/recalculationQueue.js';
import { activateTemplate, createTemplate, updateTemplate } from '../src/templates/service.js';
import { createTemplateSchema, updateTemplateSchema } from '../src/templates/schema.js';
import { profiled } from './profile.js';
import { benchContext } from './support-context.js';
import { seededRandom, separateDatabase } from './support-database.js';

const DAY = 24 * 60 * 60 * 1000;

/** "Any 3 labs at 70% or more" (a count by activity name) and a completion within 120 days of enrolment. */
const countsAndWindow = (platformId: string, courseId: string, labMin: number) =>
  createTemplateSchema.parse({
    platformId,
    courseId,
    name: 'Lab practice',
    groups: [
      {
        requirements: [
          {
            id: 'labs',
            event: 'activity.grade.updated',
            rules: [{ path: 'data.percent', op: 'gte', value: labMin }],
            activities: { name: 'lab', atLeast: 3 },
          },
        ],
      },
      {
        requirements: [
          { id: 'done', event: 'course.completed', rules: [], window: { daysAfterEnrolment: 120 } },
        ],
      },
    ],
  });

/** Tiers on the final exam, with "any 2 of the 3 quizzes at 60% or more". */
const tiersAndCount = (platformId: string, courseId: string, goldMin: number) =>
  createTemplateSchema.parse({
    platformId,
    courseId,
    name: 'Final exam',
    levels: {
      activityId: 'final-exam',
      steps: [
        { name: 'Bronze', min: 60 },
        { name: 'Silver', min: 75 },
        { name: 'Gold', min: goldMin },
      ],
    },
    groups: [
      {
        atLeast: 2,
        requirements: [1, 2, 3].map((q) => ({
          id: `quiz-${q}`,
          event: 'activity.grade.updated',
          rules: [
            { path: 'data.activityId', op: 'eq', value: `quiz-${q}` },
            { path: 'data.percent', op: 'gte', value: 60 },
          ],
        })),
      },
    ],
  });

/**
 * A recalculation of `learners` × 20 stored events for one badge, through the job the badge's
 * activation or a change of its rules queues (runQueuedRecalculations), twice per badge: on
 * activation (no progress yet) and after a change of its rules (every learner's progress rewritten).
 * Two badges over the same events: counts of labs and a window from enrolment (each learner judged
 * over their whole history), and tiers on the final exam with any 2 of 3 quizzes (the step
 * function). Database round trips counted with the driver's command monitoring; the instructor's
 * dry run (the same evaluation without writes) timed too. `every: false` (in `npm run bench`, all)
 * keeps to the first badge, for time.
 */
export async function benchRecalculation(options: { learners?: number; every?: boolean } = {}) {
  const learners = options.learners ?? 10_000;
  const eventsPerLearner = 20;
  const db = await separateDatabase('laurel_recalc');
  let connection: Connection | undefined;
  try {
    // Nothing is processed by Agenda here: the bench runs the job's work itself, to time it alone.
    const bench = await benchContext(db.uri, 60 * 60_000);
    connection = bench.connection;
    const ctx = bench.ctx;
    const { models } = ctx;
    const actor = { type: 'system' as const, id: 'bench' };
    const { platform } = await registerPlatform(
      ctx,
      {
        name: 'Recalculation LMS',
        lms: 'moodle',
        issuer: 'https://recalc.example.edu',
        clientId: 'recalc',
        authLoginUrl: 'https://recalc.example.edu/auth',
        authTokenUrl: 'https://recalc.example.edu/token',
        jwksUrl: 'https://recalc.example.edu/jwks',
        deploymentIds: ['1'],
      },
      { actor, via: 'api' },
    );
    const platformId = String(platform._id);
    const courseId = 'course-recalc';
    const labs = await createTemplate(ctx, countsAndWindow(platformId, courseId, 70), actor);
    const tiers = await createTemplate(ctx, tiersAndCount(platformId, courseId, 90), actor);
    const courseRef = labs.courseRef as Types.ObjectId;

    const setupStart = Date.now();
    const people: Types.ObjectId[] = [];
    for (let i = 0; i < learners; i += 1000) {
      const docs = await models.people.insertMany(
        Array.from({ length: Math.min(1000, learners - i) }, (_, k) => ({
          platformId: platform._id,
          ids: [`learner-${i + k}`],
          lmsUserId: `learner-${i + k}`,
          email: `learner-${i + k}@example.edu`,
          createKey: `${platformId}:learner-${i + k}`,
        })),
      );
      people.push(...docs.map((d) => d._id));
    }
    // 20 stored (already processed) events a learner: an enrolment, 10 lab grades over 6 labs,
    // 3 quizzes, the final exam and its regrade, 3 essays, the completion; by the LMS's time over
    // some 200 days, so that some completions fall outside the window.
    const rand = seededRandom(22);
    const start = Date.now() - 300 * DAY;
    let serial = 0;
    const eventsOf = (i: number) => {
      const enrolled = start + rand(30) * DAY;
      const at = (days: number) => new Date(enrolled + days * DAY + rand(DAY));
      const grade = (activityId: string, activityName: string, percent: number, days: number) => ({
        type: 'activity.grade.updated',
        at: at(days),
        data: { activityId, activityName, percent },
      });
      const list = [
        { type: 'enrollment.created', at: at(0), data: {} as Record<string, unknown> },
        ...Array.from({ length: 10 }, (_, k) => {
          const lab = 1 + (k % 6);
          return grade(`lab-${lab}`, `Lab ${lab}`, 40 + rand(61), 5 + k * 10);
        }),
        ...[1, 2, 3].map((q) => grade(`quiz-${q}`, `Quiz ${q}`, 30 + rand(71), 20 + q * 30)),
        grade('final-exam', 'Final exam', 40 + rand(61), 110),
        grade('final-exam', 'Final exam', 40 + rand(61), 115),
        ...[1, 2, 3].map((e) => grade(`essay-${e}`, `Essay ${e}`, rand(101), 40 + e * 20)),
        { type: 'course.completed', at: at(60 + rand(120)), data: {} },
      ];
      return list.map((e) => ({
        platformId: platform._id,
        eventId: `recalc-${serial++}`,
        type: e.type,
        occurredAt: e.at,
        receivedAt: new Date(e.at.getTime() + 1000 + rand(60_000)),
        source: 'generic',
        course: { id: courseId },
        user: { id: `learner-${i}`, email: `learner-${i}@example.edu` },
        data: e.data,
        courseRef,
        personRef: people[i]!,
        status: 'processed',
        attempts: 1,
        lockedUntil: null,
        claim: null,
        processedAt: new Date(),
        error: null,
      }));
    };
    // Inserted in learner order shuffled by blocks, so a learner's events are not one run of ids.
    for (let i = 0; i < learners; i += 500) {
      const block = Array.from({ length: Math.min(500, learners - i) }, (_, k) => eventsOf(i + k)).flat();
      for (let k = block.length - 1; k > 0; k--) {
        const j = rand(k + 1);
        [block[k], block[j]] = [block[j]!, block[k]!];
      }
      await models.events.collection.insertMany(block);
    }
    const setupSeconds = (Date.now() - setupStart) / 1000;

    let commands = 0;
    let byCommand = new Map<string, number>();
    connection
      .getClient()
      .on('commandStarted', (e: { commandName: string; command: Record<string, unknown> }) => {
        commands++;
        // getMore names its cursor first and its collection after.
        const on = e.commandName === 'getMore' ? e.command.collection : e.command[e.commandName];
        const name = `${e.commandName} ${String(on ?? '')}`;
        byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
      });

    /** One measured phase: the job's run after the badge was activated or changed. */
    const measure = async (name: string, template: string, phase: string, queue: () => Promise<unknown>) => {
      await queue();
      commands = 0;
      byCommand = new Map();
      const cpu = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const runs = await profiled(`recalculation-${name}`, () => runQueuedRecalculations(ctx));
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const used = process.cpuUsage(cpu);
      const roundTrips = commands;
      const doc = await models.templates.findOne({ name: template }).lean();
      const state = doc?.recalculation;
      if (runs !== 1 || state?.state !== 'done')
        throw new Error(`recalculation of ${template} (${phase}) did not finish: ${JSON.stringify(state)}`);
      return {
        template,
        phase,
        learners: state.done,
        events: learners * eventsPerLearner,
        awarded: state.awarded,
        seconds: +seconds.toFixed(2),
        learnersPerSecond: Math.round(state.done / seconds),
        cpuSeconds: +((used.user + used.system) / 1e6).toFixed(2),
        roundTrips,
        roundTripsPerLearner: +(roundTrips / state.done).toFixed(3),
        byCommand: Object.fromEntries([...byCommand].sort((a, b) => b[1] - a[1])),
      };
    };
    const rows: Awaited<ReturnType<typeof measure>>[] = [];
    rows.push(
      await measure('labs-activate', 'Lab practice', 'activated', () =>
        activateTemplate(ctx, String(labs._id), actor),
      ),
    );
    rows.push(
      await measure('labs-change', 'Lab practice', 'rules changed', () =>
        updateTemplate(
          ctx,
          String(labs._id),
          updateTemplateSchema.parse({ groups: countsAndWindow(platformId, courseId, 60).groups }),
          actor,
        ),
      ),
    );
    if (options.every !== false) {
      rows.push(
        await measure('tiers-activate', 'Final exam', 'activated', () =>
          activateTemplate(ctx, String(tiers._id), actor),
        ),
      );
      rows.push(
        await measure('tiers-change', 'Final exam', 'rules changed', () =>
          updateTemplate(
            ctx,
            String(tiers._id),
            updateTemplateSchema.parse({ levels: tiersAndCount(platformId, courseId, 85).levels }),
            actor,
          ),
        ),
      );
    }

    // The instructor's dry run of the changed badge: the same evaluation, no writes.
    const changed = await models.templates.findOne({ _id: labs._id }).lean();
    commands = 0;
    const t0 = process.hrtime.bigint();
    const dry = await recalculateTemplate(ctx, changed!, { dryRun: true });
    const drySeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const dryRun = {
      learners: dry.learners,
      seconds: +drySeconds.toFixed(2),
      roundTrips: commands,
      roundTripsPerLearner: +(commands / dry.learners).toFixed(3),
    };
    const credentials = await models.credentials.countDocuments({});
    const pairs = (await models.credentials.distinct('personId', { templateId: labs._id })).length;
    const labsCredentials = await models.credentials.countDocuments({ templateId: labs._id });
    await ctx.jobs.stop(0);
    return {
      database: db.kind,
      learners,
      eventsPerLearner,
      setupSeconds: +setupSeconds.toFixed(1),
      runs: rows,
      dryRun,
      credentials,
      awardedTwice: labsCredentials - pairs,
    };
  } finally {
    await connection?.close();
    await db.stop();
  }
}
