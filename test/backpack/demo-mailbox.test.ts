/**
 * Issue 23, part 5: with SMTP_URL unset the demo shows the mails Laurel would send. Laurel is given a
 * recording mailer (the demo's) and the demo LMS's mailbox page lists what it recorded, with links
 * that work: the award's badge page and a sign-in link.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { JOBS } from '../../src/jobs/names.js';
import { digestsNow, mailboxRouter, RecordingMailer } from '../support/demo-mailbox.js';
import { subscribeToDigest } from '../../src/mail/digest.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { waitFor } from '../openbadges/support.js';
import { activeTemplate, awardIssued, Visitor } from './helpers.js';

describe('the demo’s mailbox', () => {
  const mailbox = new RecordingMailer();
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let server: http.Server;
  let pageUrl: string;

  beforeAll(async () => {
    t = await startLaurelForLti({}, { mailer: mailbox });
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.ada.sub });
    const app = express().use(
      mailboxRouter(mailbox, {
        lmsUrl: () => 'http://lms.example/',
        sendDigestsNow: () => digestsNow(t.laurel.ctx, mailbox),
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/laurel-mail`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await p?.close();
    await t?.stop();
  });

  const mailboxPage = async () => (await fetch(pageUrl)).text();

  it('says so while no mail was recorded', async () => {
    const html = await mailboxPage();
    expect(html).toContain('<h1>Mails Laurel would send</h1>');
    expect(html).toContain('No mail yet.');
  });

  it('lists the award notice Laurel would send, with its badge link', async () => {
    expect(t.laurel.config.smtpUrl).toBeFalsy();
    const id = await awardIssued(t, await activeTemplate(t, moodle, 'Lab star'), p.demo!.users.ada.sub);
    await t.laurel.ctx.jobs.agenda.now(JOBS.notifyLearners, {});
    await waitFor('the recorded award mail', async () => mailbox.mails.length > 0);
    const html = await mailboxPage();
    expect(html).toContain('<h2 id="mail-0">You earned the badge “Lab star”</h2>');
    expect(html).toContain('To ada@example.edu');
    const badgeUrl = `${t.laurel.config.publicUrl}/backpack/badges/${id}`;
    expect(html).toContain(`<a href="${badgeUrl}">${badgeUrl}</a>`);
    // The HTML version is shown in a sandboxed frame (no script, no form of its own).
    expect(html).toMatch(/<iframe sandbox="" srcdoc="[^"]*Congratulations/);
  });

  it('lists a sign-in link that signs in once', async () => {
    const visitor = new Visitor(t);
    expect((await visitor.post('/backpack/sign-in', { email: 'ada@example.edu' })).status).toBe(200);
    await waitFor('the recorded sign-in mail', async () =>
      mailbox.mails.some((m) => m.subject === 'Your sign-in link for the Laurel backpack'),
    );
    const html = await mailboxPage();
    const link = /<a href="(http:\/\/localhost:\d+\/backpack\/sign-in\/[^"]+)"/.exec(html);
    expect(link).not.toBeNull();
    const confirm = await visitor.get(decodeEntities(link![1]!));
    expect(confirm.status).toBe(200);
    const signedIn = await visitor.post(parseForms(confirm.body)[0]!.action, {});
    expect(signedIn.status).toBe(303);
    const record = await visitor.get('/backpack');
    expect(record.body).toContain('Signed in as ada@example.edu');
    expect(record.body).toContain('Lab star');
  });

  it('sends the instructors’ digests on demand, as if the week were over', async () => {
    const iris = await launch(p, {
      courseId: p.demo!.courses.chemistry.id,
      sub: p.demo!.users.instructor.sub,
    });
    expect(iris.status).toBe(200);
    const person = await t.laurel.ctx.models.people.findOne({ email: 'iris@example.edu' }).lean();
    const course = await t.laurel.ctx.models.courses.findOne({ title: 'Chemistry 101' }).lean();
    await subscribeToDigest(t.laurel.ctx, {
      platformId: person!.platformId,
      courseRef: course!._id,
      personId: person!._id,
    });
    // Something happens in the course after the instructor opted in.
    await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: p.demo!.users.grace.sub });
    await awardIssued(t, await activeTemplate(t, moodle, 'Safety first'), p.demo!.users.grace.sub);
    const form = parseForms(await mailboxPage()).find((f) => f.action.endsWith('/laurel-mail/digests'));
    expect(form).toBeDefined();
    const answer = await fetch(new URL(form!.action, pageUrl), { method: 'POST', redirect: 'manual' });
    expect(answer.status).toBe(303);
    const digest = mailbox.mails.find((m) => m.to === 'iris@example.edu');
    expect(digest?.subject).toMatch(/^Badges in Chemistry 101: the week to /);
    expect(digest?.text).toContain('- Safety first: Grace Hopper');
    expect(await mailboxPage()).toContain('Badges in Chemistry 101');
  });
});
