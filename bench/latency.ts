import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { signatureHeader } from '../src/events/signature.js';
import { startLaurel, type Laurel } from '../src/laurel.js';
import { registerPlatform } from '../src/platforms/service.js';
import { activateTemplate, createTemplate } from '../src/templates/service.js';
import { createTemplateSchema } from '../src/templates/schema.js';
import { withDevDefaults } from '../test/support/dev-env.js';
import { percentile, seededRandom, separateDatabase } from './support-database.js';

const DAY = 24 * 60 * 60 * 1000;
const COURSES = 5;
const LEVELS = [
  { name: 'Bronze', min: 60 },
  { name: 'Silver', min: 75 },
  { name: 'Gold', min: 90 },
];
const levelId = (name: string) => name.toLowerCase();

/** The four badges of each course, one per new kind of rule. */
const badgesOf = (platformId: string, courseId: string) =>
  [
    // Tiers on the final exam, alone: earned at Bronze, superseded by Silver and Gold.
    { kind: 'tiers', name: `Final exam ${courseId}`, levels: { activityId: 'final-exam', steps: LEVELS } },
    // A count of activities by name: any 3 labs at 70% or more.
    {
      kind: 'labs',
      name: `Labs ${courseId}`,
      groups: [
        {
          requirements: [
            {
              event: 'activity.grade.updated',
              rules: [{ path: 'data.percent', op: 'gte', value: 70 }],
              activities: { name: 'lab', atLeast: 3 },
            },
          ],
        },
      ],
    },
    // Any 2 of 3 requirements.
    {
      kind: 'quizzes',
      name: `Quizzes ${courseId}`,
      groups: [
        {
          atLeast: 2,
          requirements: [1, 2, 3].map((q) => ({
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: `quiz-${q}` },
              { path: 'data.percent', op: 'gte', value: 60 },
            ],
          })),
        },
      ],
    },
    // A window by the LMS's time: completed within 30 days of enrolment.
    {
      kind: 'window',
      name: `On time ${courseId}`,
      groups: [
        {
          requirements: [{ event: 'course.completed', rules: [], window: { daysAfterEnrolment: 30 } }],
        },
      ],
    },
  ].map(({ kind, ...rest }) => ({
    kind,
    input: createTemplateSchema.parse({ platformId, courseId, ...rest }),
  }));

type Planned = {
  id: string;
  type: string;
  user: string;
  course: string;
  occurredAt?: number;
  data: Record<string, unknown>;
};

/**
 * One learner's term, in order: enrolment (up to 60 days ago by the LMS's time), five labs and three
 * quizzes interleaved, the final exam and a regrade that may raise it, the completion. 12 events.
 */
function termOf(learner: string, course: string, rand: (n: number) => number): Planned[] {
  let n = 0;
  const ev = (type: string, data: Record<string, unknown> = {}, occurredAt?: number): Planned => ({
    id: `${learner}-${n++}`,
    type,
    user: learner,
    course,
    ...(occurredAt !== undefined ? { occurredAt } : {}),
    data,
  });
  const grade = (activityId: string, activityName: string, percent: number) =>
    ev('activity.grade.updated', { activityId, activityName, percent });
  const work = [
    ...[1, 2, 3, 4, 5].map((l) => grade(`lab-${l}`, `Lab ${l}`, 50 + rand(51))),
    ...[1, 2, 3].map((q) => grade(`quiz-${q}`, `Quiz ${q}`, 40 + rand(61))),
  ];
  for (let k = work.length - 1; k > 0; k--) {
    const j = rand(k + 1);
    [work[k], work[j]] = [work[j]!, work[k]!];
  }
  const exam = 55 + rand(31);
  return [
    // Half a day off whole days, so that no enrolment sits on the window's edge.
    ev('enrollment.created', {}, Date.now() - rand(60) * DAY - DAY / 2),
    ...work,
    grade('final-exam', 'Final exam', exam),
    grade('final-exam', 'Final exam', Math.min(100, exam + rand(16))),
    ev('course.completed'),
  ];
}

/**
 * What the rules must award, by a plain reading of the badges (not Laurel's code): per badge,
 * learner (and level) the event that makes it due. Keys `${kind}:${course}:${learner}:${level}`.
 */
