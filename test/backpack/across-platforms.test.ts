/**
 * Issue 23, part 1: a learner's records on two LMSs, linked by a verified e-mail address. Both LMSs
 * give Laurel ada@example.edu for Ada; signing in by the link e-mailed to that address proves it is
 * hers, and the backpack then shows her badges of both. A launch proves only the one LMS's person.
 */
import { createMailer } from '../../src/mail/mailer.js';
import { sendLearnerNotices } from '../../src/mail/notices.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch, parseForms } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { waitFor } from '../openbadges/support.js';
import { activeTemplate, awardIssued, backpackLinkOf, Visitor } from './helpers.js';
import { startTestSmtp, type TestSmtp } from './smtp.js';

describe('one learner on two LMSs', () => {
  let smtp: TestSmtp;
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let canvas: RegisteredPlatform;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    smtp = await startTestSmtp();
    t = await startLaurelForLti({ SMTP_URL: smtp.url });
    moodle = await startRegisteredPlatform(t, 'moodle');
    canvas = await startRegisteredPlatform(t, 'canvas');
    for (const lms of [moodle, canvas])
      await launch(lms.platform, {
        courseId: lms.platform.demo!.courses.chemistry.id,
        sub: lms.platform.demo!.users.ada.sub,
      });
    ids.moodle = await awardIssued(
      t,
      await activeTemplate(t, moodle, 'Moodle titration'),
      moodle.platform.demo!.users.ada.sub,
    );
    ids.canvas = await awardIssued(
      t,
      await activeTemplate(t, canvas, 'Canvas spectroscopy'),
      canvas.platform.demo!.users.ada.sub,
    );
    // Grace's badge on Canvas must never show in Ada's backpack.
    await launch(canvas.platform, {
      courseId: canvas.platform.demo!.courses.chemistry.id,
      sub: canvas.platform.demo!.users.grace.sub,
    });
    ids.grace = await awardIssued(
      t,
      await activeTemplate(t, canvas, 'Grace only'),
      canvas.platform.demo!.users.grace.sub,
    );
  });
  afterAll(async () => {
    await moodle?.platform.close();
    await canvas?.platform.close();
    await t?.stop();
    await smtp?.close();
  });

  it('the two LMSs are two people in Laurel, with the same address', async () => {
    const people = await t.laurel.ctx.models.people.find({ email: 'ada@example.edu' }).lean();
    expect(people.map((p) => String(p.platformId)).sort()).toEqual([moodle.id, canvas.id].sort());
  });

  it('signing in by the e-mailed link shows the badges of both LMSs', async () => {
    const visitor = new Visitor(t);
    await visitor.post('/backpack/sign-in', { email: 'ada@example.edu' });
    const mail = await waitFor('the sign-in mail', async () =>
      smtp.mails.find((m) => m.to.includes('ada@example.edu') && m.subject.includes('sign-in link')),
    );
    const link = /http:\/\/localhost:\d+\/backpack\/sign-in\/[A-Za-z0-9_-]{43}/.exec(mail.text)![0];
    const confirm = await visitor.get(new URL(link).pathname);
    expect((await visitor.post(parseForms(confirm.body)[0]!.action, {})).status).toBe(303);

    const record = await visitor.get('/backpack');
    const earned = record.body.slice(
      record.body.indexOf('Badges earned'),
      record.body.indexOf('Badges earned elsewhere'),
    );
    expect(earned).toContain(`href="/backpack/badges/${ids.moodle}"`);
    expect(earned).toContain(`href="/backpack/badges/${ids.canvas}"`);
    expect(earned).not.toContain('Grace only');
    const badges = await visitor.get('/backpack/badges');
    expect(badges.body).toContain('Moodle titration');
    expect(badges.body).toContain('Canvas spectroscopy');
    expect(badges.body).not.toContain('Grace only');
    // Each badge's own page opens, whichever LMS awarded it; Grace's does not.
    expect((await visitor.get(`/backpack/badges/${ids.canvas}`)).status).toBe(200);
    expect((await visitor.get(`/backpack/badges/${ids.moodle}`)).status).toBe(200);
    expect((await visitor.get(`/backpack/badges/${ids.grace}`)).status).toBe(404);
    const session = await t.laurel.ctx.models.backpackSessions.findOne({ via: 'email' }).lean();
    expect(session!.people).toHaveLength(2);
  });

  it('a launch from one LMS opens only that LMS’s records (its address is not proved)', async () => {
    const visitor = new Visitor(t);
    await visitor.get(await backpackLinkOf(moodle.platform, moodle.platform.demo!.users.ada.sub));
    const badges = await visitor.get('/backpack/badges');
    expect(badges.body).toContain('Moodle titration');
    expect(badges.body).not.toContain('Canvas spectroscopy');
    expect((await visitor.get(`/backpack/badges/${ids.canvas}`)).status).toBe(404);
  });

  it('the award notices of both LMSs go to the one address', async () => {
    await waitFor('both award mails', async () => {
      await sendLearnerNotices(t.laurel.ctx, createMailer(t.laurel.config));
      const subjects = smtp.mails.filter((m) => m.to.includes('ada@example.edu')).map((m) => m.subject);
      return (
        subjects.includes('You earned the badge “Moodle titration”') &&
        subjects.includes('You earned the badge “Canvas spectroscopy”')
      );
    });
  });
});
