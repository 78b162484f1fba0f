/**
 * A web process killed (SIGKILL) in the middle of requests, at known steps: a wire-protocol gate holds
 * a chosen database write of a real `LAUREL_ROLE=web` process (src/main.ts), the test kills it there,
 * and a new web process starts behind the same address. The client (an LMS, an instructor's browser,
 * the administrator's script) sees a failed request and sends it again; the outcome is read in the
 * database and over HTTP.
 */
import http from 'node:http';
import { jest } from '@jest/globals';
import { Types } from 'mongoose';
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

// Each web process takes seconds to start on a loaded machine; the whole file starts seven.
jest.setTimeout(120_000);

let s: WebCrashSchool;
let platform: TestPlatformRecord & { oid: Types.ObjectId };
const COURSE = 'web-crash-101';
let finisher: string;

beforeAll(async () => {
  s = await openWebCrashSchool();
  const registered = await registerTestPlatform(s.api);
  platform = { ...registered, oid: new Types.ObjectId(registered.id) };
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
  await s?.close();
});

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
    10_000,
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

describe('the event endpoint, its web process killed mid-request', () => {
  const LEARNERS = 4;

  it('killed before the insert reached the database, and with a body half sent: the LMS sees failures, resends, and each is stored once', async () => {
    const body = completions('before', LEARNERS);
    const inserting = s.freeze((c) => c.name === 'insert' && c.collection === 'learning_events');
    const sending = sendEvents(s.api, platform.webhookSecret, body);
    await within('the event insert to be held', inserting, 20_000);
    // Meanwhile another batch is on its way, half of its body sent when the process dies.
    const halfBody = JSON.stringify(completions('half', LEARNERS));
    const half = halfSentEvents(halfBody);
    await half.sent;
    await s.killWeb();
    await expect(sending).rejects.toThrow(/fetch failed/);
    await expect(half.answer).rejects.toThrow(/socket hang up|ECONNRESET|EPIPE/);
    expect(await eventsOf('before')).toHaveLength(0);
    expect(await eventsOf('half')).toHaveLength(0);

    await s.startWeb();
    const resent = await sendEvents(s.api, platform.webhookSecret, body);
    expect(resent.status).toBe(200);
    expect(resent.body).toEqual({ stored: LEARNERS, duplicates: 0, rejected: [] });
    const resentHalf = await sendEvents(s.api, platform.webhookSecret, null, { raw: halfBody });
    expect(resentHalf.body).toEqual({ stored: LEARNERS, duplicates: 0, rejected: [] });
    await expectCountedOnce('before', LEARNERS);
    await expectCountedOnce('half', LEARNERS);
  });

  it('killed after the insert, before the answer: the resend is a duplicate, and processing is woken', async () => {
    const body = completions('after', LEARNERS);
    // The write after the insert: the web process's wake-up of the worker (a job in agendaJobs).
    const waking = s.freeze(
      (c) => c.collection === 'agendaJobs' && ['findAndModify', 'update', 'insert'].includes(c.name),
    );
    const sending = sendEvents(s.api, platform.webhookSecret, body);
    await within('the wake-up write to be held', waking, 20_000);
    await s.killWeb();
    await expect(sending).rejects.toThrow(/fetch failed/);
    // Stored, but nobody was told: the answer and the wake-up died with the process.
    expect(await eventsOf('after')).toHaveLength(LEARNERS);

    await s.startWeb();
    const resent = await sendEvents(s.api, platform.webhookSecret, body);
    expect(resent.status).toBe(200);
    expect(resent.body).toEqual({ stored: 0, duplicates: LEARNERS, rejected: [] });
    await expectCountedOnce('after', LEARNERS);
    // Over HTTP, as the administrator sees it: one credential for each learner of the three batches.
    const listed = await admin(s.api, 'GET', `/credentials?templateId=${finisher}&limit=100`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(3 * LEARNERS);
    expect(s.web().log()).not.toContain('"level":50');
  });
});

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

describe('an instructor form, its web process killed between its writes', () => {
  let lms: TestPlatform;
  let moodle: { id: string; oid: Types.ObjectId; webhookSecret: string };
  beforeAll(async () => {
    lms = await startTestPlatform({ toolUrl: s.url, flavour: 'moodle', host: '127.0.0.1', seedDemo: true });
    const answer = await admin(s.api, 'POST', '/platforms', lms.registrationInfo());
    expect(answer.status).toBe(201);
    moodle = {
      id: answer.body.id,
      oid: new Types.ObjectId(answer.body.id),
      webhookSecret: answer.body.webhookSecret,
    };
  });
  afterAll(async () => {
    await lms?.close();
  });

  it('activating a badge and creating one: each written whole; sent again, the recount runs and no second badge is made', async () => {
    const m = s.worker.laurel.ctx.models;
    const course = lms.demo!.courses.chemistry.id;
    const LEARNERS = 3;
    // Learners completed the course before the badge existed: only the recount after activation awards them.
    const sent = await sendEvents(s.api, moodle.webhookSecret, {
      events: Array.from({ length: LEARNERS }, (_, n) =>
        event(moodle.id, {
          id: `early-${n}`,
          type: 'course.completed',
          course: { id: course },
          user: { id: `early-${n}`, name: `Early Learner ${n}` },
          data: {},
        }),
      ),
    });
    expect(sent.body.stored).toBe(LEARNERS);
    await waitFor(
      'the early completions processed',
      async () =>
        (await m.events.countDocuments({ platformId: moodle.oid, status: 'processed' })) === LEARNERS,
      10_000,
    );
    const draft = await admin(s.api, 'POST', '/templates', {
      platformId: moodle.id,
      courseId: course,
      name: 'Chemistry finisher',
      groups: [{ requirements: [{ event: 'course.completed' }] }],
    });
    const id = draft.body.id as string;
    const instructor = await launch(lms, { courseId: course, sub: lms.demo!.users.instructor.sub });
    expect(instructor.status).toBe(200);
    const ltik = new URL(instructor.url).searchParams.get('ltik')!;
    const statePath = `/course/instructor/badges/${id}/state`;
    const confirm = await fetch(`${s.url}${statePath}?ltik=${encodeURIComponent(ltik)}&action=activate`);
    expect(confirm.status).toBe(200);
    const page = await confirm.text();

    // Meanwhile the instructor creates another badge in a second tab.
    const newForm = await fetch(`${s.url}/course/instructor/badges/new?ltik=${encodeURIComponent(ltik)}`);
    const newPage = await newForm.text();
    const badge = { name: 'Lab regular', 'groups[0][0][kind]': 'course-completed' };

    // Both held at their audit entries: the state and the new badge are written, no answer sent.
    const audited = (c: { name: string; collection: unknown }) =>
      c.name === 'insert' && c.collection === 'audit_log';
    const auditing = [s.freeze(audited), s.freeze(audited)];
    const posting = submitForm(page, statePath);
    const creating = submitForm(newPage, '/course/instructor/badges', badge);
    await within('both audit entries to be held', Promise.all(auditing), 20_000);
    await s.killWeb();
    await expect(posting).rejects.toThrow(/fetch failed/);
    await expect(creating).rejects.toThrow(/fetch failed/);
    const atKill = await m.templates.findById(id).lean();
    expect(atKill!.state).toBe('active');
    expect(atKill!.recalculation).toEqual(expect.objectContaining({ state: 'queued' }));
    const made = { platformId: moodle.oid, name: 'Lab regular' };
    expect(await m.templates.countDocuments(made)).toBe(1);

    await s.startWeb();
    // The instructor sends the form again (the browser's "resend"): same launch, same CSRF token.
    const retried = await submitForm(page, statePath);
    expect(retried.status).toBe(303);
    // The create form sent again: the badge it made, not a second one.
    const recreated = await submitForm(newPage, '/course/instructor/badges', badge);
    expect(recreated.status).toBe(303);
    const lab = (await m.templates.find(made).lean()).map((t) => String(t._id));
    expect(lab).toHaveLength(1);
    expect(new URL(recreated.location!, s.url).pathname).toBe(`/course/instructor/badges/${lab[0]}`);
    // The same form changed (back, edit, send) is another badge.
    const changed = await submitForm(newPage, '/course/instructor/badges', {
      ...badge,
      name: 'Lab regular II',
    });
    expect(changed.status).toBe(303);
    expect(await m.templates.countDocuments({ platformId: moodle.oid, name: 'Lab regular II' })).toBe(1);
    await waitFor(
      'the recount to award the early learners',
      async () => (await m.credentials.countDocuments({ templateId: new Types.ObjectId(id) })) === LEARNERS,
      10_000,
    );
    const credentials = await m.credentials.find({ templateId: new Types.ObjectId(id) }).lean();
    expect(new Set(credentials.map((c) => String(c.personId))).size).toBe(LEARNERS);
    const after = await admin(s.api, 'GET', `/templates/${id}`);
    expect(after.body.state).toBe('active');
    expect((await m.templates.findById(id).lean())!.recalculation).toEqual(
      expect.objectContaining({ state: 'done', awarded: LEARNERS }),
    );
  });
});

describe('an admin API write, its web process killed between its writes', () => {
  let lms: TestPlatform;
  afterAll(async () => {
    await lms?.close();
  });
  const lti = (name: string) => s.worker.laurel.connection.db!.collection(name);

  it('registering an LMS: stored in Laurel, not yet in the LTI store; the next process completes it', async () => {
    lms = await startTestPlatform({ toolUrl: s.url, flavour: 'moodle', host: '127.0.0.1', seedDemo: true });
    const info = lms.registrationInfo();
    // Held at the LTI store's platform record: Laurel's platform and the tool's key pair are written.
    const recording = s.freeze((c) => c.name === 'insert' && c.collection === 'lti_platforms');
    const registering = admin(s.api, 'POST', '/platforms', info);
    await within('the LTI platform record to be held', recording, 20_000);
    await s.killWeb();
    await expect(registering).rejects.toThrow(/fetch failed/);
    const stored = await s.worker.laurel.ctx.models.platforms.findOne({ issuer: info.issuer }).lean();
    expect(stored).not.toBeNull();
    expect(await lti('lti_platforms').countDocuments({ platformUrl: info.issuer })).toBe(0);

    // The next web process brings the LTI store in line with Laurel's platforms as it starts.
    await s.startWeb();
    const records = await lti('lti_platforms').find({ platformUrl: info.issuer }).toArray();
    expect(records).toHaveLength(1);
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
      event(mine[0].id, { id: 'after-registration', course: { id: lms.demo!.courses.chemistry.id } }),
    );
    expect(sent.body).toEqual({ stored: 1, duplicates: 0, rejected: [] });
    const page = await launch(lms, {
      courseId: lms.demo!.courses.chemistry.id,
      sub: lms.demo!.users.ada.sub,
    });
    expect(page.status).toBe(200);
  });
  it('changing an active badge’s rules: the new rules and their recount are written together; the retry runs it, awarding once', async () => {
    const m = s.worker.laurel.ctx.models;
    const LEARNERS = 3;
    const sent = await sendEvents(s.api, platform.webhookSecret, {
      events: Array.from({ length: LEARNERS }, (_, n) =>
        event(platform.id, {
          id: `grade-${n}`,
          type: 'course.grade.updated',
          course: { id: COURSE },
          user: { id: `graded-${n}`, name: `Graded Learner ${n}` },
          data: { score: 80, maxScore: 100 },
        }),
      ),
    });
    expect(sent.body.stored).toBe(LEARNERS);
    const rules = (percent: number) => [
      {
        requirements: [
          { event: 'course.grade.updated', rules: [{ path: 'data.percent', op: 'gte', value: percent }] },
        ],
      },
    ];
    const created = await admin(s.api, 'POST', '/templates', {
      platformId: platform.id,
      courseId: COURSE,
      name: 'High scorer',
      groups: rules(90),
    });
    const id = created.body.id as string;
    const templateId = new Types.ObjectId(id);
    expect((await admin(s.api, 'POST', `/templates/${id}/activate`)).status).toBe(200);
    const recounted = async () => (await m.templates.findById(id).lean())!.recalculation?.state === 'done';
    await waitFor('the first recount', recounted, 10_000);
    expect(await m.credentials.countDocuments({ templateId })).toBe(0);

    // 80% now earns it. Held at the first write after the change of rules: the wake-up of the recount
    // (or, written apart as before, the recount's request itself).
    const before = Date.now();
    const next = s.freeze(
      (c) =>
        (c.collection === 'agendaJobs' && ['findAndModify', 'update', 'insert'].includes(c.name)) ||
        (c.collection === 'templates' && c.name === 'update' && !!setOf(c)?.recalculation),
    );
    const patching = admin(s.api, 'PATCH', `/templates/${id}`, { groups: rules(75) });
    await within('the write after the change to be held', next, 20_000);
    await s.killWeb();
    await expect(patching).rejects.toThrow(/fetch failed/);
    const atKill = (await m.templates.findById(id).lean())!;
    expect(atKill.groups[0]!.requirements[0]).toEqual(
      expect.objectContaining({ rules: [{ path: 'data.percent', op: 'gte', value: 75 }] }),
    );
    expect(atKill.recalculation).toEqual(expect.objectContaining({ state: 'queued' }));
    expect(atKill.recalculation!.requestedAt.getTime()).toBeGreaterThanOrEqual(before);

    // The administrator's script sends it again: the same rules, and the recount runs.
    await s.startWeb();
    const retried = await admin(s.api, 'PATCH', `/templates/${id}`, { groups: rules(75) });
    expect(retried.status).toBe(200);
    await waitFor(
      'the recount under the new rules to award the learners',
      async () => (await recounted()) && (await m.credentials.countDocuments({ templateId })) === LEARNERS,
      10_000,
    );
    const credentials = await m.credentials.find({ templateId }).lean();
    expect(credentials).toHaveLength(LEARNERS);
    expect(new Set(credentials.map((c) => String(c.personId))).size).toBe(LEARNERS);
  });
});

