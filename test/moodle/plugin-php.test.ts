import { readFileSync } from 'node:fs';
import path from 'node:path';
import { normaliseEvent } from '../../src/events/normalise.js';
import { signatureHeader } from '../../src/events/signature.js';
import {
  MOODLE_DIR,
  PLUGIN_DIR,
  moodleEvent,
  moodleFixture,
  phpFiles,
  run,
  runPlugin,
  type Queued,
} from './php.js';

const PLATFORM = '64b7f0c2a1b2c3d4e5f60718';

/** The learning events the observers queued, with the platform filled in as the task does. */
const queuedEvents = (queued: Queued[]): Record<string, any>[] =>
  queued
    .filter((q) => q.class === 'local_laurel\\task\\send_events')
    .flatMap((q) => q.customdata.events as Record<string, any>[])
    .map((e) => ({ ...e, platform: PLATFORM }));

/** Each event is what Laurel's generic contract accepts. */
function expectValid(events: Record<string, unknown>[]) {
  for (const e of events) {
    const result = normaliseEvent(e, new Date('2026-01-01T00:00:00Z'));
    expect(result).toMatchObject({ ok: true });
  }
}

const CONFIG = { laurelurl: 'http://127.0.0.1:9', platformid: PLATFORM, secret: 'not-sent' };
const graded = (
  objectid: number,
  itemid: number,
  finalgrade: string | null,
  over: Record<string, unknown> = {},
) =>
  moodleEvent('\\core\\event\\user_graded', {
    objectid,
    other: { itemid, overridden: false, finalgrade },
    ...over,
  });

