import { Types } from 'mongoose';
import { recalculateTemplate } from '../../src/progress/recalculation.js';
import { runQueuedRecalculations } from '../../src/progress/recalculationQueue.js';
import { processPendingEvents } from '../../src/progress/processPending.js';
import type { TemplateDoc } from '../../src/db/models/template.js';
import { admin, event, sendEvents, settled } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import {
  expectHumanPage,
  follow,
  linksOf,
  ltikOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

/** Posts the form of `html` whose action has this path, with its own fields (minus `drop`) and `fields`. */
async function submit(
  t: TestLaurel,
  html: string,
  path: string | RegExp,
  fields: Record<string, string | string[]> = {},
  drop: string[] = [],
) {
  const form = parseForms(html).find((f) => {
    const p = new URL(f.action, t.url).pathname;
    return typeof path === 'string' ? p === path : path.test(p);
  });
  if (!form) throw new Error(`no form posting to ${path}`);
  const body = new URLSearchParams();
  for (const [name, value] of form.fields)
    if (!drop.includes(name) && !(name in fields) && name !== 'people') body.append(name, value);
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
  const res = await fetch(new URL(form.action, t.url), {
    method: 'POST',
    body,
    redirect: 'manual',
    headers: { accept: 'text/html' },
  });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

describe('a badge’s credentials and recalculation (instructor pages)', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let instructor: { url: string; body: string };
  let learnerLaunch: { url: string };
  let otherCourse: { url: string };
  let badge: TemplateDoc;
  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    const chemistry = p.demo!.courses.chemistry.id;
    instructor = await launch(p, { courseId: chemistry, sub: p.demo!.users.instructor.sub });
    learnerLaunch = await launch(p, { courseId: chemistry, sub: p.demo!.users.ada.sub });
    await launch(p, { courseId: chemistry, sub: p.demo!.users.grace.sub });
    otherCourse = await launch(p, {
      courseId: p.demo!.courses.history.id,
      sub: p.demo!.users.instructor.sub,
    });
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  const models = () => t.laurel.ctx.models;
  const chemistry = () => p.demo!.courses.chemistry.id;
  const send = async (user: { id: string; name?: string }, over: Record<string, unknown>) => {
    const answer = await sendEvents(
      t,
      moodle.webhookSecret,
      event(moodle.id, { course: { id: chemistry() }, user, ...over }),
    );
    expect(answer.body.stored).toBe(1);
  };
  const quiz = (percent: number) => ({
    type: 'activity.grade.updated',
    data: { activityId: 'quiz-3', percent },
  });
  const completed = { type: 'course.completed', data: {} };
  const liveOf = async (templateId: Types.ObjectId) =>
    models().credentials.find({ templateId, liveSlot: 'live' }).lean();
  const link = (path: string, launchUrl = instructor.url) =>
    `${path}?ltik=${encodeURIComponent(ltikOf(launchUrl)!)}`;
  const credentialsPage = (launchUrl?: string) =>
    link(`/course/instructor/badges/${badge._id}/credentials`, launchUrl);

  it('dry-runs a draft against the grades already received: lists who would earn it and who is close, awards nothing', async () => {
    const created = await admin(t, 'POST', '/templates', {
      platformId: moodle.id,
      courseId: chemistry(),
      name: 'Quiz and course',
      groups: [
        {
          requirements: [
            {
              event: 'activity.grade.updated',
              rules: [
                { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
                { path: 'data.percent', op: 'gte', value: 80 },
              ],
            },
          ],
        },
        { requirements: [{ event: 'course.completed', rules: [] }] },
      ],
    });
    expect(created.status).toBe(201);
    badge = (await models().templates.findById(created.body.id).lean<TemplateDoc>())!;
    expect(String(badge.courseRef)).not.toBe('null');

    const ada = { id: p.demo!.users.ada.sub };
    const grace = { id: p.demo!.users.grace.sub };
    await send(ada, quiz(91));
    await send(ada, completed);
    await send(grace, quiz(85));
    await send({ id: 'far-1', name: 'Far Away' }, quiz(20));
    await settled(t);

    const list = await follow(t, credentialsPage());
    expect(list.status).toBe(200);
    const dry = await follow(
      t,
      linksOf(list.body).find((l) => l.includes('/dry-run'))!,
    );
    expect(dry.status).toBe(200);
    expectHumanPage(dry.body);
    expect(dry.body).toContain('Nothing was awarded');
    expect(dry.body).toMatch(/data-list="would-earn"><li>Ada Lovelace<\/li><\/ul>/);
    expect(dry.body).toMatch(/data-list="close"><li>Grace Hopper · 50%<\/li><\/ul>/);
    expect(dry.body).not.toContain('Far Away');
    expect(await models().credentials.countDocuments({ templateId: badge._id })).toBe(0);
    expect(await models().progress.countDocuments({ templateId: badge._id })).toBe(0);
  });

  it('activates a badge after the grades arrived: the recalculation awards whoever already met it', async () => {
    const confirmLink = link(`/course/instructor/badges/${badge._id}/state`) + '&action=activate';
    const confirm = await follow(t, confirmLink);
    expect(confirm.body).toContain('Results Laurel already received count too');
    expect(linksOf(confirm.body).some((l) => l.includes('/dry-run'))).toBe(true);
    const done = await submit(t, confirm.body, `/course/instructor/badges/${badge._id}/state`);
    expect(done.status).toBe(303);
    await t.laurel.ctx.jobs.idle?.();

    const live = await liveOf(badge._id);
    expect(live).toHaveLength(1);
    const adaPerson = await models().people.findOne({ ids: p.demo!.users.ada.sub }).lean();
    expect(String(live[0]!.personId)).toBe(String(adaPerson!._id));
    const stored = await models().templates.findById(badge._id).lean<TemplateDoc>();
    expect(stored!.recalculation).toMatchObject({ state: 'done', done: 3, total: 3, awarded: 1 });
    const graceProgress = await models().progress.findOne({ templateId: badge._id, ratio: 0.5 }).lean();
    expect(graceProgress).not.toBeNull();

    const page = await follow(t, credentialsPage());
    expect(page.body).toContain('recounted for 3 learners; 1 badge awarded');
    expect(page.body).toMatch(/<th scope="row">Ada Lovelace/);
    expect(page.body).toMatch(/data-state="(awarded|issuing|issued)"/);
  });

  it('awards exactly once when the recalculation runs twice at once and alongside live events', async () => {
    const grace = { id: p.demo!.users.grace.sub };
    // Grace completes the course; the live pipeline and two recalculations race over it.
    await send(grace, completed);
    const template = (await models().templates.findById(badge._id).lean<TemplateDoc>())!;
    const [a, b] = await Promise.all([
      recalculateTemplate(t.laurel.ctx, template, { dryRun: false }),
      recalculateTemplate(t.laurel.ctx, template, { dryRun: false }),
      processPendingEvents(t.laurel.ctx),
    ]);
    await settled(t);
    await t.laurel.ctx.jobs.idle?.();
    const live = await liveOf(badge._id);
    expect(live).toHaveLength(2);
    expect(await models().credentials.countDocuments({ templateId: badge._id })).toBe(2);
    expect(a!.awarded + b!.awarded).toBeLessThanOrEqual(1);

    // A queued recalculation drained by two runs at once: nothing more is awarded.
    await models().templates.collection.updateOne(
      { _id: badge._id },
      { $set: { 'recalculation.state': 'queued' } },
    );
    await Promise.all([runQueuedRecalculations(t.laurel.ctx), runQueuedRecalculations(t.laurel.ctx)]);
    expect(await models().credentials.countDocuments({ templateId: badge._id })).toBe(2);
    expect((await models().templates.findById(badge._id).lean<TemplateDoc>())!.recalculation!.state).toBe(
      'done',
    );
  });

  it('re-evaluates the stored events when an active badge’s conditions change', async () => {
    const changed = await admin(t, 'PATCH', `/templates/${badge._id}`, {
      groups: [
        {
          requirements: [
            {
              event: 'activity.grade.updated',
              rules: [
                { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
                { path: 'data.percent', op: 'gte', value: 10 },
              ],
            },
          ],
        },
      ],
    });
    expect(changed.status).toBe(200);
    await t.laurel.ctx.jobs.idle?.();
    // The learner with 20% now meets it; the two holders are not awarded again.
    const live = await liveOf(badge._id);
    expect(live.map((c) => c.userId).sort()).toEqual(
      ['far-1', p.demo!.users.ada.sub, p.demo!.users.grace.sub].sort(),
    );
  });

  it('refuses a learner and another course’s instructor on every page and action', async () => {
    const credential = (await liveOf(badge._id))[0]!;
    const paths = [
      `/course/instructor/badges/${badge._id}/credentials`,
      `/course/instructor/badges/${badge._id}/dry-run`,
      `/course/instructor/badges/${badge._id}/credentials.csv`,
      `/course/instructor/badges/${badge._id}/progress.csv`,
      `/course/instructor/badges/${badge._id}/credentials/${credential._id}/revoke`,
    ];
    for (const who of [learnerLaunch, otherCourse])
      for (const path of paths) {
        const answer = await follow(t, link(path, who.url));
        expect({ path, status: answer.status }).toEqual({ path, status: 403 });
        expect(answer.body).not.toContain('Ada Lovelace');
      }
    // Posts with each launch's own valid CSRF token (from a form it may open) are refused too.
    const tokenOf = async (who: { url: string }) => {
      const form = await follow(t, link('/course/learner', who.url));
      const own = await follow(t, link('/course/instructor/badges/new', who.url));
      const html = own.status === 200 ? own.body : form.body;
      return /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    };
    expect(await tokenOf(otherCourse)).not.toBe('');
    const actions = [
      `/course/instructor/badges/${badge._id}/credentials/${credential._id}/revoke`,
      `/course/instructor/badges/${badge._id}/credentials/${credential._id}/retry`,
      `/course/instructor/badges/${badge._id}/credentials/award`,
      `/course/instructor/badges/${badge._id}/recalculate`,
    ];
    for (const who of [learnerLaunch, otherCourse])
      for (const path of actions) {
        const res = await fetch(new URL(link(path, who.url), t.url), {
          method: 'POST',
          body: new URLSearchParams({
            csrf: await tokenOf(who),
            reason: 'x',
            note: 'x',
            people: String(credential.personId),
          }),
          redirect: 'manual',
        });
        expect({ path, status: res.status }).toEqual({ path, status: 403 });
      }
    expect((await models().credentials.findById(credential._id).lean())!.status).not.toBe('revoked');
  });

  it('revokes with a reason behind a confirmation; CSRF and an empty reason are refused', async () => {
    const page = await follow(t, credentialsPage());
    const ada = await models().people.findOne({ ids: p.demo!.users.ada.sub }).lean();
    const credential = (await liveOf(badge._id)).find((c) => String(c.personId) === String(ada!._id))!;
    const revokeLink = linksOf(page.body).find((l) => l.includes(`/credentials/${credential._id}/revoke`))!;
    const confirm = await follow(t, revokeLink);
    expect(confirm.status).toBe(200);
    expectHumanPage(confirm.body);
    const path = new URL(revokeLink, t.url).pathname;

    const noCsrf = await submit(t, confirm.body, path, { reason: 'Copied the quiz' }, ['csrf']);
    expect(noCsrf.status).toBe(403);
    const empty = await submit(t, confirm.body, path, { reason: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.body).toContain('Say why.');
    expect(empty.body).toMatch(/aria-describedby="reason-error"/);
    expect((await models().credentials.findById(credential._id).lean())!.status).not.toBe('revoked');

    const done = await submit(t, confirm.body, path, { reason: 'Copied the quiz from a neighbour' });
    expect(done.status).toBe(303);
    const stored = await models().credentials.findById(credential._id).lean();
    expect(stored).toMatchObject({ status: 'revoked', revokedReason: 'Copied the quiz from a neighbour' });
    expect(stored!.revokedBy).toMatchObject({ type: 'instructor' });

    const after = await follow(t, done.location!);
    expect(after.body).toContain('The credential was revoked.');
    expect(decodeEntities(after.body)).toMatch(
      /data-state="revoked">Revoked<\/span><br><span class="muted" data-field="detail">Copied the quiz from a neighbour \(revoked \d{4}-\d\d-\d\d\)/,
    );
    // Revoking again: nothing changes, and the page says so.
    const again = await submit(t, confirm.body, path, { reason: 'Twice' });
    expect(again.status).toBe(303);
    expect(again.location).toContain('done=not-live');
    expect((await models().credentials.findById(credential._id).lean())!.revokedReason).toBe(
      'Copied the quiz from a neighbour',
    );
  });

  it('shows a revoked credential’s public page with the reason first, the picture greyed and no downloads', async () => {
    const revoked = await models().credentials.findOne({ templateId: badge._id, status: 'revoked' }).lean();
    const res = await fetch(`${t.url}/credentials/${revoked!._id}`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    const status = html.indexOf('data-field="status"');
    expect(status).toBeGreaterThan(0);
    expect(status).toBeLessThan(html.indexOf('id="badge-name"'));
    expect(decodeEntities(html)).toContain(
      'Reason: <span data-field="revoked-reason">Copied the quiz from a neighbour</span>',
    );
    expect(html).toContain('class="credential credential-ended"');
    expect(html).not.toContain('Download or share');
    expect(html).not.toMatch(/download>/);
  });

  it('shows a failed issuance with its reason and retries it', async () => {
    const grace = await models().people.findOne({ ids: p.demo!.users.grace.sub }).lean();
    const credential = (await liveOf(badge._id)).find((c) => String(c.personId) === String(grace!._id))!;
    await models().credentials.updateOne(
      { _id: credential._id },
      { $set: { status: 'failed', outbox: null, error: 'The signing key could not be read' } },
    );
    const page = await follow(t, credentialsPage());
    expect(page.body).toMatch(
      /data-state="failed">Failed<\/span><br><span class="muted" data-field="detail">The signing key could not be read/,
    );
    const retryPath = `/course/instructor/badges/${badge._id}/credentials/${credential._id}/retry`;
    const noCsrf = await submit(t, page.body, retryPath, {}, ['csrf']);
    expect(noCsrf.status).toBe(403);
    expect((await models().credentials.findById(credential._id).lean())!.status).toBe('failed');
    const done = await submit(t, page.body, retryPath);
    expect(done.status).toBe(303);
    expect(done.location).toContain('done=retried');
    expect((await models().credentials.findById(credential._id).lean())!.status).toMatch(/awarded|issued/);
  });

  it('awards by hand to chosen learners of the course with a note', async () => {
    // A learner known from an event only, with a name a spreadsheet would run as a formula.
    await send({ id: 'u-formula', name: '=HYPERLINK("http://evil.example","Click, me")' }, quiz(5));
    await settled(t);
    const ada = await models().people.findOne({ ids: p.demo!.users.ada.sub }).lean();
    const formula = await models().people.findOne({ ids: 'u-formula' }).lean();
    const page = await follow(t, credentialsPage());
    // Ada's was revoked: she may be given it again by hand; the holders are not offered.
    expect(page.body).toContain(`value="${ada!._id}"`);
    expect(page.body).toContain(`value="${formula!._id}"`);
    const awardPath = `/course/instructor/badges/${badge._id}/credentials/award`;

    const noCsrf = await submit(t, page.body, awardPath, { people: String(ada!._id), note: 'x' }, ['csrf']);
    expect(noCsrf.status).toBe(403);
    const noNote = await submit(t, page.body, awardPath, { people: String(ada!._id), note: '' });
    expect(noNote.status).toBe(400);
    expect(noNote.body).toMatch(/id="note-error" class="field-error">Say why\./);
    expect(noNote.body).toMatch(new RegExp(`value="${ada!._id}" checked`));
    const stranger = await submit(t, page.body, awardPath, {
      people: new Types.ObjectId().toHexString(),
      note: 'Who?',
    });
    expect(stranger.status).toBe(400);
    expect(stranger.body).toContain('Choose one or more learners from the list.');
    expect(await models().credentials.countDocuments({ templateId: badge._id })).toBe(3);

    const done = await submit(t, page.body, awardPath, {
      people: [String(ada!._id), String(formula!._id)],
      note: 'Presented the project in class',
    });
    expect(done.status).toBe(303);
    expect(done.location).toContain('done=awarded&n=2&m=0');
    const byHand = await models()
      .credentials.find({ templateId: badge._id, awardReason: 'Presented the project in class' })
      .lean();
    expect(byHand.map((c) => String(c.personId)).sort()).toEqual(
      [String(ada!._id), String(formula!._id)].sort(),
    );
    expect(byHand.every((c) => c.awardedBy.type === 'instructor' && c.liveSlot === 'live')).toBe(true);
    const after = await follow(t, done.location!);
    expect(after.body).toContain('2 credentials awarded.');
    expect(after.body).toContain('by Iris Instructor: Presented the project in class');
  });

  it('exports the credentials and the progress as CSV, quoted and safe from formulas', async () => {
    const page = await follow(t, credentialsPage());
    const csvLink = linksOf(page.body).find((l) => l.includes('/credentials.csv'))!;
    const res = await fetch(new URL(csvLink, t.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="quiz-and-course-credentials.csv"',
    );
    const text = await res.text();
    const lines = text.replace(/^\uFEFF/, '').split('\r\n');
    expect(lines[0]).toBe(
      'Name,Email,LMS user id,State,Awarded at,Awarded by,Award note,Issued at,Expires at,Revoked at,Revocation reason,Issuing error,Public page',
    );
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(1 + 5 + 1);
    const formulaLine = lines.find((l) => l.includes('HYPERLINK'))!;
    expect(formulaLine.startsWith(`"'=HYPERLINK(""http://evil.example"",""Click, me"")",,u-formula,`)).toBe(
      true,
    );
    expect(text).toContain(',revoked,');
    expect(text).toContain('Copied the quiz from a neighbour');

    const progressLink = linksOf(page.body).find((l) => l.includes('/progress.csv'))!;
    const progress = await (await fetch(new URL(progressLink, t.url))).text();
    const rows = progress.replace(/^\uFEFF/, '').split('\r\n');
    expect(rows[0]!.startsWith('Name,Email,Progress (%),')).toBe(true);
    expect(rows[0]!.endsWith(',Earned at,Last change')).toBe(true);
    expect(rows.some((r) => r.startsWith('Far Away,,100,yes,'))).toBe(true);
  });

  it('queues a recount from the page (CSRF needed) and shows its progress', async () => {
    const page = await follow(t, credentialsPage());
    const path = `/course/instructor/badges/${badge._id}/recalculate`;
    const noCsrf = await submit(t, page.body, path, {}, ['csrf']);
    expect(noCsrf.status).toBe(403);
    const before = (await models().templates.findById(badge._id).lean<TemplateDoc>())!.recalculation!;
    const done = await submit(t, page.body, path);
    expect(done.status).toBe(303);
    await t.laurel.ctx.jobs.idle?.();
    const after = (await models().templates.findById(badge._id).lean<TemplateDoc>())!.recalculation!;
    expect(after.state).toBe('done');
    expect(after.requestedAt.getTime()).toBeGreaterThan(before.requestedAt.getTime());
    expect(after.awarded).toBe(0);
    const shown = await follow(t, done.location!);
    expect(shown.body).toContain('Laurel is recounting the results already received.');
  });
  it('shows a recount under way on the badges page, and issuing and expired credentials by state', async () => {
    await models().templates.collection.updateOne(
      { _id: badge._id },
      { $set: { 'recalculation.state': 'running', 'recalculation.done': 1, 'recalculation.total': 4 } },
    );
    const list = await follow(t, instructor.url);
    expect(list.body).toMatch(
      /<progress max="100" value="25" aria-label="Recount of Quiz and course">25%<\/progress><span>Recounting the results already received: 1 of 4 learners\.<\/span>/,
    );
    await models().templates.collection.updateOne(
      { _id: badge._id },
      { $set: { 'recalculation.state': 'done' } },
    );

    const [first, second] = await liveOf(badge._id);
    await models().credentials.updateOne(
      { _id: first!._id },
      { $set: { status: 'awarded', issuingUntil: new Date(Date.now() + 60_000) } },
    );
    const expiredAt = new Date('2026-01-31T00:00:00Z');
    await models().credentials.updateOne(
      { _id: second!._id },
      { $set: { status: 'expired', liveSlot: String(second!._id), expiresAt: expiredAt, expiredAt } },
    );
    const page = await follow(t, credentialsPage());
    expect(page.body).toMatch(
      new RegExp(`data-credential="${first!._id}">[\\s\\S]*?data-state="issuing">Issuing<`),
    );
    expect(page.body).toMatch(
      new RegExp(
        `data-credential="${second!._id}">[\\s\\S]*?data-state="expired">Expired</span><br><span class="muted" data-field="detail">Expired 2026-01-31<`,
      ),
    );
    // An ended credential offers no revocation.
    expect(linksOf(page.body).some((l) => l.includes(`/credentials/${second!._id}/revoke`))).toBe(false);
  });
});
