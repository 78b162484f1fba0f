import { pathToFileURL } from 'node:url';
import { MongoClient, ObjectId, type Collection, type Document } from 'mongodb';
import { startEngine } from '../test/support/mongo-engine/index.js';
import {
  engineStats,
  resetEngineStats,
  setIndexUse,
  type IndexUse,
} from '../test/support/mongo-engine/planner.js';

/** Events waiting to be claimed, whatever the number stored: the queue a worker keeps draining. */
const PENDING = 200;
const PLATFORMS = [new ObjectId(), new ObjectId()];

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function event(i: number, status: string): Document {
  return {
    platformId: PLATFORMS[i % PLATFORMS.length],
    eventId: `e${i}`,
    type: 'activity.grade.updated',
    occurredAt: new Date(1_700_000_000_000 + i * 1000),
    receivedAt: new Date(1_700_000_000_000 + i * 1000),
    source: 'webhook',
    course: { id: `course-${i % 100}` },
    user: { id: `learner-${i % 1000}` },
    data: { activityId: `quiz-${i % 7}`, score: i % 100 },
    courseRef: null,
    personRef: null,
    status,
    attempts: 0,
    lockedUntil: null,
    processedAt: null,
    error: null,
  };
}

interface Timing {
  /** Round trip through the driver, mean and median. */
  usPerQuery: number;
  p50Us: number;
  /** The engine's own time for the command (no driver, no socket), median. */
  engineP50Us: number;
  docsExaminedPerQuery: number;
  keysExaminedPerQuery: number;
  plan: string;
}

/** Runs `query` `n` times (after a short warm-up), timing each round trip and counting what the engine examined. */
async function measure(n: number, query: () => Promise<void>, after?: () => Promise<void>): Promise<Timing> {
  for (let i = 0; i < 5; i++) {
    await query();
    await after?.();
  }
  const times: number[] = [];
  const engineTimes: number[] = [];
  let docs = 0;
  let keys = 0;
  let plan = '';
  for (let i = 0; i < n; i++) {
    resetEngineStats();
    const start = process.hrtime.bigint();
    await query();
    times.push(Number(process.hrtime.bigint() - start) / 1000);
    engineTimes.push(engineStats.commandMicros);
    docs += engineStats.docsExamined;
    keys += engineStats.keysExamined;
    plan = engineStats.lastPlan;
    await after?.();
  }
  times.sort((a, b) => a - b);
  engineTimes.sort((a, b) => a - b);
  return {
    usPerQuery: round(times.reduce((a, b) => a + b, 0) / n, 0),
    p50Us: round(times[Math.floor(n / 2)]!, 0),
    engineP50Us: round(engineTimes[Math.floor(n / 2)]!, 0),
    docsExaminedPerQuery: round(docs / n),
    keysExaminedPerQuery: round(keys / n),
    plan,
  };
}

async function fill(events: Collection, stored: number): Promise<number> {
  await events.createIndex({ platformId: 1, eventId: 1 }, { unique: true });
  await events.createIndex({ status: 1, receivedAt: 1 });
  await events.createIndex({ platformId: 1, personRef: 1, occurredAt: 1 });
  for (let i = 0; i < stored; i += 5000) {
    const docs = [];
    for (let k = i; k < Math.min(stored, i + 5000); k++)
      docs.push(event(k, k >= stored - PENDING ? 'pending' : 'processed'));
    await events.insertMany(docs, { ordered: false });
  }
  return stored;
}

/**
 * The in-memory engine's cost per query at 1,000 and 100,000 stored events, with its planner
 * ("indexed") and forced to scan ("scan", what every query cost before the planner): the claim
 * of src/progress/processPending.ts, and a find by the (platformId, eventId) unique index.
 */
