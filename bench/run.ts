import { benchCredentials } from './credentials.js';
import { benchEvents } from './events.js';
import { benchPublicPages } from './public.js';

/** `npm run bench`: prints each benchmark's figures as a table (and JSON for tools). */
async function main() {
  const which = process.argv[2] ?? 'all';
  if (which === 'all' || which === 'events') {
    const eventCount = Number(process.env.BENCH_EVENTS ?? 2000);
    const rows = [];
    for (const scale of [1, 10]) rows.push(await benchEvents(scale, eventCount));
    console.log('\nEvents: ingestion and processing (database round trips counted by command monitoring)');
    console.table(rows);
    const [one, ten] = rows;
    console.log(
      `Round trips per processed event: ${one!.roundTripsPerEventProcess} at 1x, ${ten!.roundTripsPerEventProcess} at 10x` +
        ` (flat means the cost of an event does not grow with templates and learners elsewhere).`,
    );
    console.log(JSON.stringify({ events: rows }));
  }
  if (which === 'all' || which === 'credentials') {
    const figures = await benchCredentials();
    console.log(
      '\nCredentials: OB 3.0 signing (eddsa-rdfc-2022) against raw Ed25519 on this machine, same run',
    );
    console.table([figures]);
    console.log(
      `One signed credential costs as much as ${figures.rawPerCredential} raw Ed25519 signatures: ` +
        'the difference is JSON-LD expansion and RDFC-1.0 canonicalisation.',
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
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
