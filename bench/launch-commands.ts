/**
 * The database commands of one whole LTI launch (login, the LMS's answer, the launch, the course
 * page), request by request, as the in-memory engine sees them: `tsx bench/launch-commands.ts`.
 * What to cut when launches cost too many round trips (issue 26, item 4).
 */
import { startEngine, type CommandEvent } from '../test/support/mongo-engine/index.js';
import { launch } from '../test/support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform } from '../test/lti/helpers.js';

type Line = { request: string } | CommandEvent;
const lines: Line[] = [];
let recording = false;
const engine = await startEngine({ onCommand: (event) => recording && lines.push(event) });
// The job poller's own commands (every 200 ms in tests) would mix with the launch's.
const t = await startLaurelForLti({
  MONGODB_URI: `${engine.uri}laurel_launch_commands`,
  JOBS_PROCESS_EVERY_MS: '60000',
});
t.laurel.server.on('request', (req: { method?: string; url?: string }) => {
  if (recording) lines.push({ request: `${req.method} ${req.url?.replace(/ltik=[^&]+/, 'ltik=…')}` });
});
const { platform } = await startRegisteredPlatform(t, 'moodle');
const courseId = platform.demo!.courses.chemistry.id;

/** What a command touched, briefly: its collection and the keys of its filter or documents. */
function brief(c: CommandEvent): string {
  const b = c.body;
  const collection = String(b[c.name] ?? '');
  const keys = (o: unknown) => (o && typeof o === 'object' ? Object.keys(o).join(',') : '');
  let what = '';
  if (c.name === 'find') what = `filter {${keys(b.filter)}}`;
  else if (c.name === 'aggregate') what = `$match {${keys((b.pipeline as any[])[0]?.$match)}}`;
  else if (c.name === 'insert')
    what = `${(b.documents as unknown[]).length} doc(s) ${JSON.stringify(b.documents).length} B`;
  else if (c.name === 'update' || c.name === 'delete')
    what = (b[c.name === 'update' ? 'updates' : 'deletes'] as any[])
      .map((u) => `q {${keys(u.q)}}${u.u ? ` u {${keys(u.u)}}` : ''}${u.upsert ? ' upsert' : ''}`)
      .join('; ');
  else if (c.name === 'findAndModify') what = `q {${keys(b.query)}} u {${keys(b.update)}}`;
  return `  ${c.name.padEnd(14)} ${collection.padEnd(26)} ${what}`;
}

for (const who of ['ada', 'instructor'] as const) {
  await launch(platform, { courseId, sub: platform.demo!.users[who].sub }); // warm-up: first sighting
  lines.length = 0;
  recording = true;
  const page = await launch(platform, { courseId, sub: platform.demo!.users[who].sub });
  recording = false;
  const commands = lines.filter((l): l is CommandEvent => 'name' in l);
  console.log(`\n${who}: ${page.status} ${new URL(page.url).pathname}, ${commands.length} commands`);
  for (const l of lines) console.log('request' in l ? l.request : brief(l));
}
await platform.close();
await t.stop();
await engine.close();
