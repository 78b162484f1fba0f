import { Types } from 'mongoose';
import { decodeList } from '@digitalbazaar/vc-bitstring-status-list';
import { identityHash } from '../../src/issuers/openbadges/build.js';
import { IssuingBusyError, findStalledAwards, issueCredential } from '../../src/issuers/openbadges/issue.js';
import { rotateIssuerKey, updateIssuerProfile } from '../../src/issuers/openbadges/issuerProfiles.js';
import { laurelResolver } from '../../src/issuers/openbadges/laurelDocuments.js';
import { verifyBadge, verifyDataIntegrityCredential } from '../../src/issuers/openbadges/verify.js';
import type { TestLaurel } from '../support/laurel.js';
import { admin, registerTestPlatform, type TestPlatformRecord } from '../support/api.js';
import { independentlyVerify, obSchemas } from './helpers.js';
import { earnIssued, gradeTemplate, loopbackFetcher, startPublicLaurel, waitFor } from './support.js';

const failed = (r: { checks: { check: string; ok: boolean }[] }) =>
  r.checks.filter((c) => !c.ok).map((c) => c.check);

describe('issuing OB 3.0 credentials through the issue-credential job', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  let templateId: string;
  let credentialId: string;
  const signedOf = async (id: string): Promise<any> =>
    (await t.laurel.ctx.models.credentials.findById(id).lean())?.signed;
  const ownVerify = (credential: any) =>
    verifyDataIntegrityCredential(credential, { resolvers: [laurelResolver(t.laurel.ctx)] });

  beforeAll(async () => {
    t = await startPublicLaurel();
    platform = await registerTestPlatform(t);
    templateId = await gradeTemplate(t, platform, { expiresAfterDays: 365 });
    credentialId = await earnIssued(t, platform, templateId, {
      id: '57',
      email: 'ada@example.edu',
      name: 'Ada Lovelace',
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('signs an AchievementCredential that validates against 1EdTech’s JSON schema', async () => {
    const doc = await t.laurel.ctx.models.credentials.findById(credentialId).lean();
    expect(doc).toMatchObject({ status: 'issued', issuedAt: expect.any(Date) });
    const signed: any = doc!.signed;
    const schemas = obSchemas();
    expect(schemas.credential(signed) ? [] : schemas.credential.errors).toEqual([]);
    expect(signed.id).toBe(`${t.url}/credentials/${credentialId}`);
    expect(signed.issuer.id).toBe(`${t.url}/issuers/${String(doc!.issuerProfileId)}`);
    expect(signed.validFrom).toBe(doc!.awardedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    expect(Date.parse(signed.validUntil)).toBe(Math.floor(doc!.expiresAt!.getTime() / 1000) * 1000);
    expect(signed.credentialSubject.identifier[0]).toMatchObject({
      identityType: 'emailAddress',
      identityHash: identityHash('ada@example.edu', doc!.recipientSalt!),
    });
    expect(signed.credentialSubject.achievement).toMatchObject({
      id: `${t.url}/achievements/${templateId}`,
      criteria: { narrative: '80% or more on Quiz 3.' },
      tag: ['chemistry'],
      alignment: [expect.objectContaining({ targetName: 'Stoichiometry' })],
    });
    // Evidence comes from the grade event that fulfilled the requirement.
    expect(signed.evidence).toEqual([
      expect.objectContaining({
        narrative: expect.stringMatching(/^Scored 17 out of 20 \(85%\) on activity “quiz-3”/),
      }),
    ]);
    expect(signed.credentialStatus).toMatchObject({
      type: 'BitstringStatusListEntry',
      statusPurpose: 'revocation',
      statusListIndex: String(doc!.statusListIndex),
      statusListCredential: `${t.url}/status-lists/${String(doc!.statusListId)}`,
    });
    expect(signed.proof[0]).toMatchObject({
      cryptosuite: 'eddsa-rdfc-2022',
      proofPurpose: 'assertionMethod',
    });
    const audit = await t.laurel.ctx.models.audit
      .findOne({ action: 'credential.issued', 'target.id': credentialId })
      .lean();
    expect(audit).not.toBeNull();
  });

  it('verifies from the database, over HTTP from the published documents alone, and in an independent verifier', async () => {
    const signed = await signedOf(credentialId);
    const own = await ownVerify(signed);
    expect(failed(own)).toEqual([]);
    // A verifier elsewhere knows nothing but the URLs inside the credential.
    const remote = await verifyBadge(signed, { fetcher: loopbackFetcher(t) });
    expect(failed(remote)).toEqual([]);
    const key = await (
      await fetch(signed.proof[0].verificationMethod, { headers: { accept: 'application/json' } })
    ).json();
    expect(key).toMatchObject({
      type: 'Multikey',
      controller: signed.issuer.id,
      id: signed.proof[0].verificationMethod,
    });
    expect(await independentlyVerify(signed, key.publicKeyMultibase)).toBe(true);
  });

  it('publishes the issuer profile, achievement and status list at the URLs inside the credential', async () => {
    const signed = await signedOf(credentialId);
    const get = async (url: string, accept = 'application/ld+json') => {
      const res = await fetch(url, { headers: { accept } });
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        body: accept.includes('json') ? await res.json() : await res.text(),
      };
    };
    const profile = await get(signed.issuer.id);
    expect(profile.type).toMatch(/^application\/ld\+json/);
    const schemas = obSchemas();
    expect(schemas.profile(profile.body) ? [] : schemas.profile.errors).toEqual([]);
    expect(profile.body.assertionMethod.map((k: any) => k.id)).toContain(signed.proof[0].verificationMethod);
    const page = await get(signed.issuer.id, 'text/html');
    expect(page.body).toContain('Signing keys');
    const achievement = await get(signed.credentialSubject.achievement.id);
    const { '@context': _c, ...body } = achievement.body;
    expect(body).toEqual(signed.credentialSubject.achievement);
    const list = await get(signed.credentialStatus.statusListCredential);
    expect(list.body.type).toEqual(['VerifiableCredential', 'BitstringStatusListCredential']);
    expect(list.body.issuer).toBe(signed.issuer.id);
    expect(
      failed(await verifyBadge(list.body, { fetcher: loopbackFetcher(t) })).filter((c) => c !== 'schema'),
    ).toEqual([]);
  });

  it('is idempotent: a second run neither signs again nor takes another status entry', async () => {
    const before = await t.laurel.ctx.models.credentials.findById(credentialId).lean();
    const list = await t.laurel.ctx.models.statusLists.findById(before!.statusListId).lean();
    expect(await issueCredential(t.laurel.ctx, credentialId)).toBe('already-issued');
    const after = await t.laurel.ctx.models.credentials.findById(credentialId).lean();
    expect(after!.signed).toEqual(before!.signed);
    expect((await t.laurel.ctx.models.statusLists.findById(list!._id).lean())!.nextSlot).toBe(list!.nextSlot);
  });

  it('lets only one of two concurrent runs sign, with one status entry', async () => {
    const ctx = t.laurel.ctx;
    const template = await ctx.models.templates.findById(templateId).lean();
    const person = await ctx.models.people.create({
      platformId: template!.platformId,
      ids: ['concurrent'],
      name: 'Grace Hopper',
      email: 'grace@example.edu',
      createKey: `${String(template!.platformId)}:concurrent`,
    });
    // Recorded directly, without a queued job, so that only the two runs below race.
    const awarded = await ctx.models.credentials.create({
      platformId: template!.platformId,
      templateId: template!._id,
      personId: person._id,
      userId: 'concurrent',
      status: 'awarded',
      liveSlot: 'live',
      awardedAt: new Date(),
      awardedBy: { type: 'system', id: null },
      evidence: [],
    });
    const slotsBefore = (
      await ctx.models.statusLists.find({ platformId: template!.platformId }).lean()
    ).reduce((n, l) => n + l.nextSlot, 0);
    const outcomes = await Promise.allSettled([
      issueCredential(ctx, String(awarded._id)),
      issueCredential(ctx, String(awarded._id)),
    ]);
    const values = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error)));
    expect(values.filter((v) => v === 'issued')).toHaveLength(1);
    const other = values.find((v) => v !== 'issued');
    expect(other === 'already-issued' || other instanceof IssuingBusyError).toBe(true);
    const slotsAfter = (
      await ctx.models.statusLists.find({ platformId: template!.platformId }).lean()
    ).reduce((n, l) => n + l.nextSlot, 0);
    expect(slotsAfter - slotsBefore).toBe(1);
    expect(failed(await ownVerify(await signedOf(String(awarded._id))))).toEqual([]);
  });

  it('releases its claim when signing fails, so that the retry can sign at once', async () => {
    const ctx = t.laurel.ctx;
    const template = await ctx.models.templates.findById(templateId).lean();
    const person = await ctx.models.people.create({
      platformId: template!.platformId,
      ids: ['retry'],
      createKey: `${String(template!.platformId)}:retry`,
    });
    const awarded = await ctx.models.credentials.create({
      platformId: template!.platformId,
      templateId: template!._id,
      personId: person._id,
      userId: 'retry',
      status: 'awarded',
      liveSlot: 'live',
      awardedAt: new Date(),
      awardedBy: { type: 'system', id: null },
      evidence: [],
    });
    // As after a wrong ENCRYPTION_KEY: the sealed signing key cannot be opened.
    const broken = {
      ...ctx,
      sealer: {
        ...ctx.sealer,
        open: () => {
          throw new Error('unsupported state or unable to authenticate data');
        },
      },
    };
    const error = await issueCredential(broken, String(awarded._id)).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /The signing key .*\/keys\/z6Mk\w+ cannot be opened with this ENCRYPTION_KEY/,
    );
    const after = await ctx.models.credentials.findById(awarded._id).lean();
    expect(after).toMatchObject({ status: 'awarded', issuingUntil: null, signed: null });
    expect(await issueCredential(ctx, String(awarded._id))).toBe('issued');
  });

  it('finds awards whose issue job was lost, for the recurring sweep to queue again', async () => {
    const ctx = t.laurel.ctx;
    const template = await ctx.models.templates.findById(templateId).lean();
    const person = await ctx.models.people.create({
      platformId: template!.platformId,
      ids: ['lost'],
      createKey: `${String(template!.platformId)}:lost`,
    });
    const lost = await ctx.models.credentials.create({
      platformId: template!.platformId,
      templateId: template!._id,
      personId: person._id,
      userId: 'lost',
      status: 'awarded',
      liveSlot: 'live',
      awardedAt: new Date(Date.now() - 60 * 60_000),
      awardedBy: { type: 'system', id: null },
      evidence: [],
    });
    expect(await findStalledAwards(ctx, 10 * 60_000)).toEqual([String(lost._id)]);
    expect(await issueCredential(ctx, String(lost._id))).toBe('issued');
    expect(await findStalledAwards(ctx, 10 * 60_000)).toEqual([]);
  });

  it.each([
    ['the expiry date', (c: any) => (c.validUntil = '2099-01-01T00:00:00Z')],
    [
      'the learner',
      (c: any) => (c.credentialSubject.identifier[0].identityHash = `sha256$${'0'.repeat(64)}`),
    ],
    ['the evidence', (c: any) => (c.evidence[0].narrative = 'Scored 20 out of 20.')],
    ['the issuer name', (c: any) => (c.issuer.name = 'Another University')],
  ])('fails verification, naming the signature, when %s is changed', async (_what, change) => {
    const tampered = structuredClone(await signedOf(credentialId));
    change(tampered);
    const result = await ownVerify(tampered);
    expect(result.valid).toBe(false);
    expect(failed(result)).toEqual(['signature']);
  });

  it('revokes: sets the bit, re-signs the status list, and verification reports revoked', async () => {
    const id = await earnIssued(t, platform, templateId, {
      id: '58',
      email: 'alan@example.edu',
      name: 'Alan Turing',
    });
    const signed = await signedOf(id);
    expect(failed(await ownVerify(signed))).toEqual([]);
    const doc = await t.laurel.ctx.models.credentials.findById(id).lean();
    const listBefore = await t.laurel.ctx.models.statusLists.findById(doc!.statusListId).lean();

    const revoked = await admin(t, 'POST', `/credentials/${id}/revoke`, {
      reason: 'Copied the quiz answers',
    });
    expect(revoked.status).toBe(200);
    const list = await waitFor('the status list to be re-signed', async () => {
      const l = await t.laurel.ctx.models.statusLists.findById(doc!.statusListId).lean();
      return l && l.signedRevision > listBefore!.signedRevision && l.signedRevision === l.revision ? l : null;
    });
    const bits = await decodeList({ encodedList: (list.signed as any).credentialSubject.encodedList });
    expect(bits.getStatus(doc!.statusListIndex!)).toBe(true);
    expect(bits.getStatus(((doc!.statusListIndex ?? 0) + 1) % bits.length)).toBe(false);
    expect((list.signed as any).proof[0].proofValue).not.toBe(
      (listBefore!.signed as any).proof[0].proofValue,
    );

    const result = await ownVerify(signed);
    expect(failed(result)).toEqual(['status']);
    expect(result.checks.find((c) => c.check === 'status')?.message).toMatch(/^Revoked by its issuer/);
    // The same answer for a verifier that only has the published documents.
    expect(failed(await verifyBadge(signed, { fetcher: loopbackFetcher(t) }))).toEqual(['status']);
    // The first credential on the same list is untouched.
    expect(failed(await ownVerify(await signedOf(credentialId)))).toEqual([]);
  });

  it('rotates the issuer key: new credentials use the new key, old ones still verify', async () => {
    const platformId = new Types.ObjectId(platform.id);
    const before = await t.laurel.ctx.models.issuerProfiles.findOne({ platformId }).lean();
    const rotated = await rotateIssuerKey(t.laurel.ctx, platformId);
    expect(rotated.keys).toHaveLength(before!.keys.length + 1);
    expect(rotated.keys.filter((k) => k.retiredAt === null)).toHaveLength(1);
    // Private keys are sealed at rest, never stored in the clear.
    expect(JSON.stringify(rotated.keys)).not.toMatch(/secretKeyMultibase|"z[1-9A-HJ-NP-Za-km-z]{80,}"/);

    const id = await earnIssued(t, platform, templateId, {
      id: '59',
      email: 'ida@example.edu',
      name: 'Ida Rhodes',
    });
    const fresh = await signedOf(id);
    const old = await signedOf(credentialId);
    expect(fresh.proof[0].verificationMethod).not.toBe(old.proof[0].verificationMethod);
    expect(fresh.proof[0].verificationMethod).toContain(rotated.keys.at(-1)!.publicKeyMultibase);
    expect(failed(await ownVerify(fresh))).toEqual([]);
    expect(failed(await ownVerify(old))).toEqual([]);
    expect(failed(await verifyBadge(old, { fetcher: loopbackFetcher(t) }))).toEqual([]);
  });

  it('publishes profile changes; new credentials carry them and old ones still verify', async () => {
    const platformId = new Types.ObjectId(platform.id);
    const updated = await updateIssuerProfile(t.laurel.ctx, platformId, {
      name: 'Example University',
      url: 'https://www.example.edu',
      email: 'badges@example.edu',
      description: 'Chemistry department',
    });
    const published = await (await fetch(`${t.url}/issuers/${String(updated._id)}`)).json();
    expect(published).toMatchObject({
      type: ['Profile'],
      name: 'Example University',
      url: 'https://www.example.edu',
      email: 'badges@example.edu',
      description: 'Chemistry department',
    });
    // The URL becomes a link on public pages: only http(s) is taken.
    await expect(
      updateIssuerProfile(t.laurel.ctx, platformId, { url: 'javascript:alert(1)' }),
    ).rejects.toMatchObject({
      status: 400,
      details: [{ path: 'url', message: 'must be an absolute http(s) URL' }],
    });
    const id = await earnIssued(t, platform, templateId, { id: '61', email: 'rosalind@example.edu' });
    expect((await signedOf(id)).issuer).toMatchObject({
      name: 'Example University',
      email: 'badges@example.edu',
    });
    expect(failed(await ownVerify(await signedOf(id)))).toEqual([]);
    expect(failed(await ownVerify(await signedOf(credentialId)))).toEqual([]);
  });
});
