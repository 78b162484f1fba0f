/** Issue 24, part 3: the CLR 2.0 ClrCredential built from signed badges, signed, schema-valid, verified. */
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {
  buildAchievementCredential,
  issuerProfileDocument,
  type CredentialInput,
} from '../../src/issuers/openbadges/build.js';
import { createDocumentLoader, staticResolver } from '../../src/issuers/openbadges/documentLoader.js';
import { multikeyDocument } from '../../src/issuers/openbadges/keys.js';
import { signCredential } from '../../src/issuers/openbadges/sign.js';
import { verifyBadge } from '../../src/issuers/openbadges/verify.js';
import { InvalidInputError } from '../../src/errors.js';
import { buildClrCredential, type ClrInput } from '../../src/records/buildClr.js';
import { independentlyVerify, oneEdTechDocuments, readJson } from '../openbadges/helpers.js';
import { clrSchemaErrors } from './helpers.js';

const BASE = 'https://laurel.example.edu';
const ISSUER = `${BASE}/issuers/64b000000000000000000001`;
const issuer = { id: ISSUER, name: 'Example University', url: 'https://www.example.edu' };
const STEP = `${BASE}/pathways/64b0000000000000000000aa/steps/lab-skills`;

const badge = (n: number, name: string): CredentialInput => ({
  id: `${BASE}/credentials/64b00000000000000000010${n}`,
  issuer,
  achievement: {
    id: `${BASE}/achievements/64b00000000000000000020${n}`,
    name,
    description: `${name}: a test badge.`,
    criteria: 'Do the thing.',
    imageUrl: `${BASE}/images/default/64b00000000000000000020${n}.svg`,
    tags: [],
    alignments: [],
  },
  recipient: {
    email: 'ada@example.edu',
    fallback: { identityType: 'ltiUserId', value: 'sub-1' },
    salt: `s${n}`,
  },
  awardedAt: new Date(`2026-11-0${n}T10:00:00Z`),
  validUntil: null,
  evidence: [],
  status: null,
});

let key: Awaited<ReturnType<typeof Ed25519Multikey.from>>;
let publicKeyMultibase: string;
let documents: Record<string, unknown>;
let signedBadges: Record<string, unknown>[];

beforeAll(async () => {
  const pair = await Ed25519Multikey.generate({ controller: ISSUER });
  publicKeyMultibase = pair.publicKeyMultibase;
  const keyId = `${ISSUER}/keys/${publicKeyMultibase}`;
  key = await Ed25519Multikey.from({
    '@context': 'https://w3id.org/security/multikey/v1',
    type: 'Multikey',
    id: keyId,
    controller: ISSUER,
    publicKeyMultibase,
    secretKeyMultibase: pair.secretKeyMultibase!,
  });
  documents = {
    [ISSUER]: issuerProfileDocument(issuer, [{ id: keyId, publicKeyMultibase }]),
    [keyId]: multikeyDocument(keyId, ISSUER, publicKeyMultibase),
  };
  const loader = createDocumentLoader([staticResolver(documents)]);
  signedBadges = [];
  for (const [n, name] of [
    [1, 'Titration'],
    [2, 'Lab safety'],
  ] as const)
    signedBadges.push(
      await signCredential({
        credential: buildAchievementCredential(badge(n, name)),
        key,
        documentLoader: loader,
      }),
    );
});

const input = (over: Partial<ClrInput> = {}): ClrInput => ({
  id: 'urn:uuid:3f1c2e7a-0000-4000-8000-000000000001',
  issuer,
  learner: {
    name: 'Ada Lovelace',
    recipient: {
      email: 'ada@example.edu',
      fallback: { identityType: 'ltiUserId', value: 'sub-1' },
      salt: 'clr-salt',
    },
  },
  issuedAt: new Date('2026-12-01T09:30:00.500Z'),
  credentials: signedBadges,
  achievements: [
    {
      id: STEP,
      name: 'Lab skills',
      description: 'Step 1 of the chemistry pathway.',
      criteria: 'Both lab badges.',
    },
  ],
  associations: [
    {
      associationType: 'isChildOf',
      sourceId: `${BASE}/achievements/64b000000000000000000201`,
      targetId: STEP,
    },
    {
      associationType: 'isChildOf',
      sourceId: `${BASE}/achievements/64b000000000000000000202`,
      targetId: STEP,
    },
  ],
  partial: false,
  ...over,
});

