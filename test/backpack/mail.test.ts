/**
 * Issue 23: the learner's e-mail (award, first-award explanation, revocation, unsubscribe) through
 * an in-process SMTP server, and sign-in outside the LMS by a one-time e-mailed link.
 */
import { createMailer } from '../../src/mail/mailer.js';
import { sendLearnerNotices } from '../../src/mail/notices.js';
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { waitFor } from '../openbadges/support.js';
import { activeTemplate, awardIssued, Visitor } from './helpers.js';
import { startTestSmtp, type CapturedMail, type TestSmtp } from './smtp.js';

describe('the learner’s e-mail and sign-in by e-mailed link', () => {
  let smtp: TestSmtp;
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  const templates: string[] = [];
  const credentials: string[] = [];

  beforeAll(async () => {
    smtp = await startTestSmtp();
    t = await startLaurelForLti({ SMTP_URL: smtp.url, MAIL_FROM: 'badges@laurel.test' });
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    for (const user of [p.demo!.users.ada, p.demo!.users.grace])
      await launch(p, { courseId: p.demo!.courses.chemistry.id, sub: user.sub });
    for (const name of ['Lab star', 'Safety first', 'Titration ace'])
      templates.push(await activeTemplate(t, moodle, name));
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
    await smtp?.close();
  });

  const notices = () => sendLearnerNotices(t.laurel.ctx, createMailer(t.laurel.config));
  const mailsTo = (address: string) => smtp.mails.filter((m) => m.to.includes(address));
  const signInMailsTo = (address: string) =>
    mailsTo(address).filter((m) => m.subject === 'Your sign-in link for the Laurel backpack');
  const nthMailTo = (address: string, n: number) =>
    waitFor(`mail ${n} to ${address}`, async () => {
      await notices();
      return mailsTo(address)[n - 1];
    });
  const linkIn = (mail: CapturedMail, prefix: string) => {
    const m = new RegExp(`${prefix.replace(/[.?]/g, '\\$&')}[^\\s<>"]*`).exec(mail.text);
    if (!m) throw new Error(`no link starting ${prefix} in: ${mail.text}`);
    return m[0];
  };

  it('tells the learner of their first award and explains the backpack, with a working unsubscribe link', async () => {
    credentials.push(await awardIssued(t, templates[0]!, p.demo!.users.ada.sub));
    const mail = await nthMailTo('ada@example.edu', 1);
    expect(mail.subject).toBe('You earned the badge “Lab star”');
    expect(mail.headers.get('from')).toContain('badges@laurel.test');
    expect(mail.text).toContain(`${t.laurel.config.publicUrl}/backpack/badges/${credentials[0]}`);
    expect(mail.text).toContain('Your badges are kept in your Laurel backpack');
    expect(mail.html).toContain('Congratulations');
    const unsubscribe = linkIn(mail, `${t.laurel.config.publicUrl}/backpack/unsubscribe?`);
    expect(mail.headers.get('list-unsubscribe')).toBe(`<${unsubscribe}>`);
    expect(mail.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(decodeEntities(mail.html)).toContain(unsubscribe);
  });

  it('sends each notice once, and later awards without the explanation', async () => {
    await notices();
    expect(mailsTo('ada@example.edu')).toHaveLength(1);
    credentials.push(await awardIssued(t, templates[1]!, p.demo!.users.ada.sub));
    const mail = await nthMailTo('ada@example.edu', 2);
    expect(mail.subject).toBe('You earned the badge “Safety first”');
    expect(mail.text).not.toContain('Your badges are kept in your Laurel backpack');
    await notices();
    expect(mailsTo('ada@example.edu')).toHaveLength(2);
  });

  it('tells the learner of a revocation, with its reason', async () => {
    const revoked = await admin(t, 'POST', `/credentials/${credentials[1]}/revoke`, {
      reason: 'Awarded to the wrong learner.',
    });
    expect(revoked.status).toBe(200);
    const mail = await nthMailTo('ada@example.edu', 3);
    expect(mail.subject).toBe('Your badge “Safety first” was revoked');
    expect(mail.text).toContain('The reason given: Awarded to the wrong learner.');
    expect(mail.text).toContain(`${t.laurel.config.publicUrl}/backpack/unsubscribe?`);
  });

  it('the unsubscribe link stops the notices; a forged one is refused', async () => {
    const link = linkIn(mailsTo('ada@example.edu')[0]!, `${t.laurel.config.publicUrl}/backpack/unsubscribe?`);
    const forged = new URL(link);
    forged.searchParams.set('e', 'grace@example.edu');
    expect((await fetch(forged, { headers: { accept: 'text/html' } })).status).toBe(404);
    const page = await fetch(link, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const form = parseForms(await page.text())[0]!;
    const done = await fetch(new URL(form.action, t.url), {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('ada@example.edu gets no more e-mails about badges');
    expect(await t.laurel.ctx.models.mailOptOuts.exists({ _id: 'ada@example.edu' })).toBeTruthy();
    const third = await awardIssued(t, templates[2]!, p.demo!.users.ada.sub);
    await waitFor('the notice to be settled', async () => {
      await notices();
      return (
        (await t.laurel.ctx.models.learnerNotices.findById(`award:${third}`).lean())?.state === 'skipped'
      );
    });
    expect(mailsTo('ada@example.edu')).toHaveLength(3);
  });

  it('refuses a malformed address with a clear message', async () => {
    const answer = await new Visitor(t).post('/backpack/sign-in', { email: 'not an address' });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('Give your e-mail address');
    expect(answer.body).toContain('aria-invalid="true"');
  });

  it('sends a notice again whose sender crashed before marking it sent', async () => {
    const answer = await admin(t, 'POST', '/credentials', {
      templateId: templates[0],
      userId: p.demo!.users.grace.sub,
      reason: 'test award',
    });
    expect(answer.status).toBe(201);
    const id = answer.body.id as string;
    const credential = await t.laurel.ctx.models.credentials.findById(id).lean();
    // A worker claimed the notice and died while sending: its lease ran out a minute ago.
    await t.laurel.ctx.models.learnerNotices.create({
      _id: `award:${id}`,
      kind: 'award',
      credentialId: credential!._id,
      platformId: credential!.platformId,
      personId: credential!.personId,
      state: 'sending',
      leaseUntil: new Date(Date.now() - 60_000),
      createdAt: new Date(),
    });
    const mail = await waitFor('the award mail to Grace', async () => {
      await notices();
      return mailsTo('grace@example.edu').find((m) => m.subject === 'You earned the badge “Lab star”');
    });
    expect(mail.text).toContain(`/backpack/badges/${id}`);
    await notices();
    expect(mailsTo('grace@example.edu').filter((m) => m.subject.startsWith('You earned'))).toHaveLength(1);
    expect(await t.laurel.ctx.models.learnerNotices.findById(`award:${id}`).lean()).toMatchObject({
      state: 'sent',
    });
  });

  let signInLink: string;

  it('e-mails a one-time sign-in link, with the same answer for an unknown address', async () => {
    const visitor = new Visitor(t);
    const form = await visitor.get('/backpack/sign-in');
    expect(form.body).toContain('E-mail me a sign-in link');
    const unknown = await visitor.post('/backpack/sign-in', { email: 'nobody@example.edu' });
    const known = await visitor.post('/backpack/sign-in', { email: ' ADA@example.edu ' });
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(known.body).toBe(unknown.body);
    expect(known.body).toContain('Check your e-mail');
    const mail = await waitFor('the sign-in mail', async () =>
      mailsTo('ada@example.edu').find((m) => m.subject === 'Your sign-in link for the Laurel backpack'),
    );
    signInLink = linkIn(mail, `${t.laurel.config.publicUrl}/backpack/sign-in/`);
    expect(mail.text).toContain('within 15 minutes');
    expect(mailsTo('nobody@example.edu')).toHaveLength(0);
    // Only the link's hash is stored.
    const token = signInLink.split('/').pop()!;
    expect(await t.laurel.ctx.models.signInLinks.countDocuments({ _id: token })).toBe(0);
    expect(await t.laurel.ctx.models.signInLinks.countDocuments({ email: 'ada@example.edu' })).toBe(1);
  });

  it('the link signs in once, to the backpack and nothing of any course', async () => {
    const visitor = new Visitor(t);
    // Opening the link (as a mail scanner would) does not use it.
    const confirm = await visitor.get(signInLink);
    expect(confirm.status).toBe(200);
    const action = parseForms(confirm.body)[0]!.action;
    const signedIn = await visitor.post(action, {});
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/backpack');
    const record = await visitor.get('/backpack');
    expect(record.status).toBe(200);
    expect(record.body).toContain('Signed in as ada@example.edu');
    expect(record.body).toContain('Lab star');
    // The award mail's link opens the badge's page in the backpack.
    const badgeLink = linkIn(mailsTo('ada@example.edu')[0]!, `${t.laurel.config.publicUrl}/backpack/badges/`);
    const badge = await visitor.get(new URL(badgeLink).pathname);
    expect(badge.status).toBe(200);
    expect(badge.body).toContain('<h1>Lab star</h1>');
    const course = await visitor.get('/course/learner');
    expect(course.status).toBe(401);
    const again = await new Visitor(t).post(action, {});
    expect(again.status).toBe(410);
    expect(again.body).toContain('This link no longer works');
  });

  it('refuses an expired link, and sends an address at most three links per 15 minutes', async () => {
    const visitor = new Visitor(t);
    for (let i = 0; i < 4; i++)
      expect((await visitor.post('/backpack/sign-in', { email: 'grace@example.edu' })).status).toBe(200);
    await waitFor(
      'three sign-in mails to Grace',
      async () => signInMailsTo('grace@example.edu').length === 3,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(signInMailsTo('grace@example.edu')).toHaveLength(3);
    const link = linkIn(
      signInMailsTo('grace@example.edu')[0]!,
      `${t.laurel.config.publicUrl}/backpack/sign-in/`,
    );
    await t.laurel.ctx.models.signInLinks.updateMany(
      { email: 'grace@example.edu' },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    const answer = await visitor.post(new URL(link).pathname, {});
    expect(answer.status).toBe(410);
    expect(answer.headers.get('set-cookie')).toBeNull();
  });

  it('answers 429 once a client network asked too often', async () => {
    const visitor = new Visitor(t);
    let status = 0;
    for (let i = 0; i < 12 && status !== 429; i++)
      status = (await visitor.post('/backpack/sign-in', { email: 'someone@example.edu' })).status;
    expect(status).toBe(429);
    expect(mailsTo('someone@example.edu')).toHaveLength(0);
  });
});
