/**
 * A web process killed (SIGKILL) with requests in flight, each at a known step: a wire-protocol gate
 * holds a chosen database write of each request of a real `LAUREL_ROLE=web` process (src/main.ts), the
 * test kills the process with all of them held, and a new web process starts behind the same address.
 * The clients (an LMS, an instructor's browser, a learner's, the administrator's script) see failed
 * requests and send them again; the outcome is read in the database and over HTTP. Three kills, so
 * that the file starts four web processes in all.
 */
import http from 'node:http';
import { jest } from '@jest/globals';
import { Types } from 'mongoose';
import type { TemplateDoc } from '../../src/db/models/template.js';
import { signatureHeader } from '../../src/events/signature.js';
import { admin, event, registerTestPlatform, sendEvents, type TestPlatformRecord } from '../support/api.js';
import { openWebCrashSchool, setOf, type WebCrashSchool } from '../support/web-crash-school.js';
import { waitFor, within } from '../support/worker-process.js';
import {
  CookieJar,
  launch,
  parseForms,
  postLaunch,
  startTestPlatform,
  type TestPlatform,
} from '../support/lms-platform/index.js';

// Each web process takes seconds to start on a loaded machine.
jest.setTimeout(120_000);

let s: WebCrashSchool;
let platform: TestPlatformRecord & { oid: Types.ObjectId };
const COURSE = 'web-crash-101';
let finisher: string;
/** A Moodle for launches and the instructor's pages. */
let lms: TestPlatform;
let moodle: { id: string; oid: Types.ObjectId; webhookSecret: string };
const LEARNERS = 4;

beforeAll(async () => {
  s = await openWebCrashSchool();
  const registered = await registerTestPlatform(s.api);
  platform = { ...registered, oid: new Types.ObjectId(registered.id) };
  lms = await startTestPlatform({ toolUrl: s.url, flavour: 'moodle', host: '127.0.0.1', seedDemo: true });
  const answer = await admin(s.api, 'POST', '/platforms', lms.registrationInfo());
  expect(answer.status).toBe(201);
  moodle = {
    id: answer.body.id,
    oid: new Types.ObjectId(answer.body.id),
    webhookSecret: answer.body.webhookSecret,
  };
  const created = await admin(s.api, 'POST', '/templates', {
    platformId: platform.id,
    courseId: COURSE,
    name: 'Finisher',
    groups: [{ requirements: [{ event: 'course.completed' }] }],
  });
  finisher = created.body.id as string;
  expect((await admin(s.api, 'POST', `/templates/${finisher}/activate`)).status).toBe(200);
});
afterAll(async () => {
  await lms?.close();
  await s?.close();
});

const models = () => s.worker.laurel.ctx.models;
const writes = ['findAndModify', 'update', 'insert'];
const peopleWith = (sub: string) => models().people.countDocuments({ platformId: moodle.oid, ids: sub });
const ltik = (url: string) => encodeURIComponent(new URL(url).searchParams.get('ltik')!);

const completions = (tag: string, learners: number) => ({
  events: Array.from({ length: learners }, (_, n) =>
    event(platform.id, {
      id: `${tag}-done-${n}`,
      type: 'course.completed',
      course: { id: COURSE },
      user: { id: `${tag}-${n}`, email: `${tag}${n}@example.edu`, name: `Learner ${tag} ${n}` },
      data: {},
    }),
  ),
});
const eventsOf = (tag: string) =>
  s.worker.laurel.ctx.models.events
    .find({ platformId: platform.oid, eventId: new RegExp(`^${tag}-`) })
    .lean();

/**
 * Every completion of `tag` stored once and applied once, by one processing run, and each of its
 * learners awarded the badge once: waited for briefly (a woken worker starts within a second; its
 * recurring run, the safety net for a lost wake-up, would take a minute).
 */
async function expectCountedOnce(tag: string, learners: number) {
  const m = s.worker.laurel.ctx.models;
  const awarded = async () => {
    const people = (await eventsOf(tag)).map((e) => e.personRef);
    return m.credentials.find({ templateId: new Types.ObjectId(finisher), personId: { $in: people } }).lean();
  };
  await waitFor(
    `the ${tag} completions processed and awarded`,
    async () =>
      (await eventsOf(tag)).filter((e) => e.status === 'processed').length === learners &&
      (await awarded()).length === learners,
    15_000,
  );
  const stored = await eventsOf(tag);
  expect(stored.map((e) => e.eventId).sort()).toEqual(
    Array.from({ length: learners }, (_, n) => `${tag}-done-${n}`).sort(),
  );
  expect(stored.every((e) => e.status === 'processed' && e.attempts === 1)).toBe(true);
  expect(new Set((await awarded()).map((c) => String(c.personId))).size).toBe(learners);
  const awardEvents = await m.events.countDocuments({
    platformId: platform.oid,
    type: 'badge.awarded',
    personRef: { $in: stored.map((e) => e.personRef) },
  });
  expect(awardEvents).toBe(learners);
}