function expectedAwards(events: readonly Planned[]): Map<string, string> {
  const due = new Map<string, string>();
  type S = { labs: Set<string>; quizzes: Set<string>; best: number; enrolledAt: number | null };
  const state = new Map<string, S>();
  for (const e of events) {
    const s = state.get(e.user) ?? { labs: new Set(), quizzes: new Set(), best: -1, enrolledAt: null };
    state.set(e.user, s);
    const key = (kind: string, level = '') => `${kind}:${e.course}:${e.user}:${level}`;
    const percent = e.data.percent as number;
    const activity = e.data.activityId as string;
    if (e.type === 'enrollment.created') s.enrolledAt = e.occurredAt!;
    if (e.type === 'course.completed' && s.enrolledAt !== null && Date.now() - s.enrolledAt <= 30 * DAY)
      due.set(key('window'), e.id);
    if (e.type !== 'activity.grade.updated') continue;
    if (activity.startsWith('lab') && percent >= 70 && s.labs.size < 3) {
      s.labs.add(activity);
      if (s.labs.size === 3) due.set(key('labs'), e.id);
    }
    if (activity.startsWith('quiz') && percent >= 60 && s.quizzes.size < 2) {
      s.quizzes.add(activity);
      if (s.quizzes.size === 2) due.set(key('quizzes'), e.id);
    }
    if (activity === 'final-exam' && percent > s.best) {
      const before = LEVELS.filter((l) => l.min <= s.best).at(-1);
      const now = LEVELS.filter((l) => l.min <= percent).at(-1);
      if (now && now !== before) due.set(key('tiers', levelId(now.name)), e.id);
      s.best = percent;
    }
  }
  return due;
}

/**
 * Event → award latency while events stream at a steady rate: `rate` events a second for `seconds`
 * through POST /api/v1/events (signed, one request every 20 ms carrying the events due), from
 * learners each working through a term, over 5 courses of 4 badges: tiers, a count of labs, any 2 of
 * 3 quizzes, a window from enrolment. Each award's latency runs from the POST of the event that made
 * it due to the credential's `awardedAt`, and to its `issuedAt` (signed).
 */