describe('the Moodle plugin under php-cli', () => {
  it('passes php -l on every PHP file', async () => {
    const files = phpFiles(MOODLE_DIR);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const { code, stdout, stderr } = await run('php', ['-l', file]);
      expect({ file, code, out: stdout + stderr }).toEqual({
        file,
        code: 0,
        out: expect.stringContaining('No syntax errors'),
      });
    }
  });

  it('has the layout of a Moodle local plugin, every string it asks for defined', () => {
    const version = readFileSync(path.join(PLUGIN_DIR, 'version.php'), 'utf8');
    expect(version).toMatch(/\$plugin->component\s*=\s*'local_laurel';/);
    expect(version).toMatch(/\$plugin->version\s*=\s*\d{10};/);
    expect(version).toMatch(/\$plugin->requires\s*=\s*\d{10}(\.\d+)?;/);
    for (const file of [
      'db/events.php',
      'settings.php',
      'test.php',
      'lang/en/local_laurel.php',
      'classes/observer.php',
      'classes/payload.php',
      'classes/client.php',
      'classes/signature.php',
      'classes/catalogue.php',
      'classes/task/send_events.php',
      'classes/task/sync_course.php',
      'classes/task/sync_all_courses.php',
      'classes/privacy/provider.php',
    ])
      expect(() => readFileSync(path.join(PLUGIN_DIR, file))).not.toThrow();
    expect(readFileSync(path.join(PLUGIN_DIR, 'settings.php'), 'utf8')).toContain(
      'admin_setting_configpasswordunmask',
    );
    // Moodle counts a plugin privacy-compliant with the metadata and the request provider (checked
    // with core_privacy\manager::component_is_compliant on a real Moodle 5.1).
    const privacy = readFileSync(path.join(PLUGIN_DIR, 'classes/privacy/provider.php'), 'utf8');
    expect(privacy).toContain('add_external_location_link');
    expect(privacy).toContain('\\core_privacy\\local\\request\\plugin\\provider');
    expect(privacy).toContain('\\core_privacy\\local\\request\\core_userlist_provider');

    const lang = readFileSync(path.join(PLUGIN_DIR, 'lang/en/local_laurel.php'), 'utf8');
    const defined = new Set([...lang.matchAll(/\$string\['([^']+)'\]/g)].map((m) => m[1]));
    const keys = [...defined];
    expect(keys).toEqual([...keys].sort());
    const used = new Set<string>();
    for (const file of phpFiles(PLUGIN_DIR)) {
      const source = readFileSync(file, 'utf8');
      for (const m of source.matchAll(/(?:get_string|lang_string)\('([^']+)',\s*'local_laurel'/g))
        used.add(m[1]!);
      for (const m of source.matchAll(/moodle_exception\('([^']+)',\s*'local_laurel'/g)) used.add(m[1]!);
      for (const m of source.matchAll(/'(privacy:metadata:[^']+)'/g)) used.add(m[1]!);
    }
    expect([...used].filter((k) => !defined.has(k))).toEqual([]);
  });

  it('signs byte for byte as Laurel checks', async () => {
    const body = JSON.stringify({ platform: PLATFORM, events: [{ id: 'é—"x"', data: { path: 'a/b' } }] });
    const time = 1765100000;
    const secret = 'whsec_0123456789abcdef';
    const out = await runPlugin({ sign: { secret, time, body } });
    expect(out.signature).toBe(signatureHeader(secret, body, time * 1000));
  });

  it('turns an activity grade into activity.grade.updated with the course module id and the range percent', async () => {
    const out = await runPlugin({ ...moodleFixture(CONFIG), events: [graded(812, 7, '9.20000')] });
    const events = queuedEvents(out.queued);
    expect(events).toEqual([
      {
        id: 'moodle-user_graded-812-1765100000',
        type: 'activity.grade.updated',
        occurredAt: '2025-12-07T09:33:20Z',
        platform: PLATFORM,
        course: { id: '5', title: 'Chemistry 101' },
        user: { id: '57', email: 'ada@example.edu', name: 'Ada Lovelace' },
        data: {
          activityId: '42',
          activityName: 'Quiz 3',
          activityType: 'quiz',
          score: 9.2,
          maxScore: 10,
          percent: 92,
          gradeItemId: '7',
        },
      },
    ]);
    expectValid(events);
  });

  it('takes the percent from the grade item range (a scale from 1 to 5) and handles manual items and the course total', async () => {
    const out = await runPlugin({
      ...moodleFixture(CONFIG),
      events: [
        graded(813, 8, '4.00000', { relateduserid: 58 }),
        graded(814, 9, '15.00000', { other: { itemid: 9, overridden: true, finalgrade: '15.00000' } }),
        graded(815, 11, '87.50000'),
        graded(816, 10, '50.00000'), // a category total: nothing
        graded(817, 7, null), // a grade removed: nothing
        graded(818, 12, '1.00000'), // a text-only item: nothing
        graded(819, 7, '3.00000', { relateduserid: 59 }),
      ],
    });
    const events = queuedEvents(out.queued);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      [
        'activity.grade.updated',
        {
          activityId: '43',
          activityName: 'Essay',
          activityType: 'assign',
          score: 4,
          maxScore: 5,
          percent: 75,
          gradeItemId: '8',
        },
      ],
      [
        'activity.grade.updated',
        {
          activityId: 'gradeitem-9',
          activityName: 'Lab notebook',
          activityType: 'manual',
          score: 15,
          maxScore: 20,
          percent: 75,
          gradeItemId: '9',
          overridden: true,
        },
      ],
      ['course.grade.updated', { score: 87.5, maxScore: 100, percent: 87.5, gradeItemId: '11' }],
      [
        'activity.grade.updated',
        {
          activityId: '42',
          activityName: 'Quiz 3',
          activityType: 'quiz',
          score: 3,
          maxScore: 10,
          percent: 30,
          gradeItemId: '7',
        },
      ],
    ]);
    // An address Laurel would refuse, and a control character in the name, do not cost the event.
    expect(events[3]!.user).toEqual({ id: '59', name: 'Site Admin' });
    // No e-mail address for a user without one.
    expect(events[0]!.user).toEqual({ id: '58', name: 'Grace Hopper' });
    expectValid(events);
  });

  it('sends completions, course completions and enrolments, each with a stable id', async () => {
    const out = await runPlugin({
      ...moodleFixture(CONFIG),
      events: [
        moodleEvent('\\core\\event\\course_module_completion_updated', {
          objectid: 301,
          contextinstanceid: 42,
          other: { relateduserid: 57, overrideby: null, completionstate: 1 },
        }),
        moodleEvent('\\core\\event\\course_module_completion_updated', {
          objectid: 302,
          contextinstanceid: 43,
          other: { relateduserid: 57, overrideby: null, completionstate: 2 },
        }),
        moodleEvent('\\core\\event\\course_module_completion_updated', {
          objectid: 303,
          contextinstanceid: 44,
          other: { relateduserid: 57, overrideby: null, completionstate: 0 },
        }),
        moodleEvent('\\core\\event\\course_completed', { objectid: 91, other: { relateduserid: 57 } }),
        moodleEvent('\\core\\event\\user_enrolment_created', { objectid: 77, other: { enrol: 'manual' } }),
        moodleEvent('\\core\\event\\user_enrolment_deleted', {
          objectid: 77,
          timecreated: 1765200000,
          other: { enrol: 'manual', userenrolment: {} },
        }),
        moodleEvent('\\core\\event\\user_enrolment_created', {
          objectid: 78,
          courseid: 1,
          other: { enrol: 'self' },
        }),
      ],
    });
    const events = queuedEvents(out.queued);
    expect(events.map((e) => [e.id, e.type, e.data])).toEqual([
      [
        'moodle-course_module_completion_updated-301-1765100000',
        'activity.completed',
        { activityId: '42', activityName: 'Quiz 3', activityType: 'quiz', completionState: 'complete' },
      ],
      [
        'moodle-course_module_completion_updated-302-1765100000',
        'activity.completed',
        { activityId: '43', activityName: 'Essay', activityType: 'assign', completionState: 'pass' },
      ],
      ['moodle-course_completed-91-1765100000', 'course.completed', {}],
      ['moodle-user_enrolment_created-77-1765100000', 'enrollment.created', { enrolmentMethod: 'manual' }],
      ['moodle-user_enrolment_deleted-77-1765200000', 'enrollment.deleted', { enrolmentMethod: 'manual' }],
    ]);
    for (const e of events) expect(e.user.id).toBe('57');
    for (const e of events) expect(e.course.id).toBe('5');
    expectValid(events);
  });

  it('queues one refresh of a course’s activity list however many changes arrive', async () => {
    const out = await runPlugin({
      ...moodleFixture(CONFIG),
      events: [
        moodleEvent('\\core\\event\\course_module_created', {
          objectid: 45,
          other: { modulename: 'quiz', instanceid: 4, name: 'Quiz 4' },
        }),
        moodleEvent('\\core\\event\\course_module_updated', {
          objectid: 42,
          other: { modulename: 'quiz', instanceid: 3, name: 'Quiz 3' },
        }),
        moodleEvent('\\core\\event\\grade_item_updated', {
          objectid: 7,
          other: { itemname: 'Quiz 3', itemtype: 'mod' },
        }),
        moodleEvent('\\core\\event\\grade_item_deleted', {
          objectid: 12,
          other: { itemname: 'Remarks', itemtype: 'manual' },
        }),
        moodleEvent('\\core\\event\\course_module_deleted', {
          objectid: 46,
          courseid: 6,
          other: { modulename: 'page', instanceid: 8 },
        }),
      ],
    });
    expect(out.queued).toEqual([
      { class: 'local_laurel\\task\\sync_course', customdata: { courseid: 5 } },
      { class: 'local_laurel\\task\\sync_course', customdata: { courseid: 6 } },
    ]);
  });

  it('builds a course’s catalogue: activities by course module id with their main grade item, and manual items', async () => {
    const out = await runPlugin({
      payload: [
        [
          'catalogue',
          { id: 5, fullname: 'Chemistry 101' },
          moodleFixture().db!.course_modules!.map((cm) => ({ ...cm, cmid: cm.id })),
          moodleFixture().db!.grade_items,
        ],
      ],
    });
    expect(out.payload![0]).toEqual({
      course: { id: '5', title: 'Chemistry 101' },
      full: true,
      activities: [
        {
          id: '42',
          name: 'Quiz 3',
          type: 'quiz',
          gradeItemId: '7',
          maxScore: 10,
          minScore: 0,
          visible: true,
        },
        {
          id: '43',
          name: 'Essay',
          type: 'assign',
          gradeItemId: '8',
          maxScore: 5,
          minScore: 1,
          visible: false,
        },
        { id: '44', name: 'Reading', type: 'page', visible: true },
        {
          id: 'gradeitem-9',
          name: 'Lab notebook',
          type: 'manual',
          gradeItemId: '9',
          maxScore: 20,
          minScore: 0,
        },
      ],
    });
  });

  it('sends the course’s end date (null for Moodle’s 0: none) and each course module’s tags, each once', async () => {
    const cms = [
      {
        cmid: 42,
        name: 'Titration',
        modname: 'assign',
        instance: 1,
        visible: 1,
        tags: ['Lab', ' lab ', 'Week 2'],
      },
      { cmid: 44, name: 'Reading', modname: 'page', instance: 3, visible: 1, tags: [] },
    ];
    const out = await runPlugin({
      payload: [
        ['catalogue', { id: 5, fullname: 'Chemistry 101', enddate: 1812844800 }, cms, []],
        ['catalogue', { id: 6, fullname: 'History', enddate: 0 }, [], []],
      ],
    });
    expect(out.payload![0]).toEqual({
      course: { id: '5', title: 'Chemistry 101', endDate: '2027-06-13T00:00:00Z' },
      full: true,
      activities: [
        { id: '42', name: 'Titration', type: 'assign', visible: true, tags: ['Lab', 'Week 2'] },
        { id: '44', name: 'Reading', type: 'page', visible: true },
      ],
    });
    expect(out.payload![1]).toEqual({
      course: { id: '6', title: 'History', endDate: null },
      full: true,
      activities: [],
    });
  });

  it('queues nothing until Laurel’s URL, the platform id and the secret are set', async () => {
    const out = await runPlugin({
      ...moodleFixture({ laurelurl: '', platformid: PLATFORM, secret: 's' }),
      events: [graded(812, 7, '9.00000')],
    });
    expect(out.queued).toEqual([]);
  });

  it('fails the task (for Moodle to retry later) when Laurel cannot be reached', async () => {
    const out = await runPlugin({ ...moodleFixture(CONFIG), events: [graded(812, 7, '9.00000')], run: true });
    expect(out.runs).toHaveLength(1);
    expect(out.runs![0]!.ok).toBe(false);
    expect(out.runs![0]!.error).toMatch(/moodle_exception: Laurel did not take the message/);
    const request = out.requests![0]!;
    expect(request.url).toBe(`http://127.0.0.1:9/api/v1/webhooks/moodle/${PLATFORM}`);
    const header = request.headers.find((h) => h.startsWith('X-Laurel-Signature: '))!.slice(20);
    const t = Number(/^t=(\d+),/.exec(header)![1]);
    expect(header).toBe(signatureHeader('not-sent', request.body, t * 1000));
  });
});
