import { createHash } from 'node:crypto';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {
  buildAchievementCredential,
  identityHash,
  issuerProfileDocument,
  recipientIdentifier,
  type CredentialInput,
} from '../../src/issuers/openbadges/build.js';
import { createDocumentLoader, staticResolver } from '../../src/issuers/openbadges/documentLoader.js';
import { gradeEvidence } from '../../src/issuers/openbadges/evidence.js';
import { multikeyDocument } from '../../src/issuers/openbadges/keys.js';
import { signCredential } from '../../src/issuers/openbadges/sign.js';
import { STATUS_LIST_LENGTH, slotToIndex } from '../../src/issuers/openbadges/statusLists.js';
import { verifyBadge } from '../../src/issuers/openbadges/verify.js';
import { independentlyVerify, obSchemas } from './helpers.js';

const BASE = 'https://laurel.example.edu';
const ISSUER = `${BASE}/issuers/64b000000000000000000001`;

/** A fresh input each time: tests change copies, never a shared fixture. */
const input = (over: Partial<CredentialInput> = {}): CredentialInput => ({
  id: `${BASE}/credentials/64b000000000000000000002`,
  issuer: {
    id: ISSUER,
    name: 'Example University',
    url: 'https://www.example.edu',
    email: 'badges@example.edu',
  },
  achievement: {
    id: `${BASE}/achievements/64b000000000000000000003`,
    name: 'Quiz champion',
    description: 'Top marks on quiz 3.',
    criteria: '80% or more on Quiz 3.',
    imageUrl: `${BASE}/images/64b000000000000000000004`,
    tags: ['chemistry'],
    alignments: [
      {
        targetName: 'Stoichiometry',
        targetUrl: 'https://standards.example.org/chem/1',
        targetCode: 'CHEM.1',
      },
      { targetName: 'No URL, so left out' },
    ],
  },
  recipient: {
    email: ' Ada@Example.edu ',
    fallback: { identityType: 'ltiUserId', value: 'sub-57' },
    salt: 'pepper',
  },
  awardedAt: new Date('2026-11-02T10:00:00.123Z'),
  validUntil: new Date('2027-11-02T10:00:00Z'),
  evidence: [
    { name: 'Grade on Quiz 3', narrative: 'Scored 17 out of 20 (85%).', genre: 'Assessment result' },
  ],
  status: { listUrl: `${BASE}/status-lists/64b000000000000000000005`, index: 4242 },
  ...over,
});

async function signer() {
  const pair = await Ed25519Multikey.generate({ controller: ISSUER });
  const keyId = `${ISSUER}/keys/${pair.publicKeyMultibase}`;
  const key = await Ed25519Multikey.from({
    '@context': 'https://w3id.org/security/multikey/v1',
    type: 'Multikey',
    id: keyId,
    controller: ISSUER,
    publicKeyMultibase: pair.publicKeyMultibase,
    secretKeyMultibase: pair.secretKeyMultibase!,
  });
  const profile = issuerProfileDocument(input().issuer, [
    { id: keyId, publicKeyMultibase: pair.publicKeyMultibase },
  ]);
  const documents = {
    [ISSUER]: profile,
    [keyId]: multikeyDocument(keyId, ISSUER, pair.publicKeyMultibase),
  };
  return { key, keyId, profile, documents, publicKeyMultibase: pair.publicKeyMultibase };
}