describe('an LTI launch, its web process killed mid-way', () => {
  let lms: TestPlatform;
  let platformId: Types.ObjectId;
  beforeAll(async () => {
    lms = await startTestPlatform({ toolUrl: s.url, flavour: 'moodle', host: '127.0.0.1', seedDemo: true });
    const registered = await admin(s.api, 'POST', '/platforms', lms.registrationInfo());
    expect(registered.status).toBe(201);
    platformId = new Types.ObjectId(registered.body.id as string);
  });
  const peopleWith = (sub: string) =>
    s.worker.laurel.ctx.models.people.countDocuments({ platformId, ids: sub });
  afterAll(async () => {
    await lms?.close();
  });

  it('the learner relaunches and gets in; the id_token and state of the broken launch cannot be replayed', async () => {
    const course = lms.demo!.courses.chemistry.id;
    const grace = lms.demo!.users.grace;
    // Held at the learner's first write: the nonce, ltijs's tokens and the login state are spent.
    const identifying = s.freeze(
      (c) => c.collection === 'people' && ['findAndModify', 'insert', 'update'].includes(c.name),
    );
    const jar = new CookieJar();
    const launching = launch(lms, { courseId: course, sub: grace.sub, jar });
    await within('the launch to reach its identity writes', identifying, 20_000);
    await s.killWeb();
    await expect(launching).rejects.toThrow(/fetch failed/);
    const broken = lms.idTokensIssued.at(-1)!;
    expect(broken.sub).toBe(grace.sub);
    expect(await peopleWith(grace.sub)).toBe(0);

    await s.startWeb();
    // The browser's resend of the form the LMS posted, with the state cookie kept: refused, once used.
    const replayed = await postLaunch(lms, { idToken: broken.idToken, state: broken.state!, cookies: jar });
    expect(replayed.status).toBe(401);
    expect(replayed.body).toContain('(reused_nonce)');
    // The learner launches again from the course: in.
    const again = await launch(lms, { courseId: course, sub: grace.sub });
    expect(again.status).toBe(200);
    expect(new URL(again.url).pathname).toBe('/course/learner');
    expect(await peopleWith(grace.sub)).toBe(1);
    expect(s.web().log()).not.toContain('"level":50');
  });

  it('killed before the nonce was stored: the broken launch completes once, never twice', async () => {
    const course = lms.demo!.courses.chemistry.id;
    const ada = lms.demo!.users.ada;
    const spending = s.freeze((c) => c.name === 'insert' && c.collection === 'lti_nonces');
    const jar = new CookieJar();
    const launching = launch(lms, { courseId: course, sub: ada.sub, jar });
    await within('the launch to reach its nonce', spending, 20_000);
    await s.killWeb();
    await expect(launching).rejects.toThrow(/fetch failed/);
    const broken = lms.idTokensIssued.at(-1)!;

    await s.startWeb();
    // Nothing of it was spent: the browser's resend completes it, this once.
    const kept = jar.list(`${s.url}/lti/launch`);
    const resent = await postLaunch(lms, { idToken: broken.idToken, state: broken.state!, cookies: jar });
    expect(resent.status).toBe(200);
    expect(new URL(resent.url).pathname).toBe('/course/learner');
    // Again, even with the state cookie kept from before: refused.
    const twice = await postLaunch(lms, { idToken: broken.idToken, state: broken.state!, cookies: kept });
    expect(twice.status).toBe(401);
    expect(twice.body).toContain('(reused_nonce)');
    expect(await peopleWith(ada.sub)).toBe(1);
  });
});
