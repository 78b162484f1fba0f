/** Issue 24, part 3: GET /api/v1/clr answers a person's signed learner record (CLR 2.0). */
import { Types } from 'mongoose';
import { enrol } from '../../src/pathways/enrolments.js';
import { createPathway } from '../../src/pathways/service.js';
import { laurelResolver } from '../../src/issuers/openbadges/laurelDocuments.js';
import { verifyBadge } from '../../src/issuers/openbadges/verify.js';
import {
  ADMIN_KEY,
  admin,
  event,
  registerTestPlatform,
  sendEvents,
  settled,
  type TestPlatformRecord,
} from '../support/api.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { earnIssued, gradeTemplate, waitFor } from '../openbadges/support.js';
import { clrSchemaErrors } from './helpers.js';

describe('GET /api/v1/clr', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  const ada = { id: 'ada-57', email: 'ada@example.edu', name: 'Ada Lovelace' };
  const kept: string[] = [];
  let revoked: string;
  let templates: string[] = [];

  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t);
    templates = [
      await gradeTemplate(t, platform),
      await gradeTemplate(t, platform),
      await gradeTemplate(t, platform),
    ];
    // One quiz-3 grade earns all three badges.
    await earnIssued(t, platform, templates[0]!, ada);
    const ids: string[] = [];
    for (const template of templates) {
      const list = await admin(t, 'GET', `/credentials?templateId=${template}&userId=${ada.id}`);
      ids.push(list.body.items[0].id);
    }
    await waitFor('all three issued', async () => {
      const docs = await t.laurel.ctx.models.credentials.find({ _id: { $in: ids } }).lean();
      return docs.every((d) => d.status === 'issued');
    });
    kept.push(ids[0]!, ids[1]!);
    revoked = ids[2]!;
    expect(
      (await admin(t, 'POST', `/credentials/${revoked}/revoke`, { reason: 'Awarded in error' })).status,
    ).toBe(200);
    // Grace is known (a low grade) but has earned nothing.
    const low = event(platform.id, {
      user: { id: 'grace-58', name: 'Grace Hopper' },
      data: { activityId: 'quiz-3', score: 5, maxScore: 20 },
    });
    expect((await sendEvents(t, platform.webhookSecret, low)).status).toBe(200);
    await settled(t);
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  });

  const clr = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${t.url}/api/v1/clr${query}`, { headers });

  it('answers the signed record of the live credentials, valid against the schema and verifiable', async () => {
    const answer = await admin(t, 'GET', `/clr?platformId=${platform.id}&userId=${ada.id}`);
    expect(answer.status).toBe(200);
    const record = answer.body;
    expect(record.type).toEqual(['VerifiableCredential', 'ClrCredential']);
    expect(record.name).toBe('Learner record of Ada Lovelace');
    expect(record.partial).toBe(false);
    const stored = await t.laurel.ctx.models.credentials
      .find({ _id: { $in: kept } })
      .sort({ awardedAt: 1, _id: 1 })
      .lean();
    // The badges exactly as Laurel signed and stored them; the revoked one is left out.
    expect(record.credentialSubject.verifiableCredential).toEqual(stored.map((c) => c.signed));
    expect(record.credentialSubject.verifiableCredential.map((c: any) => c.id)).not.toContain(
      `${t.url}/credentials/${revoked}`,
    );
    const profile = await t.laurel.ctx.models.issuerProfiles.findOne({ platformId: platform.id }).lean();
    expect(record.issuer.id).toBe(`${t.laurel.ctx.config.publicUrl}/issuers/${String(profile!._id)}`);
    expect(clrSchemaErrors(record)).toEqual([]);
    const result = await verifyBadge(record, { resolvers: [laurelResolver(t.laurel.ctx)] });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.embedded?.every((e) => e.valid)).toBe(true);
  });

  it('ties the pathway Ada follows to the badges of it that the record holds (CLR associations)', async () => {
    const ctx = t.laurel.ctx;
    const platformId = new Types.ObjectId(platform.id);
    const actor = { type: 'admin' as const, id: 'test', name: 'Test admin' };
    const scope = { platformId, courseRef: null, admin: true };
    const step = (id: string, templateIds: string[], prerequisites: string[] = []) => ({
      id,
      name: `Step ${id}`,
      description: '',
      templateIds,
      atLeast: null,
      prerequisites,
      optional: false,
    });
    const followed = await createPathway(
      ctx,
      scope,
      {
        name: 'Quiz master',
        description: 'Every quiz badge.',
        badgeTemplateId: null,
        steps: [step('first', [templates[0]!, templates[1]!]), step('then', [templates[2]!], ['first'])],
      },
      actor,
    );
    // Only the revoked badge belongs to this one: the record holds nothing of it, so it stays out.
    const unrelated = await createPathway(
      ctx,
      scope,
      {
        name: 'Revoked only',
        description: '',
        badgeTemplateId: null,
        steps: [step('only', [templates[2]!])],
      },
      actor,
    );
    const person = await ctx.models.people.findOne({ platformId, ids: ada.id }).lean();
    await enrol(ctx, followed, [person!._id], 'subscribed', actor);
    await enrol(ctx, unrelated, [person!._id], 'subscribed', actor);
    try {
      const answer = await admin(t, 'GET', `/clr?platformId=${platform.id}&userId=${ada.id}`);
      expect(answer.status).toBe(200);
      const subject = answer.body.credentialSubject;
      const base = ctx.config.publicUrl;
      const pathwayUrl = `${base}/pathways/${String(followed._id)}`;
      const badgeAchievement = (i: number) =>
        subject.verifiableCredential[i].credentialSubject.achievement.id;
      const extra = subject.achievement.filter((a: any) => a.id.startsWith(`${base}/pathways/`));
      expect(extra.map((a: any) => [a.id, a.achievementType, a.name])).toEqual([
        [pathwayUrl, 'LearningProgram', 'Quiz master'],
        [`${pathwayUrl}/steps/first`, 'Achievement', 'Step first'],
        [`${pathwayUrl}/steps/then`, 'Achievement', 'Step then'],
      ]);
      const names = await ctx.models.templates.find({ _id: { $in: templates.slice(0, 2) } }).lean();
      const nameOf = (id: string) => names.find((n) => String(n._id) === id)!.name;
      expect(extra[1].criteria.narrative).toBe(`Earn ${nameOf(templates[0]!)} and ${nameOf(templates[1]!)}.`);
      expect(subject.association.map((a: any) => [a.associationType, a.sourceId, a.targetId]).sort()).toEqual(
        [
          ['isChildOf', `${pathwayUrl}/steps/first`, pathwayUrl],
          ['isChildOf', `${pathwayUrl}/steps/then`, pathwayUrl],
          ['precedes', `${pathwayUrl}/steps/first`, `${pathwayUrl}/steps/then`],
          ['isChildOf', badgeAchievement(0), `${pathwayUrl}/steps/first`],
          ['isChildOf', badgeAchievement(1), `${pathwayUrl}/steps/first`],
        ].sort(),
      );
      expect(JSON.stringify(answer.body)).not.toContain(String(unrelated._id));
      expect(clrSchemaErrors(answer.body)).toEqual([]);
      const result = await verifyBadge(answer.body, { resolvers: [laurelResolver(ctx)] });
      expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    } finally {
      await ctx.models.pathwayEnrolments.deleteMany({ personId: person!._id });
      await ctx.models.pathways.deleteMany({ _id: { $in: [followed._id, unrelated._id] } });
    }
  });

  it('leaves out a badge past its end date even before the expiry job has marked it', async () => {
    const past = new Date(Date.now() - 60_000);
    await t.laurel.ctx.models.credentials.updateOne({ _id: kept[1] }, { $set: { expiresAt: past } });
    try {
      const answer = await admin(t, 'GET', `/clr?platformId=${platform.id}&userId=${ada.id}`);
      expect(answer.status).toBe(200);
      expect(answer.body.credentialSubject.verifiableCredential.map((c: any) => c.id)).toEqual([
        `${t.laurel.ctx.config.publicUrl}/credentials/${kept[0]}`,
      ]);
      expect(answer.body.partial).toBe(false);
    } finally {
      await t.laurel.ctx.models.credentials.updateOne({ _id: kept[1] }, { $set: { expiresAt: null } });
    }
  });

  it('answers JSON-LD when asked for it', async () => {
    const res = await clr(`?platformId=${platform.id}&userId=${ada.id}`, {
      authorization: `Bearer ${ADMIN_KEY}`,
      accept: 'application/ld+json',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/ld\+json/);
    expect((await res.json()).type).toContain('ClrCredential');
  });

  it('refuses without the admin key (401)', async () => {
    const none = await clr(`?platformId=${platform.id}&userId=${ada.id}`);
    expect(none.status).toBe(401);
    const wrong = await clr(`?platformId=${platform.id}&userId=${ada.id}`, {
      authorization: 'Bearer not-the-key',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('ClrCredential');
  });

  it('answers 404 for an unknown person or platform, and for a person with nothing issued', async () => {
    const nobody = await admin(t, 'GET', `/clr?platformId=${platform.id}&userId=nobody-1`);
    expect(nobody.status).toBe(404);
    expect(nobody.body).toMatchObject({
      error: 'not_found',
      message: 'A person with id nobody-1 on this platform was not found.',
    });
    const noPlatform = await admin(t, 'GET', `/clr?platformId=0000000000000000000000aa&userId=${ada.id}`);
    expect(noPlatform.status).toBe(404);
    expect(noPlatform.body.message).toBe('Platform 0000000000000000000000aa was not found.');
    const grace = await admin(t, 'GET', `/clr?platformId=${platform.id}&userId=grace-58`);
    expect(grace.status).toBe(404);
    expect(grace.body.error).toBe('no_record');
    expect(grace.body.message).toContain('Grace Hopper has no issued Open Badges 3.0 credential');
  });

  it('answers 400 naming the bad field', async () => {
    const missing = await admin(t, 'GET', `/clr?platformId=${platform.id}`);
    expect(missing.status).toBe(400);
    expect(missing.body.details.map((d: any) => d.path)).toEqual(['userId']);
    const badId = await admin(t, 'GET', `/clr?platformId=42&userId=${ada.id}`);
    expect(badId.status).toBe(400);
    expect(badId.body.details).toEqual([
      { path: 'platformId', message: 'must be a Laurel id (24 hexadecimal characters)' },
    ]);
    const extra = await admin(t, 'GET', `/clr?platformId=${platform.id}&userId=${ada.id}&limit=5`);
    expect(extra.status).toBe(400);
    expect(extra.body.details.map((d: any) => d.path)).toEqual(['limit']);
  });
  it('a record downloaded before a badge in it was revoked no longer verifies, and says which badge', async () => {
    const before = await admin(t, 'GET', `/clr?platformId=${platform.id}&userId=${ada.id}`);
    expect(before.status).toBe(200);
    expect((await admin(t, 'POST', `/credentials/${kept[0]}/revoke`, { reason: 'Cheating' })).status).toBe(
      200,
    );
    const result = await waitFor('the revocation to reach the status list', async () => {
      const r = await verifyBadge(before.body, { resolvers: [laurelResolver(t.laurel.ctx)] });
      return r.valid ? null : r;
    });
    expect(result.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual(['credentials']);
    const name = before.body.credentialSubject.verifiableCredential[0].name;
    expect(result.checks.find((c) => c.check === 'credentials')?.message).toBe(
      `1 of the 2 credentials in the record do not verify: ${name} (status).`,
    );
    // A new record leaves the revoked badge out.
    const after = await admin(t, 'GET', `/clr?platformId=${platform.id}&userId=${ada.id}`);
    expect(after.body.credentialSubject.verifiableCredential.map((c: any) => c.id)).toEqual([
      `${t.laurel.ctx.config.publicUrl}/credentials/${kept[1]}`,
    ]);
  });
});
