/**
 * Issue 22, items 1 and 4 through the HTTP event API: levels (tiers) superseding each other exactly
 * once, and the regrade policies (none, fallback, revoke after a grace period, re-award).
 */
import { Types } from 'mongoose';
import { awardMany } from '../../src/awards/award.js';
import { revokeAfterRegrades } from '../../src/awards/regradeRevocations.js';
import { SYSTEM } from '../../src/audit/record.js';
import { createMailer } from '../../src/mail/mailer.js';
import { sendLearnerNotices } from '../../src/mail/notices.js';
import type { TemplateDoc } from '../../src/db/models/template.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import {
  admin,
  event,
  registerTestPlatform,
  sendEvents,
  settled,
  type TestPlatformRecord,
} from '../support/api.js';
import { startTestSmtp, type TestSmtp } from '../backpack/smtp.js';
import { waitFor } from '../openbadges/support.js';

const LEVELS = {
  activityId: 'final-exam',
  steps: [
    { name: 'Bronze', min: 60 },
    { name: 'Silver', min: 75 },
    { name: 'Gold', min: 90 },
  ],
};

describe('levels and regrades over HTTP', () => {
  let t: TestLaurel;
  let smtp: TestSmtp;
  let platform: TestPlatformRecord;
  let users = 0;
  beforeAll(async () => {
    smtp = await startTestSmtp();
    t = await startTestLaurel({ SMTP_URL: smtp.url, MAIL_FROM: 'badges@laurel.test' });
    platform = await registerTestPlatform(t);
  });
  afterAll(async () => {
    await t?.stop();
    await smtp?.close();
  });

  const newUser = () => {
    users++;
    return { id: `lv-${users}`, email: `learner${users}@example.edu`, name: `Learner ${users}` };
  };
  const minute = (m: number) => new Date(Date.UTC(2026, 10, 2, 10, m)).toISOString();
  const finalExam = (user: object, percent: number, m: number) =>
    event(platform.id, { user, occurredAt: minute(m), data: { activityId: 'final-exam', percent } });
  const quiz3 = (user: object, percent: number, m: number) =>
    event(platform.id, { user, occurredAt: minute(m), data: { activityId: 'quiz-3', percent } });
  const post = async (body: unknown) => {
    const answer = await sendEvents(t, platform.webhookSecret, body);
    expect(answer.status).toBe(200);
    await settled(t);
  };
  const credentialsOf = async (templateId: string, userId: string) =>
    (await admin(t, 'GET', `/credentials?templateId=${templateId}&userId=${userId}`)).body.items as any[];
  const progressOf = async (templateId: string, userId: string) =>
    (await admin(t, 'GET', `/progress?templateId=${templateId}&userId=${userId}`)).body.items[0];

  async function activeTemplate(body: Record<string, unknown>): Promise<string> {
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId: '101',
      name: 'Final exam',
      ...body,
    });
    expect(created.status).toBe(201);
    expect((await admin(t, 'POST', `/templates/${created.body.id}/activate`)).status).toBe(200);
    return created.body.id;
  }

  describe('levels', () => {
    let tiered: string;
    beforeAll(async () => {
      tiered = await activeTemplate({ levels: LEVELS });
    });

    it('answers the template with its levels, their ids given from the names', async () => {
      const got = await admin(t, 'GET', `/templates/${tiered}`);
      expect(got.body.levels).toEqual({
        activityId: 'final-exam',
        steps: [
          { id: 'bronze', name: 'Bronze', min: 60, imageId: null },
          { id: 'silver', name: 'Silver', min: 75, imageId: null },
          { id: 'gold', name: 'Gold', min: 90, imageId: null },
        ],
      });
      expect(got.body.regrade).toEqual({ policy: 'none', graceDays: 0 });
    });

    it('refuses levels out of order, naming the field', async () => {
      const refused = await admin(t, 'POST', '/templates', {
        platformId: platform.id,
        name: 'Bad ladder',
        levels: {
          activityId: 'final-exam',
          steps: [
            { name: 'Gold', min: 90 },
            { name: 'Bronze', min: 60 },
          ],
        },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.details).toEqual([
        {
          path: 'levels.steps.1.min',
          message: 'min must be higher than the level below (Gold: 90); list levels lowest first',
        },
      ]);
    });

    it('bronze then gold in one delivery: the learner holds gold, and nothing else is live', async () => {
      const user = newUser();
      await post({ events: [finalExam(user, 65, 1), finalExam(user, 95, 2)] });
      const items = await credentialsOf(tiered, user.id);
      const live = items.filter((c) => ['awarded', 'issued', 'failed'].includes(c.status));
      expect(live.map((c) => c.level)).toEqual(['gold']);
      // A bronze recorded on the way (if the batch was split) is superseded, never revoked.
      for (const other of items.filter((c) => c.level !== 'gold')) {
        expect(other.status).toBe('superseded');
        expect(other.revokedAt).toBeNull();
      }
    });

    it('silver then gold: silver is superseded (not revoked), gold issued as its own achievement', async () => {
      const user = newUser();
      await post(finalExam(user, 80, 1));
      const [silver] = await credentialsOf(tiered, user.id);
      expect(silver).toMatchObject({ level: 'silver', status: expect.stringMatching(/awarded|issued/) });
      await waitFor(
        'silver to be issued',
        async () => (await credentialsOf(tiered, user.id))[0].status === 'issued',
      );
      const issuedSilver = await t.laurel.ctx.models.credentials.findById(silver.id).lean();

      await post(finalExam(user, 93, 2));
      const items = await credentialsOf(tiered, user.id);
      expect(items.map((c) => [c.level, c.status])).toEqual([
        ['silver', 'superseded'],
        ['gold', expect.stringMatching(/awarded|issued/)],
      ]);
      const after = await t.laurel.ctx.models.credentials.findById(silver.id).lean();
      // Its status-list entry is kept as it was: superseded is not revoked.
      expect(after!.statusListId).toEqual(issuedSilver!.statusListId);
      expect(after!.statusListIndex).toBe(issuedSilver!.statusListIndex);
      expect(after!.revokedAt).toBeNull();
      expect(
        await t.laurel.ctx.models.audit.countDocuments({
          action: 'credential.revoked',
          'target.id': silver.id,
        }),
      ).toBe(0);
      expect(
        await t.laurel.ctx.models.audit.countDocuments({
          action: 'credential.superseded',
          'target.id': silver.id,
        }),
      ).toBe(1);

      await waitFor(
        'gold to be issued',
        async () => (await credentialsOf(tiered, user.id))[1].status === 'issued',
      );
      const gold = await t.laurel.ctx.models.credentials.findById(items[1].id).lean();
      const achievement = (gold!.signed as any).credentialSubject.achievement;
      expect(achievement.id).toBe(`${t.laurel.config.publicUrl}/achievements/${tiered}/levels/gold`);
      expect(achievement.name).toBe('Final exam — Gold');
      const document = await fetch(achievement.id.replace(t.laurel.config.publicUrl, t.url), {
        headers: { accept: 'application/ld+json' },
      });
      expect(document.status).toBe(200);
      expect((await document.json()).name).toBe('Final exam — Gold');

      // The public page of the silver one says what happened to it.
      const page = await (
        await fetch(`${t.url}/credentials/${silver.id}`, { headers: { accept: 'text/html' } })
      ).text();
      expect(page).toContain('Superseded');
      expect(page).not.toContain('Revoked');
    });

    it('a lower grade later leaves the higher level held (policy none)', async () => {
      const user = newUser();
      await post(finalExam(user, 91, 1));
      await post(finalExam(user, 62, 2));
      const items = await credentialsOf(tiered, user.id);
      expect(items.map((c) => c.level)).toEqual(['gold']);
    });

    it('two grades arriving together in separate requests: one gold, the lower superseded exactly once', async () => {
      const user = newUser();
      await post(finalExam(user, 70, 1));
      const [bronze] = await credentialsOf(tiered, user.id);
      await Promise.all([
        sendEvents(t, platform.webhookSecret, finalExam(user, 80, 2)),
        sendEvents(t, platform.webhookSecret, finalExam(user, 96, 3)),
        sendEvents(t, platform.webhookSecret, finalExam(user, 95, 4)),
      ]);
      await settled(t);
      const items = await credentialsOf(tiered, user.id);
      const live = items.filter((c) => !['superseded', 'revoked', 'expired'].includes(c.status));
      expect(live.map((c) => c.level)).toEqual(['gold']);
      expect(items.filter((c) => c.level === 'gold')).toHaveLength(1);
      expect(items.find((c) => c.id === bronze.id).status).toBe('superseded');
      expect(
        await t.laurel.ctx.models.audit.countDocuments({
          action: 'credential.superseded',
          'target.id': bronze.id,
        }),
      ).toBe(1);
    });

    it('counts grades stored before activation: the recount awards the highest level reached, once', async () => {
      const user = newUser();
      await post({ events: [finalExam(user, 77, 1), finalExam(user, 92, 2), finalExam(user, 50, 3)] });
      const id = await activeTemplate({ name: 'Late ladder', levels: LEVELS });
      await waitFor(
        'the recount to finish',
        async () => {
          const got = await admin(t, 'GET', `/templates/${id}`);
          const doc = await t.laurel.ctx.models.templates.findById(id).lean();
          return got.status === 200 && doc?.recalculation?.state === 'done';
        },
        20_000,
      );
      const items = await credentialsOf(id, user.id);
      expect(items.map((c) => [c.level, c.status === 'superseded'])).toEqual([['gold', false]]);
      // Changing the levels recounts again: a lower bar for gold changes nothing for a gold holder.
      const patched = await admin(t, 'PATCH', `/templates/${id}`, {
        levels: { ...LEVELS, steps: [...LEVELS.steps.slice(0, 2), { name: 'Gold', min: 85 }] },
      });
      expect(patched.status).toBe(200);
      await waitFor(
        'the second recount',
        async () => {
          const doc = await t.laurel.ctx.models.templates.findById(id).lean();
          return doc?.recalculation?.state === 'done' && doc.version === patched.body.version;
        },
        20_000,
      );
      expect((await credentialsOf(id, user.id)).map((c) => c.level)).toEqual(['gold']);
    });

    it('concurrent workers awarding the same upgrade supersede once and record one gold', async () => {
      const user = newUser();
      await post(finalExam(user, 61, 1));
      const [bronze] = await credentialsOf(tiered, user.id);
      const ctx = t.laurel.ctx;
      const template = (await ctx.models.templates.findById(tiered).lean<TemplateDoc>())!;
      const person = await ctx.models.people.findOne({ ids: user.id }).lean();
      const request = (level: string) => ({
        template,
        personId: person!._id as Types.ObjectId,
        userId: user.id,
        courseRef: template.courseRef,
        courseId: '101',
        evidence: [],
        actor: SYSTEM,
        level,
      });
      const outcomes = await Promise.all([
        awardMany(ctx, [request('gold')]),
        awardMany(ctx, [request('gold')]),
        awardMany(ctx, [request('silver')]),
        awardMany(ctx, [request('gold')]),
      ]);
      const awardedGold = outcomes.flat().filter((o) => o.awarded && o.credential.level === 'gold');
      expect(awardedGold).toHaveLength(1);
      const items = await credentialsOf(tiered, user.id);
      expect(items.filter((c) => c.level === 'gold' && c.status !== 'superseded')).toHaveLength(1);
      expect(
        items.filter((c) => !['superseded', 'revoked', 'expired'].includes(c.status)).map((c) => c.level),
      ).toEqual(['gold']);
      expect(items.find((c) => c.id === bronze.id).status).toBe('superseded');
      expect(
        await ctx.models.audit.countDocuments({ action: 'credential.superseded', 'target.id': bronze.id }),
      ).toBe(1);
    });
  });

  describe('regrades', () => {
    const quizGroups = [
      {
        requirements: [
          {
            id: 'q3',
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
              { path: 'data.percent', op: 'gte', value: 80 },
            ],
          },
        ],
      },
    ];
    const later = (days: number) => ({
      ...t.laurel.ctx,
      now: () => new Date(Date.now() + days * 86_400_000),
    });

    it('refuses a grace period on a policy that revokes nothing, naming the field', async () => {
      const refused = await admin(t, 'POST', '/templates', {
        platformId: platform.id,
        name: 'Bad policy',
        groups: quizGroups,
        regrade: { policy: 'fallback', graceDays: 2 },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.details).toEqual([
        { path: 'regrade.graceDays', message: 'graceDays applies only to the policy "revoke"' },
      ]);
    });

    it('policy none (the default): a lower grade changes nothing', async () => {
      const id = await activeTemplate({ groups: quizGroups });
      const user = newUser();
      await post(quiz3(user, 85, 1));
      await post(quiz3(user, 40, 2));
      expect((await progressOf(id, user.id)).ratio).toBe(1);
      expect((await credentialsOf(id, user.id)).map((c) => c.status)).toEqual([
        expect.stringMatching(/awarded|issued/),
      ]);
    });

    it('policy fallback: progress falls back, the credential stays', async () => {
      const id = await activeTemplate({ groups: quizGroups, regrade: { policy: 'fallback' } });
      const user = newUser();
      await post(quiz3(user, 85, 1));
      await post(quiz3(user, 40, 2));
      expect(await progressOf(id, user.id)).toMatchObject({ ratio: 0, fulfilled: [], completedAt: null });
      const items = await credentialsOf(id, user.id);
      expect(items).toHaveLength(1);
      expect(items[0].status).toMatch(/awarded|issued/);
      expect(items[0].revokeAfter).toBeUndefined();
    });

    it('policy revoke: a grade back within the grace period revokes nothing', async () => {
      const id = await activeTemplate({ groups: quizGroups, regrade: { policy: 'revoke', graceDays: 3 } });
      const user = newUser();
      await post(quiz3(user, 85, 1));
      await post(quiz3(user, 40, 2));
      const [pending] = await credentialsOf(id, user.id);
      const due = new Date(pending.revokeAfter).getTime();
      expect(due - Date.now()).toBeGreaterThan(2.9 * 86_400_000);
      expect(due - Date.now()).toBeLessThanOrEqual(3 * 86_400_000);
      // Before the grace period ends nothing happens.
      expect(await revokeAfterRegrades(later(2))).toBe(0);
      await post(quiz3(user, 82, 3));
      const [back] = await credentialsOf(id, user.id);
      expect(back.revokeAfter).toBeUndefined();
      expect(await revokeAfterRegrades(later(4))).toBe(0);
      expect((await credentialsOf(id, user.id)).map((c) => c.status)).toEqual([
        expect.stringMatching(/awarded|issued/),
      ]);
    });

    it('policy revoke: revoked after the grace period with the reason, the learner told; the grade back issues it again', async () => {
      const id = await activeTemplate({ groups: quizGroups, regrade: { policy: 'revoke', graceDays: 1 } });
      const user = newUser();
      await post(quiz3(user, 85, 1));
      await waitFor(
        'the badge to be issued',
        async () => (await credentialsOf(id, user.id))[0]?.status === 'issued',
      );
      await post(quiz3(user, 55, 2));
      const [first] = await credentialsOf(id, user.id);
      expect(first.revokeAfter).toBeTruthy();

      expect(await revokeAfterRegrades(later(1.01))).toBe(1);
      // A second run (another worker) revokes nothing more.
      expect(await revokeAfterRegrades(later(1.02))).toBe(0);
      const [revoked] = await credentialsOf(id, user.id);
      expect(revoked.status).toBe('revoked');
      expect(revoked.revokedReason).toBe(
        'A grade this badge counted was changed and no longer meets its requirements, and it did not come back within the grace period.',
      );
      expect(
        await t.laurel.ctx.models.audit.countDocuments({
          action: 'credential.revoked',
          'target.id': first.id,
        }),
      ).toBe(1);

      const mailer = createMailer(t.laurel.config);
      const mail = await waitFor('the revocation mail', async () => {
        await sendLearnerNotices(t.laurel.ctx, mailer);
        return smtp.mails.find((m) => m.to.includes(user.email) && m.subject.includes('was revoked'));
      });
      expect(mail.text).toContain('no longer meets its requirements');

      // allowReEarn is false, yet a badge revoked by a regrade is issued again when the grade comes back.
      await post(quiz3(user, 90, 3));
      const items = await credentialsOf(id, user.id);
      expect(items.map((c) => c.status)).toEqual(['revoked', expect.stringMatching(/awarded|issued/)]);
      expect(items[1].id).not.toBe(items[0].id);
      // And the same grade delivered again awards nothing more.
      await post(quiz3(user, 90, 3));
      expect(await credentialsOf(id, user.id)).toHaveLength(2);
    });

    it('policy revoke with levels: falling below the lowest level revokes the level held', async () => {
      const id = await activeTemplate({ levels: LEVELS, regrade: { policy: 'revoke', graceDays: 0.5 } });
      const user = newUser();
      await post(finalExam(user, 78, 1));
      await post(finalExam(user, 40, 2));
      const [silver] = await credentialsOf(id, user.id);
      expect(silver.level).toBe('silver');
      expect(silver.revokeAfter).toBeTruthy();
      expect(await revokeAfterRegrades(later(0.6))).toBe(1);
      expect((await credentialsOf(id, user.id)).map((c) => c.status)).toEqual(['revoked']);
    });
  });
});
