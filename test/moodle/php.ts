import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** lti/moodle: the plugin (local_laurel/) and its standalone test runner (tests-standalone/). */
export const MOODLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../lti/moodle');
export const PLUGIN_DIR = path.join(MOODLE_DIR, 'local_laurel');
export const RUNNER = path.join(MOODLE_DIR, 'tests-standalone', 'run.php');

/** Runs a program, resolving with its exit code and output (never rejecting on a non-zero exit). */
export function run(
  file: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && typeof err.code !== 'number') reject(err);
        else resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

export type Fixture = {
  config?: { laurelurl: string; platformid: string; secret: string };
  db?: Record<string, Record<string, unknown>[]>;
  events?: Record<string, unknown>[];
  run?: boolean;
  sign?: { secret: string; time: number; body: string };
  post?: unknown;
  payload?: unknown[][];
  /** Tasks already in Moodle's queue, as an earlier run printed them (`queued`). */
  tasks?: Queued[];
};

export type Queued = { class: string; customdata: any };
export type PluginRun = {
  signature?: string;
  payload?: any[];
  post?: { status: number; body: string; error: string } | null;
  queued: Queued[];
  runs?: (Queued & { ok: boolean; error?: string })[];
  requests?: { url: string; headers: string[]; body: string }[];
  log?: string[];
};

/** The plugin's own PHP (observers, payload builder, tasks, client) under php-cli with Moodle stubbed. */
export async function runPlugin(fixture: Fixture): Promise<PluginRun> {
  const { code, stdout, stderr } = await run('php', [RUNNER], JSON.stringify(fixture));
  if (code !== 0) throw new Error(`php ${RUNNER} exited ${code}: ${stderr}${stdout}`);
  return JSON.parse(stdout) as PluginRun;
}

/** Every .php file under a folder. */
export function phpFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...phpFiles(full));
    else if (entry.name.endsWith('.php')) out.push(full);
  }
  return out.sort();
}

/** A small Moodle: one course with a quiz, an assignment, a manual item, a category and the course total. */
export function moodleFixture(config?: Fixture['config']): Fixture {
  const item = (over: Record<string, unknown>) => ({
    courseid: 5,
    itemmodule: null,
    iteminstance: null,
    itemnumber: 0,
    itemname: null,
    gradetype: 1,
    grademax: '100.00000',
    grademin: '0.00000',
    ...over,
  });
  return {
    config,
    db: {
      course: [
        { id: 1, fullname: 'Site' },
        // Ends with 12 June 2027 (Moodle's enddate: unix seconds).
        { id: 5, fullname: 'Chemistry 101', enddate: 1812844800 },
      ],
      cm_tags: [{ cmid: 42, rawname: 'Lab' }],
      user: [
        { id: 57, email: 'ada@example.edu', firstname: 'Ada', lastname: 'Lovelace', deleted: 0 },
        { id: 58, email: '', firstname: 'Grace', lastname: 'Hopper', deleted: 0 },
        // An address Laurel would refuse (no dotted domain): left out, the event still sent.
        { id: 59, email: 'admin@localhost', firstname: 'Site', lastname: 'Admin\u0007', deleted: 0 },
      ],
      course_modules: [
        { id: 42, course: 5, modname: 'quiz', instance: 3, name: 'Quiz 3', visible: 1 },
        { id: 43, course: 5, modname: 'assign', instance: 9, name: 'Essay', visible: 0 },
        { id: 44, course: 5, modname: 'page', instance: 2, name: 'Reading', visible: 1 },
      ],
      grade_items: [
        item({
          id: 7,
          itemtype: 'mod',
          itemmodule: 'quiz',
          iteminstance: 3,
          itemname: 'Quiz 3',
          grademax: '10.00000',
        }),
        item({
          id: 8,
          itemtype: 'mod',
          itemmodule: 'assign',
          iteminstance: 9,
          itemname: 'Essay',
          gradetype: 2,
          grademax: '5.00000',
          grademin: '1.00000',
        }),
        item({ id: 9, itemtype: 'manual', itemname: 'Lab notebook', grademax: '20.00000' }),
        item({ id: 10, itemtype: 'category', itemname: null }),
        item({ id: 11, itemtype: 'course' }),
        item({ id: 12, itemtype: 'manual', itemname: 'Remarks', gradetype: 3 }),
      ],
    },
  };
}

/** get_data() of a Moodle event, with the fields every event has. */
export function moodleEvent(eventname: string, over: Record<string, unknown>): Record<string, unknown> {
  return {
    eventname,
    component: 'core',
    objectid: 1,
    crud: 'u',
    contextid: 100,
    contextinstanceid: 5,
    userid: 2,
    courseid: 5,
    relateduserid: 57,
    anonymous: 0,
    other: null,
    timecreated: 1765100000,
    ...over,
  };
}