/** A signed POST /api/v1/events whose body stops half-way: resolves once the first half is on the wire. */
function halfSentEvents(body: string): { sent: Promise<void>; answer: Promise<unknown> } {
  const raw = Buffer.from(body);
  const req = http.request(`${s.url}/api/v1/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': String(raw.length),
      'x-laurel-signature': signatureHeader(platform.webhookSecret, body, Date.now()),
    },
  });
  const answer = new Promise((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  answer.catch(() => undefined);
  const sent = new Promise<void>((resolve) => req.write(raw.subarray(0, raw.length >> 1), () => resolve()));
  return { sent, answer };
}

/** Posts the form of a page that posts to `path`, with its own fields (CSRF token included), as a browser would. */
async function submitForm(html: string, path: string, fields: Record<string, string> = {}) {
  const form = parseForms(html).find((f) => new URL(f.action, s.url).pathname === path);
  if (!form) throw new Error(`no form posting to ${path}`);
  const entries = [...form.fields.filter(([k]) => !(k in fields)), ...Object.entries(fields)];
  // The badge form is multipart (it carries a picture); the others are URL-encoded.
  const multipart = new RegExp(`action="${path}[^"]*" enctype="multipart/form-data"`).test(html);
  let body: FormData | URLSearchParams = new URLSearchParams(entries);
  if (multipart) {
    body = new FormData();
    for (const [k, v] of entries) body.append(k, v);
  }
  const res = await fetch(new URL(form.action, s.url), {
    method: 'POST',
    body,
    redirect: 'manual',
    headers: { accept: 'text/html' },
  });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

describe('first kill: events before their insert and half sent, launches after and before their nonce', () => {
  const grace = () => lms.demo!.users.grace;
  const ada = () => lms.demo!.users.ada;
  let before: ReturnType<typeof completions>;
  let halfBody: string;
  const graceJar = new CookieJar();
  const adaJar = new CookieJar();
  let graceToken: { idToken: string; state: string };
  let adaToken: { idToken: string; state: string };

  beforeAll(async () => {
    const course = lms.demo!.courses.chemistry.id;
    before = completions('before', LEARNERS);
    halfBody = JSON.stringify(completions('half', LEARNERS));
    // A batch of events, held at its insert.
    const inserting = s.freeze((c) => c.name === 'insert' && c.collection === 'learning_events');
    const sending = sendEvents(s.api, platform.webhookSecret, before);
    await within('the event insert to be held', inserting, 20_000);
    // Another batch on its way, half of its body sent.
    const half = halfSentEvents(halfBody);
    await half.sent;
    // A learner's launch, held at her first write: its nonce, ltijs's tokens and login state are spent.
    const identifying = s.freeze((c) => c.collection === 'people' && writes.includes(c.name));
    const graceLaunch = launch(lms, { courseId: course, sub: grace().sub, jar: graceJar });
    await within('a launch to reach its identity writes', identifying, 20_000);
    graceToken = lms.idTokensIssued.at(-1)! as typeof graceToken;
    // Another's, held at its nonce: nothing of it is spent yet.
    const spending = s.freeze((c) => c.name === 'insert' && c.collection === 'lti_nonces');
    const adaLaunch = launch(lms, { courseId: course, sub: ada().sub, jar: adaJar });
    await within('a launch to reach its nonce', spending, 20_000);
    adaToken = lms.idTokensIssued.at(-1)! as typeof adaToken;

    await s.killWeb();
    await expect(sending).rejects.toThrow(/fetch failed/);
    await expect(half.answer).rejects.toThrow(/socket hang up|ECONNRESET|EPIPE/);
    await expect(graceLaunch).rejects.toThrow(/fetch failed/);
    await expect(adaLaunch).rejects.toThrow(/fetch failed/);
    expect(await eventsOf('before')).toHaveLength(0);
    expect(await eventsOf('half')).toHaveLength(0);
    expect(await peopleWith(grace().sub)).toBe(0);
    await s.startWeb();
  });

  it('the event endpoint: the LMS resends both batches; each event is stored, counted and awarded once', async () => {
    const resent = await sendEvents(s.api, platform.webhookSecret, before);
    expect(resent.status).toBe(200);
    expect(resent.body).toEqual({ stored: LEARNERS, duplicates: 0, rejected: [] });
    const resentHalf = await sendEvents(s.api, platform.webhookSecret, null, { raw: halfBody });
    expect(resentHalf.body).toEqual({ stored: LEARNERS, duplicates: 0, rejected: [] });
    await expectCountedOnce('before', LEARNERS);
    await expectCountedOnce('half', LEARNERS);
  });

  it('a launch killed after its nonce: its id_token and state are refused; the learner relaunches and gets in', async () => {
    // The browser's resend of the form the LMS posted, with the state cookie kept: refused, once used.
    const replayed = await postLaunch(lms, { ...graceToken, cookies: graceJar });
    expect(replayed.status).toBe(401);
    expect(replayed.body).toContain('(reused_nonce)');
    const again = await launch(lms, { courseId: lms.demo!.courses.chemistry.id, sub: grace().sub });
    expect(again.status).toBe(200);
    expect(new URL(again.url).pathname).toBe('/course/learner');
    expect(await peopleWith(grace().sub)).toBe(1);
  });

  it('a launch killed before its nonce: the browser’s resend completes it once, never twice', async () => {
    const kept = adaJar.list(`${s.url}/lti/launch`);
    const resent = await postLaunch(lms, { ...adaToken, cookies: adaJar });
    expect(resent.status).toBe(200);
    expect(new URL(resent.url).pathname).toBe('/course/learner');
    // Again, even with the state cookie kept from before: refused.
    const twice = await postLaunch(lms, { ...adaToken, cookies: kept });
    expect(twice.status).toBe(401);
    expect(twice.body).toContain('(reused_nonce)');
    expect(await peopleWith(ada().sub)).toBe(1);
  });
});

describe('second kill: events after their insert, an LMS registered half-way', () => {
  let after: ReturnType<typeof completions>;
  let second: TestPlatform;
  const lti = (name: string) => s.worker.laurel.connection.db!.collection(name);

  beforeAll(async () => {
    after = completions('after', LEARNERS);
    // Stored, then held at the write after the insert: the wake-up of the worker (a job in agendaJobs).
    const waking = s.freeze((c) => c.collection === 'agendaJobs' && writes.includes(c.name));
    const sending = sendEvents(s.api, platform.webhookSecret, after);
    await within('the wake-up write to be held', waking, 20_000);
    // A registration held at the LTI store's platform record: Laurel's platform and the tool's key pair
    // are written.
    second = await startTestPlatform({
      toolUrl: s.url,
      flavour: 'moodle',
      host: '127.0.0.1',
      seedDemo: true,
    });
    const recording = s.freeze((c) => c.name === 'insert' && c.collection === 'lti_platforms');
    const registering = admin(s.api, 'POST', '/platforms', second.registrationInfo());
    await within('the LTI platform record to be held', recording, 20_000);

    await s.killWeb();
    await expect(sending).rejects.toThrow(/fetch failed/);
    await expect(registering).rejects.toThrow(/fetch failed/);
    // Stored, but nobody was told: the answer and the wake-up died with the process.
    expect(await eventsOf('after')).toHaveLength(LEARNERS);
    const issuer = second.registrationInfo().issuer;
    expect(await models().platforms.countDocuments({ issuer })).toBe(1);
    expect(await lti('lti_platforms').countDocuments({ platformUrl: issuer })).toBe(0);
    // The next web process brings the LTI store in line with Laurel's platforms as it starts.
    await s.startWeb();
  });
  afterAll(async () => {
    await second?.close();
  });

  it('the event endpoint: the resend is all duplicates, and wakes processing; each counted and awarded once', async () => {
    const resent = await sendEvents(s.api, platform.webhookSecret, after);
    expect(resent.status).toBe(200);
    expect(resent.body).toEqual({ stored: 0, duplicates: LEARNERS, rejected: [] });
    await expectCountedOnce('after', LEARNERS);
    // Over HTTP, as the administrator sees it: one credential for each learner of the three batches.
    const listed = await admin(s.api, 'GET', `/credentials?templateId=${finisher}&limit=100`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(3 * LEARNERS);
  });

  it('an LMS registration: completed by the next process, no stray key; the secret is rotated and it works', async () => {
    const info = second.registrationInfo();
    expect(await lti('lti_platforms').countDocuments({ platformUrl: info.issuer })).toBe(1);
    // Only the tool's keys of registered platforms are published: none left from the killed request.
    const published = ((await (await fetch(`${s.url}/lti/keys`)).json()) as { keys: { kid: string }[] }).keys;
    const kids = (await lti('lti_platforms').find().toArray()).map((r) => r.kid as string);
    expect(published.map((k) => k.kid).sort()).toEqual(kids.sort());
    expect(await lti('lti_private_keys').countDocuments()).toBe(kids.length);

    // The administrator's retry: the platform is there (its webhook secret was lost with the answer).
    const retried = await admin(s.api, 'POST', '/platforms', info);
    expect(retried.status).toBe(409);
    const listed = await admin(s.api, 'GET', '/platforms?limit=100');
    const mine = listed.body.items.filter((p: { issuer: string }) => p.issuer === info.issuer);
    expect(mine).toHaveLength(1);
    // A new secret is one call away, and the LMS's events and launches work.
    const rotated = await admin(s.api, 'POST', `/platforms/${mine[0].id}/webhook-secret`);
    expect(rotated.status).toBe(200);
    const sent = await sendEvents(
      s.api,
      rotated.body.webhookSecret,
      event(mine[0].id, { id: 'after-registration', course: { id: second.demo!.courses.chemistry.id } }),
    );
    expect(sent.body).toEqual({ stored: 1, duplicates: 0, rejected: [] });
    const page = await launch(second, {
      courseId: second.demo!.courses.chemistry.id,
      sub: second.demo!.users.ada.sub,
    });
    expect(page.status).toBe(200);
  });
});

describe('third kill: an instructor activating a badge and creating one, an administrator changing rules', () => {
  const EARLY = 3;
  const statePath = (id: string) => `/course/instructor/badges/${id}/state`;
  const lab = { name: 'Lab regular', 'groups[0][0][kind]': 'course-completed' };
  const labs = () => ({ platformId: moodle.oid, name: { $in: ['Lab regular', 'Lab regular II'] } });
  const rules = (percent: number) => [
    {
      requirements: [
        { event: 'course.grade.updated', rules: [{ path: 'data.percent', op: 'gte', value: percent }] },
      ],
    },
  ];
  let draft: string;
  let scorer: string;
  let confirmPage: string;
  let newPage: string;
  /** What the database held when the process died, before any retry. */
  let atKill: { draft: TemplateDoc; scorer: TemplateDoc; labs: number };

  beforeAll(async () => {
    const course = lms.demo!.courses.chemistry.id;
    // Learners completed the Moodle course before its badge was active: only the recount awards them.
    const early = await sendEvents(s.api, moodle.webhookSecret, {
      events: Array.from({ length: EARLY }, (_, n) =>
        event(moodle.id, {
          id: `early-${n}`,
          type: 'course.completed',
          course: { id: course },
          user: { id: `early-${n}`, name: `Early Learner ${n}` },
          data: {},
        }),
      ),
    });
    expect(early.body.stored).toBe(EARLY);
    // And learners scored 80 in the other course, where "High scorer" asks for 90.
    const graded = await sendEvents(s.api, platform.webhookSecret, {
      events: Array.from({ length: EARLY }, (_, n) =>
        event(platform.id, {
          id: `grade-${n}`,
          type: 'course.grade.updated',
          course: { id: COURSE },
          user: { id: `graded-${n}`, name: `Graded Learner ${n}` },
          data: { score: 80, maxScore: 100 },
        }),
      ),
    });
    expect(graded.body.stored).toBe(EARLY);
    draft = (
      await admin(s.api, 'POST', '/templates', {
        platformId: moodle.id,
        courseId: course,
        name: 'Chemistry finisher',
        groups: [{ requirements: [{ event: 'course.completed' }] }],
      })
    ).body.id as string;
    scorer = (
      await admin(s.api, 'POST', '/templates', {
        platformId: platform.id,
        courseId: COURSE,
        name: 'High scorer',
        groups: rules(90),
      })
    ).body.id as string;
    expect((await admin(s.api, 'POST', `/templates/${scorer}/activate`)).status).toBe(200);
    await waitFor(
      'the events processed and the first recount of High scorer done',
      async () =>
        (await models().events.countDocuments({ eventId: /^(early|grade)-/, status: 'processed' })) ===
          2 * EARLY && (await models().templates.findById(scorer).lean())!.recalculation?.state === 'done',
      15_000,
    );
    expect(await models().credentials.countDocuments({ templateId: new Types.ObjectId(scorer) })).toBe(0);
    const instructor = await launch(lms, { courseId: course, sub: lms.demo!.users.instructor.sub });
    expect(instructor.status).toBe(200);
    const page = async (path: string) => (await fetch(`${s.url}${path}ltik=${ltik(instructor.url)}`)).text();
    confirmPage = await page(`${statePath(draft)}?action=activate&`);
    newPage = await page('/course/instructor/badges/new?');

    // The administrator lowers the bar to 75, held at the write after the change of rules: the wake-up
    // of the recount (or, were they written apart, the recount's request itself).
    const next = s.freeze(
      (c) =>
        (c.collection === 'agendaJobs' && writes.includes(c.name)) ||
        (c.collection === 'templates' && c.name === 'update' && !!setOf(c)?.recalculation),
    );
    const patching = admin(s.api, 'PATCH', `/templates/${scorer}`, { groups: rules(75) });
    await within('the write after the change of rules to be held', next, 20_000);
    // The instructor activates the draft, and creates a badge in a second tab: both held at their audit
    // entries, the state and the new badge written.
    const audited = (c: { name: string; collection: unknown }) =>
      c.name === 'insert' && c.collection === 'audit_log';
    const auditing = [s.freeze(audited), s.freeze(audited)];
    const activating = submitForm(confirmPage, statePath(draft));
    const creating = submitForm(newPage, '/course/instructor/badges', lab);
    await within('both audit entries to be held', Promise.all(auditing), 20_000);

    await s.killWeb();
    for (const request of [patching, activating, creating])
      await expect(request).rejects.toThrow(/fetch failed/);
    atKill = {
      draft: (await models().templates.findById(draft).lean<TemplateDoc>())!,
      scorer: (await models().templates.findById(scorer).lean<TemplateDoc>())!,
      labs: await models().templates.countDocuments(labs()),
    };
    await s.startWeb();
  });

  it('activating: active with its recount queued, written together; sent again, the recount awards once', async () => {
    expect(atKill.draft.state).toBe('active');
    expect(atKill.draft.recalculation).toEqual(expect.objectContaining({ state: 'queued' }));
    // The instructor sends the form again (the browser's "resend"): same launch, same CSRF token.
    const retried = await submitForm(confirmPage, statePath(draft));
    expect(retried.status).toBe(303);
    const templateId = new Types.ObjectId(draft);
    await waitFor(
      'the recount to award the early learners',
      async () => (await models().credentials.countDocuments({ templateId })) === EARLY,
      15_000,
    );
    const credentials = await models().credentials.find({ templateId }).lean();
    expect(new Set(credentials.map((c) => String(c.personId))).size).toBe(EARLY);
    expect((await admin(s.api, 'GET', `/templates/${draft}`)).body.state).toBe('active');
    expect((await models().templates.findById(draft).lean())!.recalculation).toEqual(
      expect.objectContaining({ state: 'done', awarded: EARLY }),
    );
  });

  it('creating: one badge; sent again, the form finds it; changed, it makes another', async () => {
    expect(atKill.labs).toBe(1);
    const recreated = await submitForm(newPage, '/course/instructor/badges', lab);
    expect(recreated.status).toBe(303);
    const made = (await models().templates.find(labs()).lean()).map((t) => String(t._id));
    expect(made).toHaveLength(1);
    expect(new URL(recreated.location!, s.url).pathname).toBe(`/course/instructor/badges/${made[0]}`);
    // The same form changed (back, edit, send) is another badge.
    const changed = await submitForm(newPage, '/course/instructor/badges', {
      ...lab,
      name: 'Lab regular II',
    });
    expect(changed.status).toBe(303);
    expect(await models().templates.countDocuments(labs())).toBe(2);
  });

  it('changing an active badge’s rules over the admin API: rules and recount written together; the retry awards once', async () => {
    expect(atKill.scorer.groups[0]!.requirements[0]).toEqual(
      expect.objectContaining({ rules: [{ path: 'data.percent', op: 'gte', value: 75 }] }),
    );
    expect(atKill.scorer.recalculation).toEqual(expect.objectContaining({ state: 'queued' }));
    // The administrator's script sends it again: the same rules, and the recount runs.
    const retried = await admin(s.api, 'PATCH', `/templates/${scorer}`, { groups: rules(75) });
    expect(retried.status).toBe(200);
    const templateId = new Types.ObjectId(scorer);
    await waitFor(
      'the recount under the new rules to award the learners',
      async () =>
        (await models().templates.findById(scorer).lean())!.recalculation?.state === 'done' &&
        (await models().credentials.countDocuments({ templateId })) === EARLY,
      15_000,
    );
    const credentials = await models().credentials.find({ templateId }).lean();
    expect(new Set(credentials.map((c) => String(c.personId))).size).toBe(EARLY);
    expect(s.web().log()).not.toContain('"level":50');
  });
});