const sign = (record: Record<string, unknown>) =>
  signCredential({
    credential: record,
    key,
    documentLoader: createDocumentLoader([staticResolver(documents)]),
  });
const offline = () => ({ resolvers: [staticResolver(documents)], now: new Date('2026-12-02T00:00:00Z') });
const failed = (r: { checks: { check: string; ok: boolean }[] }) =>
  r.checks.filter((c) => !c.ok).map((c) => c.check);

describe('building a learner record (CLR 2.0)', () => {
  it('holds the signed badges unchanged, lists their achievements and the step, and the associations', () => {
    const record = buildClrCredential(input()) as any;
    expect(record['@context']).toEqual([
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json',
    ]);
    expect(record.type).toEqual(['VerifiableCredential', 'ClrCredential']);
    expect(record.name).toBe('Learner record of Ada Lovelace');
    expect(record.validFrom).toBe('2026-12-01T09:30:00Z');
    expect(record.partial).toBe(false);
    expect(record.issuer).toEqual({
      id: ISSUER,
      type: ['Profile'],
      name: 'Example University',
      url: 'https://www.example.edu',
    });
    const subject = record.credentialSubject;
    expect(subject.type).toEqual(['ClrSubject']);
    expect(subject.verifiableCredential).toEqual(signedBadges);
    expect(subject.achievement.map((a: any) => a.id)).toEqual([
      `${BASE}/achievements/64b000000000000000000201`,
      `${BASE}/achievements/64b000000000000000000202`,
      STEP,
    ]);
    expect(subject.association).toEqual([
      {
        type: 'Association',
        associationType: 'isChildOf',
        sourceId: `${BASE}/achievements/64b000000000000000000201`,
        targetId: STEP,
      },
      {
        type: 'Association',
        associationType: 'isChildOf',
        sourceId: `${BASE}/achievements/64b000000000000000000202`,
        targetId: STEP,
      },
    ]);
    // sha256 of "ada@example.edu" + "clr-salt", worked out apart from the code under test:
    // printf 'ada@example.educlr-salt' | sha256sum
    expect(subject.identifier[0]).toMatchObject({
      type: 'IdentityObject',
      identityType: 'emailAddress',
      hashed: true,
      salt: 'clr-salt',
    });
    expect(subject.identifier[0].identityHash).toBe(
      'sha256$8a5b02cbac2cb4f3f4d856b4f34c39da94cd55038d5591f0e30e37b4f44e8b24',
    );
  });

  it('refuses an association naming an achievement the record lacks, and a record without credentials', () => {
    const bad = input({
      associations: [{ associationType: 'isChildOf', sourceId: `${BASE}/achievements/nope`, targetId: STEP }],
    });
    expect(() => buildClrCredential(bad)).toThrow(InvalidInputError);
    expect(() => buildClrCredential(bad)).toThrow(
      /sourceId .*achievements\/nope is no achievement of this record/,
    );
    expect(() => buildClrCredential(input({ credentials: [] }))).toThrow(/at least one credential/);
  });

  it('signed, validates against the CLR schema (and each badge against OB 3.0’s) and verifies', async () => {
    const signed = await sign(buildClrCredential(input()));
    expect(clrSchemaErrors(signed)).toEqual([]);
    expect((signed.proof as any[])[0]).toMatchObject({
      type: 'DataIntegrityProof',
      cryptosuite: 'eddsa-rdfc-2022',
      proofPurpose: 'assertionMethod',
    });
    const result = await verifyBadge(signed, offline());
    expect(failed(result)).toEqual([]);
    expect(result).toMatchObject({ valid: true, format: 'clr-data-integrity' });
    expect(result.embedded?.map((e) => [e.valid, e.achievement?.name])).toEqual([
      [true, 'Titration'],
      [true, 'Lab safety'],
    ]);
    // A second verifier sharing no code with the signer agrees.
    expect(await independentlyVerify(signed, publicKeyMultibase)).toBe(true);
  });

  it('is held to 1EdTech’s schema: a record without validFrom, or with an unknown association type, fails it', async () => {
    const noDate = (await sign(buildClrCredential(input()))) as any;
    delete noDate.validFrom;
    expect(clrSchemaErrors(noDate)).toContain("record must have required property 'validFrom'");
    const oddLink = structuredClone(noDate);
    oddLink.validFrom = '2026-01-01T00:00:00Z';
    oddLink.credentialSubject.association[0].associationType = 'isCousinOf';
    expect(
      clrSchemaErrors(oddLink).some((e) =>
        e.startsWith('record/credentialSubject/association/0/associationType'),
      ),
    ).toBe(true);
  });

  it('fails when the record, or a badge inside it, is changed after signing', async () => {
    const signed = await sign(buildClrCredential(input()));
    const renamed = structuredClone(signed) as any;
    renamed.name = 'Learner record of Someone Else';
    const r1 = await verifyBadge(renamed, offline());
    expect(r1.valid).toBe(false);
    expect(failed(r1)).toEqual(['signature']);

    const inner = structuredClone(signed) as any;
    inner.credentialSubject.verifiableCredential[1].credentialSubject.achievement.name = 'Nobel prize';
    const r2 = await verifyBadge(inner, offline());
    expect(r2.valid).toBe(false);
    expect(failed(r2)).toEqual(['signature', 'credentials']);
    expect(r2.checks.find((c) => c.check === 'credentials')?.message).toBe(
      '1 of the 2 credentials in the record do not verify: Nobel prize (signature).',
    );

    const dropped = structuredClone(signed) as any;
    dropped.credentialSubject.association.pop();
    expect(failed(await verifyBadge(dropped, offline()))).toEqual(['signature']);
  });

  it('fails the shape check for an association to an achievement the record does not list', async () => {
    const record = buildClrCredential(input()) as any;
    record.credentialSubject.association[0].targetId = 'urn:example:elsewhere';
    const result = await verifyBadge(await sign(record), offline());
    expect(failed(result)).toEqual(['schema']);
    expect(result.checks[0]!.message).toContain(
      'association 0 names an achievement the record does not list',
    );
  });
});

describe('1EdTech’s CLR 2.0 test vector', () => {
  const vector = () => readJson('1edtech', 'spec-testvector-clr-signed.json');
  const withKeys = { resolvers: [staticResolver(oneEdTechDocuments())] };

  it('1EdTech validator’s CLR 2.0 example verifies too', async () => {
    const result = await verifyBadge(readJson('1edtech', 'validator-clr20-simple.json'), withKeys);
    expect(failed(result)).toEqual([]);
    expect(result.embedded?.map((e) => e.valid)).toEqual([true]);
  });

  it('verifies with Laurel’s verifier, the record and the badge it holds', async () => {
    const result = await verifyBadge(vector(), withKeys);
    expect(failed(result)).toEqual([]);
    expect(result).toMatchObject({ valid: true, format: 'clr-data-integrity' });
    expect(result.embedded).toHaveLength(1);
    expect(result.embedded![0]!.valid).toBe(true);
  });

  it('fails when tampered with', async () => {
    const changed = vector();
    changed.credentialSubject.achievement[0].name = 'Achievement 100';
    const result = await verifyBadge(changed, withKeys);
    expect(failed(result)).toEqual(['signature']);
  });
});
