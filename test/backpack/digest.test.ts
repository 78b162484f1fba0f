/**
 * Issue 23, part 5: an instructor's weekly digest of a course, opted into from the instructor page,
 * sent by a recurring job through an in-process SMTP server, with an unsubscribe link that works;
 * and no digest at all when SMTP_URL is unset.
 */
import { createMailer } from '../../src/mail/mailer.js';
import { sendCourseDigests } from '../../src/mail/digest.js';
import { JOBS } from '../../src/jobs/names.js';
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import {
  follow,
  linksOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';
import { waitFor } from '../openbadges/support.js';
import { activeTemplate, awardIssued, gradeQuiz3 } from './helpers.js';
import { startTestSmtp, type CapturedMail, type TestSmtp } from './smtp.js';

/** Posts the page's only form as a browser would (the ltik is in its action). */
async function submitForm(t: TestLaurel, html: string, fields: Record<string, string> = {}) {
  const form = parseForms(html)[0];
  if (!form) throw new Error('no form on the page');
  const res = await fetch(new URL(form.action, t.url), {
    method: 'POST',
    headers: { accept: 'text/html' },
    body: new URLSearchParams({ ...Object.fromEntries(form.fields), ...fields }),
    redirect: 'manual',
  });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

const digestLinkOf = (html: string) => {
  const link = linksOf(html).find((l) => l.startsWith('/course/instructor/digest?'));
  if (!link) throw new Error('the instructor page has no digest link');
  return link;
};

describe('the instructors’ weekly digest', () => {
  let smtp: TestSmtp;
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let digestPage: string;

  beforeAll(async () => {
    smtp = await startTestSmtp();
    t = await startLaurelForLti({ SMTP_URL: smtp.url, MAIL_FROM: 'badges@laurel.test' });
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    for (const user of [p.demo!.users.ada, p.demo!.users.grace])
      await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: user.sub });
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
    await smtp?.close();
  });

  const digests = () => smtp.mails.filter((m) => m.subject.startsWith('Badges in Chemistry 101'));
  const subscriptions = () => t.laurel.ctx.models.digestSubscriptions.find({}).lean();
  /** The week is over: the digest is due now. */
  const weekOver = () =>
    t.laurel.ctx.models.digestSubscriptions.updateMany(
      {},
      { $set: { nextDueAt: new Date(Date.now() - 1000) } },
    );

  it('an instructor opts in for the course from the instructor page', async () => {
    const home = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    digestPage = digestLinkOf(home.body);
    const page = await follow(t, digestPage);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Weekly digest of Chemistry 101</h1>');
    expect(page.body).toContain('You do not receive the digest. It would go to iris@example.edu');
    // A form without its CSRF token is refused and changes nothing.
    const forged = await submitForm(t, page.body, { csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect(await subscriptions()).toHaveLength(0);
    const answer = await submitForm(t, page.body);
    expect(answer.status).toBe(303);
    const after = await follow(t, answer.location!);
    expect(after.body).toContain('Saved.');
    expect(after.body).toContain('You receive the digest at iris@example.edu');
    expect(after.body).toContain('Stop the weekly digest');
    const [sub] = await subscriptions();
    // The first digest is due a week after opting in.
    expect(sub!.nextDueAt.getTime() - sub!.createdAt.getTime()).toBe(7 * 86_400_000);
  });

  it('a learner’s launch has no digest page', async () => {
    const learner = await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.ada.sub });
    const ltik = new URL(learner.url, t.url).searchParams.get('ltik')!;
    const page = await follow(t, `/course/instructor/digest?ltik=${encodeURIComponent(ltik)}`);
    expect(page.status).toBe(403);
  });

  let digest: CapturedMail;
  let failedId: string;

  it('the recurring job sends the week’s awards, revocations, failures and learners in progress', async () => {
    const labStar = await activeTemplate(t, moodle, 'Lab star');
    const safety = await activeTemplate(t, moodle, 'Safety first');
    await awardIssued(t, labStar, p.demo!.users.ada.sub);
    const revoked = await awardIssued(t, safety, p.demo!.users.ada.sub);
    expect(
      (await admin(t, 'POST', `/credentials/${revoked}/revoke`, { reason: 'Awarded to the wrong learner.' }))
        .status,
    ).toBe(200);
    await activeTemplate(t, moodle, 'Chemistry graduate', true);
    // Grace's 85% on Quiz 3 earns her Lab star and Safety first, and half of Chemistry graduate.
    await gradeQuiz3(t, moodle, p.demo!.users.grace.sub);
    await waitFor(
      'Grace’s two awards',
      async () =>
        (await t.laurel.ctx.models.credentials.countDocuments({ status: { $in: ['awarded', 'issued'] } })) ===
        3,
    );
    // Issuing Grace's Safety first gave up (as when the signing key cannot be read).
    const grace = await t.laurel.ctx.models.people.findOne({ email: 'grace@example.edu' }).lean();
    const failed = await t.laurel.ctx.models.credentials.findOneAndUpdate(
      { personId: grace!._id, templateId: safety },
      { $set: { status: 'failed', outbox: null, error: 'the signing key could not be read' } },
    );
    expect(failed).not.toBeNull();
    failedId = String(failed!._id);

    await weekOver();
    await t.laurel.ctx.jobs.agenda.now(JOBS.sendCourseDigests, {});
    digest = await waitFor('the digest', async () => digests()[0]);
    expect(digest.to).toEqual(['iris@example.edu']);
    expect(digest.headers.get('from')).toContain('badges@laurel.test');
    expect(digest.subject).toMatch(/^Badges in Chemistry 101: the week to \d{1,2} \w{3} \d{4}$/);
    const text = digest.text;
    expect(text).toContain('Hello Iris Instructor,');
    expect(text).toContain('Awarded: 4.');
    expect(text).toContain('- Lab star: Ada Lovelace, Grace Hopper');
    expect(text).toContain('- Safety first: Ada Lovelace, Grace Hopper');
    expect(text).toContain('Revoked: 1.');
    expect(text).toContain('- Safety first, Ada Lovelace (reason: Awarded to the wrong learner.)');
    expect(text).toContain('Could not be issued: 1.');
    expect(text).toContain('- Safety first, Grace Hopper');
    expect(text).toContain('In progress: 1 learner moved closer to a badge.');
    expect(text).toContain('- Chemistry graduate: 1 learner');
    expect(decodeEntities(digest.html)).toContain('<li>Lab star: Ada Lovelace, Grace Hopper</li>');
  });

  it('sends a week once: the next digest is due a week later, and a quiet week (nothing left to retry) sends nothing', async () => {
    await sendCourseDigests(t.laurel.ctx, createMailer(t.laurel.config));
    expect(digests()).toHaveLength(1);
    const [sub] = await subscriptions();
    expect(sub!.lastSentAt).not.toBeNull();
    expect(sub!.nextDueAt.getTime() - sub!.coveredUntil.getTime()).toBe(7 * 86_400_000);
    // A credential that could not be issued is listed every week until it is retried.
    expect((await admin(t, 'POST', `/credentials/${failedId}/retry`)).status).toBe(200);
    expect((await t.laurel.ctx.models.credentials.findById(failedId).lean())?.status).not.toBe('failed');
    // Nothing happened since: a due digest is skipped, and the week moves on.
    await weekOver();
    const run = await sendCourseDigests(t.laurel.ctx, createMailer(t.laurel.config));
    expect(run).toEqual({ sent: 0, skipped: 1, failed: 0 });
    expect(digests()).toHaveLength(1);
    expect((await subscriptions())[0]!.nextDueAt.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
  });

  it('the digest’s unsubscribe link stops it; a forged one is refused', async () => {
    const m = /http:\/\/localhost:\d+\/backpack\/unsubscribe\?d=[^\s<>"]+/.exec(digest.text);
    expect(m).not.toBeNull();
    const link = m![0];
    expect(digest.headers.get('list-unsubscribe')).toBe(`<${link}>`);
    expect(digest.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(decodeEntities(digest.html)).toContain(link);
    const forged = new URL(link);
    forged.searchParams.set('d', '0123456789abcdef01234567');
    expect((await fetch(forged, { headers: { accept: 'text/html' } })).status).toBe(404);
    // A learner notice's signature does not stop a digest.
    forged.searchParams.set('d', new URL(link).searchParams.get('d')!);
    forged.searchParams.set('s', 'x'.repeat(43));
    expect((await fetch(forged, { headers: { accept: 'text/html' } })).status).toBe(404);

    const page = await fetch(link, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Stop the weekly digest of Chemistry 101?');
    const form = parseForms(html)[0]!;
    // One-click unsubscribe (RFC 8058) posts to the same URL.
    const done = await fetch(new URL(form.action, t.url), {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('The weekly digest of Chemistry 101 is stopped');
    expect(await subscriptions()).toHaveLength(0);
    // Learners' notices to the instructor's address are not affected.
    expect(await t.laurel.ctx.models.mailOptOuts.exists({ _id: 'iris@example.edu' })).toBeNull();
    const page2 = await follow(t, digestPage);
    expect(page2.body).toContain('You do not receive the digest.');
  });
  it('stops the digest of one who no longer teaches the course', async () => {
    const home = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    const page = await follow(t, digestLinkOf(home.body));
    expect((await submitForm(t, page.body)).status).toBe(303);
    expect(await subscriptions()).toHaveLength(1);
    // A later launch or roster sync sees Iris as a learner of the course.
    const course = await t.laurel.ctx.models.courses.findOne({ title: 'Chemistry 101' }).lean();
    await t.laurel.ctx.models.people.updateOne(
      { email: 'iris@example.edu' },
      { $set: { [`roles.${String(course!._id)}`]: ['Learner'] } },
    );
    await activeTemplate(t, moodle, 'After the change');
    await gradeQuiz3(t, moodle, p.demo!.users.ada.sub);
    await weekOver();
    const sent = digests().length;
    const run = await sendCourseDigests(t.laurel.ctx, createMailer(t.laurel.config));
    expect(run).toEqual({ sent: 0, skipped: 1, failed: 0 });
    expect(digests()).toHaveLength(sent);
    expect(await subscriptions()).toHaveLength(0);
  });
});

describe('without SMTP_URL', () => {
  let t: TestLaurel;
  let p: TestPlatform;
  beforeAll(async () => {
    t = await startLaurelForLti();
    p = (await startRegisteredPlatform(t, 'moodle')).platform;
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  it('no digest job is defined or scheduled, and the page says no digest is sent', async () => {
    const home = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    const page = await follow(t, digestLinkOf(home.body));
    expect(page.body).toContain('This Laurel sends no e-mail');
    const answer = await submitForm(t, page.body);
    expect(answer.status).toBe(303);
    expect(await t.laurel.ctx.models.digestSubscriptions.countDocuments({})).toBe(1);
    expect(t.laurel.ctx.jobs.agenda.definitions[JOBS.sendCourseDigests]).toBeUndefined();
    const jobs = await t.laurel.connection.db!.collection('agendaJobs').countDocuments({
      name: { $in: [JOBS.sendCourseDigests, JOBS.notifyLearners] },
    });
    expect(jobs).toBe(0);
  });
});
