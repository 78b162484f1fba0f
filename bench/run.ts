import { benchCredentials } from './credentials.js';
import { benchBurst } from './burst.js';
import { benchEngine, printEngine } from './engine.js';
import { benchEvents } from './events.js';
import { benchPublicPages } from './public.js';
import { benchLoad } from './load.js';
import { benchLatency } from './latency.js';
import { benchRecalculation } from './recalculation.js';
import { separateDatabase } from './support-database.js';

/** `npm run bench`: prints each benchmark's figures as a table (and JSON for tools). */
async function main() {
  const which = process.argv[2] ?? 'all';
  if (which === 'all' || which === 'events') {
    const eventCount = Number(process.env.BENCH_EVENTS ?? 2000);
    const rows = [];
    // One database process for the three runs, and a short run first, not reported, so that
    // neither scale pays for compiling the code paths (Laurel's or the database's).
    const server = await separateDatabase('laurel_events');
    try {
      await benchEvents(1, 500, server);
      for (const scale of [1, 10]) rows.push(await benchEvents(scale, eventCount, server));
    } finally {
      await server.stop();
    }
    console.log('\nEvents: ingestion and processing (database round trips counted by command monitoring)');
    console.table(rows);
    const [one, ten] = rows;
    console.log(
      `Round trips per processed event: ${one!.roundTripsPerEventProcess} at 1x, ${ten!.roundTripsPerEventProcess} at 10x` +
        ` (flat means the cost of an event does not grow with templates and learners elsewhere).`,
    );
    console.log(JSON.stringify({ events: rows }));
  }
  if (which === 'all' || which === 'burst') {
    const figures = await benchBurst({ events: Number(process.env.BENCH_BURST_EVENTS ?? 20_000) });
    console.log(
      `\nBurst: ${figures.events} events (${figures.replays} replays) from ${figures.learners} learners on ` +
        `${figures.templates} badges through POST /api/v1/events, one all-roles Laurel process of its own ` +
        `(load average ${figures.loadAverage.join(' ')})`,
    );
    console.table([figures]);
    console.log(
      `Every award issued: ${figures.missing === 0 && figures.issued === figures.awardsExpected ? 'yes' : 'NO'}; ` +
        `awarded twice: ${figures.awardedTwice}; event → issued p99 ${figures.eventToIssuedP99Ms} ms; ` +
        `Laurel's resident memory ${figures.rssAtRestMb} MB at rest, ${figures.rssAfterBurstMb} MB after the burst.`,
    );
    console.log(
      `Where awards wait: event → awarded p99 ${figures.eventToAwardedP99Ms} ms, awarded → issued p99 ` +
        `${figures.awardedToIssuedP99Ms} ms; CPU per event ${figures.laurelCpuMsPerEvent} ms in Laurel, ` +
        `${figures.dbCpuMsPerEvent} ms in the database (${figures.clientCpuMsPerEvent} ms in the load generator). ` +
        `Settled (15 s idle, then a forced GC): ${figures.rssAfterGcMb} MB resident, heap ${figures.heapUsedAfterGcMb} MB live ` +
        `of ${figures.heapTotalAfterGcMb} MB kept (${figures.heapUsedAtRestMb} MB live at rest), ` +
        `${figures.externalAfterGcMb} MB external (${figures.externalAtRestMb} MB at rest).`,
    );
    console.log(JSON.stringify({ burst: figures }));
  }
  if (which === 'all' || which === 'credentials') {
    const figures = await benchCredentials();
    console.log(
      '\nCredentials: OB 3.0 signing (eddsa-rdfc-2022) against raw Ed25519 on this machine, same run',
    );
    console.table([figures]);
    console.log(
      `One signed credential costs as much as ${figures.rawPerCredential} raw Ed25519 signatures: ` +
        'the difference is canonicalisation (JSON-LD templates cached per credential shape, then RDFC-1.0); ' +
        `the stock stack costs ${figures.stockRawPerCredential} in the same run.`,
    );
    console.log(JSON.stringify({ credentials: figures }));
  }
  if (which === 'all' || which === 'public') {
    const figures = await benchPublicPages();
    console.log(
      `\nPublic verification pages: one credential viewed over and over by ${figures.concurrency} clients, ` +
        'and /healthz probed meanwhile (one request at a time)',
    );
    console.table([figures]);
    console.log(
      `${figures.pagesPerSecond} pages a second at ${figures.cpuMsPerPage} ms of CPU each; /healthz ` +
        `${figures.healthzP50Ms} ms at the median under that load (${figures.healthzIdleP50Ms} ms idle).`,
    );
    console.log(JSON.stringify({ publicPages: figures }));
  }
  if (which === 'all' || which === 'load') {
    const f = await benchLoad();
    console.log(
      '\nLoad on loopback against one all-roles Laurel process (NODE_ENV=production): events, whole LTI launches, a cached public page',
    );
    console.log(
      `Method ${f.method}: database ${f.database}, warm-up ${f.warmupMs} ms per phase, load average ${f.loadAverage.join(' ')}`,
    );
    console.table({ events: f.events, launches: f.launches, publicPage: f.pages });
    console.log(
      `Launch p99 ${f.launches.p99Ms} ms (target 150), cached verification page p99 ${f.pages.p99Ms} ms (target 50); ` +
        `resident memory ${f.rssAtRestMb} MB at rest (target 250), ${f.rssAfterLoadMb} MB after the load.`,
    );
    console.log(JSON.stringify({ load: f }));
  }
  if (which === 'all' || which === 'latency') {
    const rates = (process.env.BENCH_STREAM_RATES ?? '200,1000').split(',').map(Number);
    const rows = await benchLatency({ rates, seconds: Number(process.env.BENCH_STREAM_SECONDS ?? 20) });
    console.log(
      '\nEvent → award latency while events stream at a steady rate through POST /api/v1/events (signed), ' +
        'one all-roles process; 5 courses × 4 badges: tiers, any 3 labs (a count by name), any 2 of 3 quizzes, ' +
        'a window from enrolment',
    );
    console.table(rows);
    for (const r of rows)
      console.log(
        `${r.rate}/s: event → awarded p50 ${r.awardP50Ms} ms, p99 ${r.awardP99Ms} ms; → issued p50 ` +
          `${r.issuedP50Ms} ms, p99 ${r.issuedP99Ms} ms; missing ${r.missing}, awarded twice ${r.awardedTwice}.`,
      );
    console.log(JSON.stringify({ latency: rows }));
  }
  if (which === 'all' || which === 'recalculation') {
    const f = await benchRecalculation({
      learners: Number(process.env.BENCH_RECALC_LEARNERS ?? 10_000),
      every: which === 'recalculation',
    });
    console.log(
      `\nRecalculation of ${f.learners} learners × ${f.eventsPerLearner} stored events, the job a badge's ` +
        'activation or a change of its rules queues (round trips counted by command monitoring)',
    );
    console.table(f.runs.map(({ byCommand: _, ...row }) => row));
    console.log(
      f.runs
        .map(
          (r) => `${r.template}, ${r.phase}: ${r.seconds} s, ${r.roundTripsPerLearner} round trips a learner`,
        )
        .join('; ') +
        `; dry run ${f.dryRun.seconds} s, ${f.dryRun.roundTripsPerLearner} a learner. Awarded twice: ${f.awardedTwice}.`,
    );
    console.log(JSON.stringify({ recalculation: f }));
  }
  if (which === 'all' || which === 'engine') {
    printEngine(await benchEngine()); // table, a summary line, then {"engine": {...}}
  }
}

// Exits when done: Agenda leaves its job-liveness timers (half the lock lifetime, minutes) running
// after it stops, which would keep this process waiting long after the last figure is printed.
main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