describe('buildAchievementCredential (pure)', () => {
  it('builds an OB 3.0 AchievementCredential with every part in place', () => {
    const c: any = buildAchievementCredential(input());
    expect(c['@context']).toEqual([
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json',
    ]);
    expect(c.type).toEqual(['VerifiableCredential', 'AchievementCredential']);
    expect(c.id).toBe(`${BASE}/credentials/64b000000000000000000002`);
    expect(c.issuer).toEqual({
      id: ISSUER,
      type: ['Profile'],
      name: 'Example University',
      url: 'https://www.example.edu',
      email: 'badges@example.edu',
    });
    expect(c.validFrom).toBe('2026-11-02T10:00:00Z');
    expect(c.validUntil).toBe('2027-11-02T10:00:00Z');
    expect(c.name).toBe('Quiz champion');
    const a = c.credentialSubject.achievement;
    expect(a).toMatchObject({
      id: `${BASE}/achievements/64b000000000000000000003`,
      type: ['Achievement'],
      name: 'Quiz champion',
      description: 'Top marks on quiz 3.',
      criteria: { narrative: '80% or more on Quiz 3.' },
      image: { id: `${BASE}/images/64b000000000000000000004`, type: 'Image' },
      tag: ['chemistry'],
    });
    expect(a.alignment).toEqual([
      {
        type: ['Alignment'],
        targetName: 'Stoichiometry',
        targetUrl: 'https://standards.example.org/chem/1',
        targetCode: 'CHEM.1',
      },
    ]);
    expect(c.evidence).toEqual([
      {
        type: ['Evidence'],
        name: 'Grade on Quiz 3',
        narrative: 'Scored 17 out of 20 (85%).',
        genre: 'Assessment result',
      },
    ]);
    expect(c.credentialStatus).toEqual({
      id: `${BASE}/status-lists/64b000000000000000000005#4242`,
      type: 'BitstringStatusListEntry',
      statusPurpose: 'revocation',
      statusListIndex: '4242',
      statusListCredential: `${BASE}/status-lists/64b000000000000000000005`,
    });
    expect(c.credentialSchema[0].type).toBe('1EdTechJsonSchemaValidator2019');
    // The learner is never named in the clear.
    expect(JSON.stringify(c)).not.toMatch(/ada@example\.edu/i);
  });

  it('identifies the learner by a salted sha256 of the normalised e-mail', () => {
    const c: any = buildAchievementCredential(input());
    const expected = createHash('sha256')
      .update('ada@example.edu' + 'pepper')
      .digest('hex');
    expect(c.credentialSubject.identifier).toEqual([
      {
        type: 'IdentityObject',
        identityType: 'emailAddress',
        hashed: true,
        identityHash: `sha256$${expected}`,
        salt: 'pepper',
      },
    ]);
    expect(identityHash('ada@example.edu', 'pepper')).toBe(`sha256$${expected}`);
    expect(c.credentialSubject.id).toBeUndefined();
  });

  it('falls back to the LMS id, hashed the same way, when no e-mail is known', () => {
    const id = recipientIdentifier({
      email: null,
      fallback: { identityType: 'ltiUserId', value: 'sub-57' },
      salt: 's',
    });
    expect(id).toEqual({
      type: 'IdentityObject',
      identityType: 'ltiUserId',
      hashed: true,
      identityHash: identityHash('sub-57', 's'),
      salt: 's',
    });
  });

  it('leaves out what is not there: no expiry, no evidence, an empty description', () => {
    const c: any = buildAchievementCredential(
      input({
        validUntil: null,
        evidence: [],
        achievement: { ...input().achievement, description: '', criteria: '', tags: [], alignments: [] },
      }),
    );
    expect(c.validUntil).toBeUndefined();
    expect(c.evidence).toBeUndefined();
    expect(c.credentialSubject.achievement.description).toBe('Quiz champion');
    expect(c.credentialSubject.achievement.criteria.narrative).toBe('Earn the Quiz champion badge.');
    expect(c.credentialSubject.achievement.tag).toBeUndefined();
  });
});

describe('status list slots (pure)', () => {
  it('map slots onto bits one to one, out of issue order', () => {
    const list = { multiplier: 2 * 4321 + 1, offset: 777, length: 1024 };
    const bits = Array.from({ length: 1024 }, (_, slot) => slotToIndex(list, slot));
    expect(new Set(bits).size).toBe(1024);
    expect(Math.min(...bits)).toBe(0);
    expect(Math.max(...bits)).toBe(1023);
    expect(bits.slice(0, 3)).not.toEqual([777, 778, 779]);
    // The real lists hold the Bitstring Status List minimum of 16 KiB.
    expect(STATUS_LIST_LENGTH).toBe(131_072);
    expect(
      slotToIndex({ multiplier: 131_071, offset: 131_071, length: STATUS_LIST_LENGTH }, 131_071),
    ).toBeLessThan(STATUS_LIST_LENGTH);
  });
});