async function streamAt(
  laurel: Laurel,
  platformId: string,
  secret: string,
  templateKinds: Map<string, { kind: string; course: string }>,
  rate: number,
  seconds: number,
) {
  const { ctx, url } = laurel;
  const rand = seededRandom(rate);
  const total = Math.round(rate * seconds);
  // A pool of learners under way, so that a learner's events come some time apart (pool ÷ rate).
  const poolSize = Math.max(20, Math.round(rate / 2));
  const stream: Planned[] = [];
  const pool: Planned[][] = [];
  let learners = 0;
  while (stream.length < total) {
    while (pool.length < poolSize) {
      const learner = `r${rate}-learner-${learners++}`;
      pool.push(termOf(learner, `course-${learners % COURSES}`, rand));
    }
    const k = rand(pool.length);
    stream.push(pool[k]!.shift()!);
    if (pool[k]!.length === 0) pool.splice(k, 1);
  }
  const expected = expectedAwards(stream);

  const postedAt = new Map<string, number>();
  const tickMs = 20;
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let refused = 0;
  const start = Date.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
    if (due > sent) {
      const batch = stream.slice(sent, due);
      sent = due;
      const raw = JSON.stringify({
        events: batch.map((e) => ({
          id: e.id,
          type: e.type,
          occurredAt: new Date(e.occurredAt ?? Date.now()).toISOString(),
          platform: platformId,
          course: { id: e.course },
          user: { id: e.user, email: `${e.user}@example.edu` },
          data: e.data,
        })),
      });
      const at = Date.now();
      for (const e of batch) postedAt.set(e.id, at);
      const request = fetch(`${url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-laurel-signature': signatureHeader(secret, raw) },
        body: raw,
      }).then(async (res) => {
        await res.arrayBuffer();
        if (res.status !== 200) refused += batch.length;
      });
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    }
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  await Promise.all(inFlight);
  const sentAt = Date.now();
  const sendSeconds = (sentAt - start) / 1000;
  let processedAt: number | null = null;

  // Until every event is processed and every award signed (or a generous deadline).
  const deadline = Date.now() + 5 * 60_000;
  const users = [...new Set(stream.map((e) => e.user))];
  const { models } = ctx;
  let credentials: {
    templateId: unknown;
    userId: string;
    level?: string | null;
    status: string;
    awardedAt: Date;
    issuedAt: Date | null;
  }[] = [];
  for (;;) {
    const [pending, waiting] = await Promise.all([
      models.events.countDocuments({ status: { $in: ['pending', 'processing'] } }),
      models.credentials.countDocuments({ status: 'awarded' }),
    ]);
    if (pending === 0) processedAt ??= Date.now();
    credentials = await models.credentials
      .find(
        { platformId, userId: { $in: users } },
        { templateId: 1, userId: 1, level: 1, status: 1, awardedAt: 1, issuedAt: 1 },
      )
      .lean();
    // Every event processed and no award waiting to be signed: whatever is due was awarded by then.
    if ((pending === 0 && waiting === 0) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const toAward: number[] = [];
  const toIssued: number[] = [];
  const seen = new Map<string, number>();
  for (const c of credentials) {
    const t = templateKinds.get(String(c.templateId))!;
    const key = `${t.kind}:${t.course}:${c.userId}:${c.level ?? ''}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const trigger = expected.get(key);
    const posted = trigger ? postedAt.get(trigger) : undefined;
    if (posted === undefined) continue;
    toAward.push(c.awardedAt.getTime() - posted);
    if (c.issuedAt) toIssued.push(c.issuedAt.getTime() - posted);
  }
  const heldLevels = new Map<string, number>();
  for (const key of seen.keys())
    if (key.startsWith('tiers:')) {
      const learner = key.slice(0, key.lastIndexOf(':'));
      const rank = LEVELS.findIndex((l) => levelId(l.name) === key.slice(key.lastIndexOf(':') + 1));
      heldLevels.set(learner, Math.max(heldLevels.get(learner) ?? -1, rank));
    }
  let tiersSkipped = 0;
  const missing = [...expected.keys()].filter((k) => {
    if (seen.has(k)) return false;
    if (!k.startsWith('tiers:')) return true;
    const rank = LEVELS.findIndex((l) => levelId(l.name) === k.slice(k.lastIndexOf(':') + 1));
    if ((heldLevels.get(k.slice(0, k.lastIndexOf(':'))) ?? -1) > rank) tiersSkipped++;
    else return true;
    return false;
  });
  toAward.sort((a, b) => a - b);
  toIssued.sort((a, b) => a - b);
  return {
    rate,
    seconds,
    events: total,
    refused,
    sentPerSecond: Math.round(total / sendSeconds),
    // How long after the last POST every event was processed: a backlog the rate built up.
    backlogSeconds: processedAt === null ? null : +((processedAt - sentAt) / 1000).toFixed(1),
    learners: users.length,
    awardsExpected: expected.size,
    awards: credentials.length,
    missing: missing.length,
    // A lower level and a higher one reached in one processing batch: only the higher is awarded.
    tiersSkipped,
    unexpected: [...seen.keys()].filter((k) => !expected.has(k)).length,
    awardedTwice: [...seen.values()].filter((n) => n > 1).length,
    issued: credentials.filter((c) => c.issuedAt).length,
    awardP50Ms: percentile(toAward, 50),
    awardP99Ms: percentile(toAward, 99),
    awardMaxMs: toAward.at(-1) ?? 0,
    issuedP50Ms: percentile(toIssued, 50),
    issuedP99Ms: percentile(toIssued, 99),
    issuedMaxMs: toIssued.at(-1) ?? 0,
  };
}

/** The latency bench: one all-roles Laurel, each rate in turn (fresh learners each time). */
export async function benchLatency(
  options: { rates?: number[]; seconds?: number } = {},
): Promise<Awaited<ReturnType<typeof streamAt>>[]> {
  const rates = options.rates ?? [200, 1000];
  const seconds = options.seconds ?? 20;
  const db = await separateDatabase('laurel_latency');
  let laurel: Laurel | undefined;
  try {
    const { env } = withDevDefaults({ NODE_ENV: 'test', PORT: '0', MONGODB_URI: db.uri, LAUREL_ROLE: 'all' });
    laurel = await startLaurel(loadConfig(env), { logger: pino({ level: 'silent' }) });
    const { ctx } = laurel;
    const actor = { type: 'system' as const, id: 'bench' };
    const { platform, webhookSecret } = await registerPlatform(
      ctx,
      {
        name: 'Latency LMS',
        lms: 'moodle',
        issuer: 'https://latency.example.edu',
        clientId: 'latency',
        authLoginUrl: 'https://latency.example.edu/auth',
        authTokenUrl: 'https://latency.example.edu/token',
        jwksUrl: 'https://latency.example.edu/jwks',
        deploymentIds: ['1'],
      },
      { actor, via: 'api' },
    );
    const platformId = String(platform._id);
    const kinds = new Map<string, { kind: string; course: string }>();
    for (let c = 0; c < COURSES; c++)
      for (const { kind, input } of badgesOf(platformId, `course-${c}`)) {
        const t = await createTemplate(ctx, input, actor);
        await activateTemplate(ctx, String(t._id), actor);
        kinds.set(String(t._id), { kind, course: `course-${c}` });
      }
    // Let start-up settle (indexes, recurring jobs, the activations' empty recalculations).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const rows = [];
    for (const rate of rates)
      rows.push(await streamAt(laurel, platformId, webhookSecret, kinds, rate, seconds));
    return rows;
  } finally {
    await laurel?.close();
    await db.stop();
  }
}