export async function benchEngine(scales = [1000, 100_000]) {
  const rows: ({ stored: number; query: string; engine: string } & Timing)[] = [];
  for (const stored of scales) {
    const engine = await startEngine();
    const client = new MongoClient(engine.uri);
    try {
      await client.connect();
      const events = client.db('bench_engine').collection('learning_events');
      let next = await fill(events, stored);
      for (const mode of ['off', 'auto'] as IndexUse[]) {
        setIndexUse(mode);
        // Scanning 100,000 documents per query is slow: fewer rounds for it.
        const n = mode === 'off' && stored > 10_000 ? 20 : 300;
        let claimed: Document | null = null;
        const claim = await measure(
          n,
          async () => {
            const now = new Date();
            claimed = await events.findOneAndUpdate(
              {
                status: { $in: ['pending', 'processing'] },
                $or: [{ lockedUntil: null }, { lockedUntil: { $lte: now } }],
              },
              {
                $set: { status: 'processing', lockedUntil: new Date(now.getTime() + 120_000) },
                $inc: { attempts: 1 },
              },
              { sort: { receivedAt: 1, _id: 1 }, returnDocument: 'after' },
            );
          },
          async () => {
            // The worker finishes the event, and a new one arrives: the queue stays PENDING long.
            const done = claimed as Document | null;
            if (done) {
              await events.updateOne(
                { _id: done._id },
                { $set: { status: 'processed', processedAt: new Date(), lockedUntil: null } },
              );
            }
            await events.insertOne(event(next++, 'pending'));
          },
        );
        let k = 0;
        const find = await measure(n, async () => {
          const i = (k++ * 7919) % stored;
          const found = await events.findOne({
            platformId: PLATFORMS[i % PLATFORMS.length],
            eventId: `e${i}`,
          });
          if (!found) throw new Error(`event e${i} not found`);
        });
        // The batch form of the claim (processPending.ts reads a batch, then takes it).
        const batch = await measure(n, async () => {
          const now = new Date();
          await events
            .find({
              status: { $in: ['pending', 'processing'] },
              $or: [{ lockedUntil: null }, { lockedUntil: { $lte: now } }],
            })
            .sort({ receivedAt: 1, _id: 1 })
            .limit(100)
            .toArray();
        });
        const mark = mode === 'off' ? 'scan' : 'indexed';
        rows.push({ stored, query: 'claim', engine: mark, ...claim });
        rows.push({ stored, query: 'claim batch of 100', engine: mark, ...batch });
        rows.push({ stored, query: 'find by eventId', engine: mark, ...find });
      }
    } finally {
      setIndexUse('auto');
      await client.close();
      await engine.close();
    }
  }
  const pick = (stored: number, query: string, engine: string) =>
    rows.find((r) => r.stored === stored && r.query === query && r.engine === engine)?.engineP50Us ?? NaN;
  const [small, large] = [scales[0]!, scales[scales.length - 1]!];
  const growth = (query: string) => round(pick(large, query, 'indexed') / pick(small, query, 'indexed'), 2);
  // The engine's own medians: on a shared machine, round trips and means carry other processes' pauses.
  const summary = {
    claimEngineP50UsIndexed: {
      [small]: pick(small, 'claim', 'indexed'),
      [large]: pick(large, 'claim', 'indexed'),
    },
    claimEngineP50UsScan: { [small]: pick(small, 'claim', 'scan'), [large]: pick(large, 'claim', 'scan') },
    claimGrowthIndexed: growth('claim'),
    claimBatchGrowthIndexed: growth('claim batch of 100'),
    findGrowthIndexed: growth('find by eventId'),
  };
  return { rows, summary };
}

/** Prints the table and the JSON line, as bench/run.ts does for the others. */
export function printEngine(figures: Awaited<ReturnType<typeof benchEngine>>): void {
  console.log(
    '\nIn-memory engine: per-query round trip (µs) and documents examined, with the planner ("indexed") and forced to scan',
  );
  console.table(figures.rows);
  const { summary } = figures;
  console.log(
    `Engine time (median) at the largest size against the smallest, with indexes: claim ${summary.claimGrowthIndexed}x, ` +
      `claim batch ${summary.claimBatchGrowthIndexed}x, find by eventId ${summary.findGrowthIndexed}x ` +
      '(1 is flat: the cost does not grow with the collection).',
  );
  console.log(JSON.stringify({ engine: figures }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchEngine()
    .then(printEngine)
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