describe('gradeEvidence (pure)', () => {
  it('describes graded events and leaves out the others', () => {
    const at = new Date('2026-11-02T10:00:00Z');
    expect(
      gradeEvidence([
        {
          type: 'activity.grade.updated',
          occurredAt: at,
          course: { id: '101' },
          data: { activityId: 'quiz-3', activityTitle: 'Quiz 3', score: 17, maxScore: 20, percent: 85 },
        },
        {
          type: 'course.grade.updated',
          occurredAt: at,
          course: { id: '101', title: 'Chemistry' },
          data: { percent: 91 },
        },
        { type: 'course.completed', occurredAt: at, course: { id: '101' }, data: {} },
        { type: 'activity.grade.updated', occurredAt: at, course: null, data: { activityId: 'x' } },
      ]),
    ).toEqual([
      {
        name: 'Grade on Quiz 3',
        narrative: 'Scored 17 out of 20 (85%) on Quiz 3 in course 101, 2 November 2026.',
        genre: 'Assessment result',
      },
      {
        name: 'Grade on Chemistry',
        narrative: 'Scored 91% on Chemistry, 2 November 2026.',
        genre: 'Assessment result',
      },
    ]);
  });
});

describe('a signed credential', () => {
  const schemas = obSchemas();

  it('validates against 1EdTech’s AchievementCredential schema, and the issuer profile against the Profile schema', async () => {
    const s = await signer();
    const signed: any = await signCredential({
      credential: buildAchievementCredential(input()),
      key: s.key,
      documentLoader: createDocumentLoader(),
    });
    expect(signed.proof).toEqual([
      expect.objectContaining({
        type: 'DataIntegrityProof',
        cryptosuite: 'eddsa-rdfc-2022',
        proofPurpose: 'assertionMethod',
        verificationMethod: s.keyId,
        proofValue: expect.stringMatching(/^z/),
      }),
    ]);
    expect(schemas.credential(signed) ? [] : schemas.credential.errors).toEqual([]);
    expect(schemas.profile(s.profile) ? [] : schemas.profile.errors).toEqual([]);
    // The schema is not a formality: a credential without its issuer fails it.
    const { issuer: _issuer, ...noIssuer } = signed;
    expect(schemas.credential(noIssuer)).toBe(false);
  });

  it('verifies in Laurel’s verifier and in an independent one; one changed field fails both, naming the signature', async () => {
    const s = await signer();
    const signed: any = await signCredential({
      credential: buildAchievementCredential(input({ status: null })),
      key: s.key,
      documentLoader: createDocumentLoader(),
    });
    const options = { resolvers: [staticResolver(s.documents)], now: new Date('2026-12-01T00:00:00Z') };
    const ok = await verifyBadge(signed, options);
    expect(ok.checks.filter((c) => !c.ok)).toEqual([]);
    expect(ok.valid).toBe(true);
    expect(ok.issuer).toEqual({ id: ISSUER, name: 'Example University', url: 'https://www.example.edu' });
    expect(ok.achievement?.name).toBe('Quiz champion');
    expect(await independentlyVerify(signed, s.publicKeyMultibase)).toBe(true);

    const tampered = structuredClone(signed);
    tampered.credentialSubject.achievement.name = 'Quiz grand champion';
    const bad = await verifyBadge(tampered, options);
    expect(bad.valid).toBe(false);
    expect(bad.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual(['signature']);
    expect(await independentlyVerify(tampered, s.publicKeyMultibase)).toBe(false);
  });

  it('fails the issuer check when another key signs in the issuer’s name', async () => {
    const s = await signer();
    const other = await signer();
    // The intruder's key claims the issuer as controller, but the issuer's profile does not list it.
    const signed: any = await signCredential({
      credential: buildAchievementCredential(input({ status: null })),
      key: other.key,
      documentLoader: createDocumentLoader(),
    });
    const result = await verifyBadge(signed, {
      resolvers: [staticResolver({ ...other.documents, [ISSUER]: s.profile })],
      now: new Date('2026-12-01T00:00:00Z'),
    });
    expect(result.checks.find((c) => c.check === 'signature')?.ok).toBe(true);
    const issuer = result.checks.find((c) => c.check === 'issuer');
    expect(issuer).toMatchObject({ ok: false });
    expect(issuer?.message).toContain('does not list the key');
  });
});
