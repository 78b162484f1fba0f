import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as vc from '@digitalbazaar/vc';
import { createCredential, createList } from '@digitalbazaar/vc-bitstring-status-list';
import {
  buildAchievementCredential,
  issuerProfileDocument,
  type AchievementInput,
  type CredentialInput,
  type IssuerSummary,
} from '../../src/issuers/openbadges/build.js';
import { canonicalStats, canonizeDocument } from '../../src/issuers/openbadges/canonicalTemplates.js';
import { createDocumentLoader, staticResolver } from '../../src/issuers/openbadges/documentLoader.js';
import { multikeyDocument } from '../../src/issuers/openbadges/keys.js';
import { base58btc, signCredential } from '../../src/issuers/openbadges/sign.js';

/**
 * The fast signing path (cached canonicalisation templates, sign.ts + canonicalTemplates.ts)
 * against the stock stack (@digitalbazaar/vc `issue` with a DataIntegrityProof, whose
 * eddsa-rdfc-2022 cryptosuite runs jsonld.toRDF and rdf-canonize): for every generated
 * credential the canonical N-Quads of the document and of the proof options, and the signed
 * credential with its proofValue, must be the same bytes; the stock verifier accepts every one.
 * Then documents made to catch the template path out (values that merge nodes or quads, nested
 * and inline contexts, JSON literals) must come out as the stock stack gives them.
 */

const COUNT = 1000;
const CREATED = new Date('2026-11-05T08:09:10.456Z');

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEXTS = [
  'Quiz champion',
  'Élève modèle — niveau 2',
  'Chemistry 🧪🔥 star',
  'שלום עולם: בוגר מצטיין',
  'مرحبا بالعالم',
  '"Quoted" and \'single\' and `back`',
  'Line one\nLine two\r\nLine three\ttabbed',
  'Back\\slash \\n not a newline',
  '中文徽章 · 日本語バッジ · 한국어',
  '<b>not html</b> & ampersands; <https://not.an.iri>',
  ' leading and trailing spaces ',
  'Zero\u200bwidth and \u202eRTL override\u202c',
  'Control \u0001\u0007\u001f\u007f chars',
  'Lone surrogate \ud83d here',
  'x',
  '_:b0 looks like a blank node',
  'urn:uuid:2f1c5b9e-7c1d-4c2b-9c1e-0d9b1f3a5e77',
  'https://looks.like/an/iri',
  'laurelprobe3l and https://laurel-probe.invalid/2i',
  '@id',
  '80% or more on Quiz 3.',
  '',
];

const IRIS = [
  'https://standards.example.org/chem/1',
  'https://standards.example.org/chem/1?x=1&y=2#frag',
  'http://example.org/plain',
  'urn:uuid:2f1c5b9e-7c1d-4c2b-9c1e-0d9b1f3a5e77',
  'urn:isbn:0451450523',
  'did:example:123456789abcdefghi',
  'https://例え.テスト/パス',
  'https://example.org/a/../b/./c',
  'mailto:someone@example.org',
  'tag:example.org,2026:badge',
];

/** How many combinations of optional parts the generated credentials fall into. */
const SHAPES = 60;

/**
 * Credential `i`: its optional parts (which are present, how many) from one of SHAPES seeds, so
 * that many credentials share a shape and go through a cached template; its values (names,
 * texts, IRIs, dates, salts) from its own seed.
 */
function generate(i: number, issuers: readonly IssuerSummary[], templates: readonly AchievementInput[]) {
  const shape = random((i % SHAPES) * 104729 + 3);
  const r = random(i * 7919 + 17);
  const has = (p: number) => shape() < p;
  const count = (max: number) => Math.floor(shape() * (max + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const text = () => `${pick(TEXTS)}${r() < 0.5 ? ` #${i}` : ''}`;
  const issuerIndex = i % issuers.length;
  const template = templates[Math.floor(shape() * templates.length)]!;
  const ownTags = has(0.5);
  const ownAlignments = has(0.5);
  const achievement: AchievementInput = {
    ...template,
    ...(has(0.5) ? { name: text() || `Badge ${i}` } : {}),
    ...(has(0.3) ? { description: text() } : {}),
    ...(has(0.3) ? { criteria: text() } : {}),
    tags: ownTags ? Array.from({ length: count(3) }, () => (r() < 0.3 ? 'dup' : text())) : template.tags,
    alignments: ownAlignments
      ? Array.from({ length: count(3) }, () => ({
          targetName: text() || 'Target',
          targetUrl: has(0.85) ? pick(IRIS) : null,
          targetDescription: has(0.5) ? text() : null,
          targetFramework: has(0.3) ? text() : null,
          targetCode: has(0.3) ? `C.${i}` : null,
        }))
      : template.alignments,
  };
  const evidenceCount = count(3);
  const sharedEvidence = { name: text() || 'Grade', narrative: text() || 'Scored' };
  const input: CredentialInput = {
    id: has(0.9)
      ? `https://laurel.example.edu/credentials/${i.toString(16).padStart(24, '0')}`
      : `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    issuer: issuers[issuerIndex]!,
    achievement,
    recipient: {
      email: has(0.7) ? `Learner.${i}+tag@Example.EDU ` : null,
      fallback: has(0.5)
        ? { identityType: 'ltiUserId', value: `sub-${i}-${text()}` }
        : { identityType: 'systemId', value: String(i) },
      salt: r() < 0.9 ? (r() * 1e17).toString(16) : text() || 'salt',
    },
    awardedAt: new Date(
      Date.UTC(2026, Math.floor(r() * 12), 1 + Math.floor(r() * 28), Math.floor(r() * 24), 7, 9, 123),
    ),
    validUntil: has(0.4) ? new Date(Date.UTC(2027 + Math.floor(r() * 5), 5, 1)) : null,
    // Identical pieces of evidence make blank nodes that only RDFC-1.0's n-degree hashing tells apart.
    evidence: Array.from({ length: evidenceCount }, () =>
      r() < 0.15
        ? sharedEvidence
        : {
            name: text() || 'Grade',
            narrative: text() || 'Scored',
            description: has(0.4) ? text() : null,
            genre: has(0.3) ? 'Assessment result' : null,
          },
    ),
    status: has(0.85)
      ? { listUrl: `${issuers[issuerIndex]!.id}/status-lists/${i % 3}`, index: Math.floor(r() * 131072) }
      : null,
  };
  const credential = buildAchievementCredential(input);
  // A few shapes the builder never makes: an extra top-level term and a plain string issuer.
  if (i % SHAPES === 5) credential.description = `${text()} (edited)`;
  if (i % SHAPES === 7) credential.issuer = issuers[issuerIndex]!.id;
  // A fixed part that looks like one of the fast path's sentinels (it must not be taken for one).
  if (i % SHAPES === 11)
    credential.type = ['VerifiableCredential', 'AchievementCredential', 'https://laurel-probe.invalid/3i'];
  return credential;
}

async function issuerWithKey(n: number) {
  const id = `https://laurel${n}.example.edu/issuers/64b00000000000000000000${n}`;
  const summary: IssuerSummary = {
    id,
    name: [`Example University ${n}`, 'Université «Ünïcødé» 🎓', 'מכללה "אחת"'][n % 3]!,
    ...(n !== 1 ? { url: `https://www${n}.example.edu` } : {}),
    ...(n === 0 ? { email: 'badges@example.edu', description: 'An issuer\nwith a description' } : {}),
    ...(n === 2 ? { imageUrl: `https://laurel${n}.example.edu/images/logo` } : {}),
  };
  const pair = await Ed25519Multikey.generate({ controller: id });
  const keyId = `${id}/keys/${pair.publicKeyMultibase}`;
  const key = await Ed25519Multikey.from({
    '@context': 'https://w3id.org/security/multikey/v1',
    type: 'Multikey',
    id: keyId,
    controller: id,
    publicKeyMultibase: pair.publicKeyMultibase,
    secretKeyMultibase: pair.secretKeyMultibase!,
  });
  const documents = {
    [id]: issuerProfileDocument(summary, [{ id: keyId, publicKeyMultibase: pair.publicKeyMultibase }]),
    [keyId]: multikeyDocument(keyId, id, pair.publicKeyMultibase),
  };
  return { summary, key, documents };
}

const templateOf = (n: number, issuer?: IssuerSummary): AchievementInput => ({
  id: `https://laurel.example.edu/achievements/64b0000000000000000000${10 + n}`,
  name: TEXTS[n % TEXTS.length]! || 'Badge',
  description: n % 2 ? 'Top marks on quiz 3.' : '',
  criteria: n % 3 ? '80% or more on Quiz 3.' : '',
  imageUrl: n % 2 ? `https://laurel.example.edu/images/64b00000000000000000000${n}` : IRIS[n % IRIS.length]!,
  tags: n % 2 ? ['chemistry', 'stoichiometry'] : [],
  alignments:
    n % 2
      ? [
          {
            targetName: 'Stoichiometry',
            targetUrl: 'https://standards.example.org/chem/1',
            targetCode: 'CHEM.1',
          },
          { targetName: 'No URL, so left out' },
        ]
      : [],
  ...(issuer ? { creator: issuer } : {}),
});

const stockSuite = cryptosuite as unknown as {
  canonize(input: unknown, options: unknown): Promise<string>;
};
/**
 * The stock canonical form of each distinct proof options document: canonisation is a function of
 * its input, and the proofs here share `created`, so only a few distinct ones exist (this halves
 * the time the stock stack takes; every credential document is still canonised by it).
 */
const stockProofOptions = new Map<string, Promise<string>>();

/**
 * The stock canonical N-Quads of each credential document as `stockIssue` made them, by the
 * document's JSON: the verifier canonises the same document again (the signed credential without
 * its proof), and canonisation is a function of its input, so `verifyingSuite` takes them from
 * here instead of converting each document a third time. Any input not found here is converted
 * by the stock cryptosuite.
 */
const stockDocuments = new Map<string, string>();

/** The stock cryptosuite, answering canonical N-Quads it already made from the maps above. */
const verifyingSuite = () =>
  new DataIntegrityProof({
    cryptosuite: {
      ...stockSuite,
      async canonize(input: unknown, options: unknown) {
        const memoKey = JSON.stringify(input);
        return (
          stockDocuments.get(memoKey) ??
          (await (stockProofOptions.get(memoKey) ?? stockSuite.canonize(input, options)))
        );
      },
    },
  });

/** The stock stack, with the cryptosuite's canonical N-Quads captured as it makes them. */
async function stockIssue(
  credential: Record<string, unknown>,
  key: Ed25519Multikey.Ed25519KeyPair,
  documentLoader: ReturnType<typeof createDocumentLoader>,
) {
  const canonical: string[] = [];
  const capturing = {
    ...stockSuite,
    async canonize(input: unknown, options: unknown) {
      let out: Promise<string>;
      const memoKey = JSON.stringify(input);
      if ((input as Record<string, unknown>).cryptosuite !== undefined) {
        out = stockProofOptions.get(memoKey) ?? stockSuite.canonize(input, options);
        stockProofOptions.set(memoKey, out);
      } else {
        out = stockSuite.canonize(input, options);
        stockDocuments.set(memoKey, await out);
      }
      canonical.push(await out);
      return out;
    },
  };
  const suite = new DataIntegrityProof({ signer: key.signer(), cryptosuite: capturing, date: CREATED });
  const signed = await vc.issue({ credential: structuredClone(credential), suite, documentLoader });
  // DataIntegrityProof canonises the document and the proof options concurrently; tell them apart.
  const documentCanonical = canonical.find((c) => !c.includes('<https://w3id.org/security#cryptosuite>'));
  const proofCanonical = canonical.find((c) => c.includes('<https://w3id.org/security#cryptosuite>'));
  return { signed: { ...signed, proof: [signed.proof] }, documentCanonical, proofCanonical };
}

describe('fast signing against the stock stack (differential)', () => {
  it(`gives the same canonical N-Quads and proofs as @digitalbazaar/vc for ${COUNT} generated credentials, which the stock verifier accepts`, async () => {
    const issuers = await Promise.all([0, 1, 2].map(issuerWithKey));
    const summaries = issuers.map((s) => s.summary);
    const templates = [0, 1, 2, 3, 4, 5].map((n) => templateOf(n, n === 4 ? summaries[0] : undefined));
    const documents = Object.assign({}, ...issuers.map((s) => s.documents));
    const loader = createDocumentLoader([staticResolver(documents)]);
    const before = { ...canonicalStats };
    const mismatches: string[] = [];
    const failures: string[] = [];
    let refusedByBoth = 0;
    let verified = 0;

    for (let i = 0; i < COUNT; i++) {
      const credential = generate(i, summaries, templates);
      const { key } = issuers[i % issuers.length]!;
      let stock: Awaited<ReturnType<typeof stockIssue>> | Error;
      try {
        stock = await stockIssue(credential, key, loader);
      } catch (err) {
        stock = err as Error;
      }
      let fast: Record<string, unknown> | Error;
      try {
        fast = await signCredential({ credential, key, documentLoader: loader, date: CREATED });
      } catch (err) {
        fast = err as Error;
      }
      if (stock instanceof Error || fast instanceof Error) {
        // Whatever the stock stack refuses, the fast path refuses too (and the other way round).
        if (!(stock instanceof Error && fast instanceof Error)) {
          failures.push(
            `#${i}: stock ${stock instanceof Error ? stock.message : 'signed'}, fast ${fast instanceof Error ? fast.message : 'signed'}`,
          );
        } else refusedByBoth++;
        continue;
      }
      const { proofValue: _proofValue, ...proofOptions } = (fast.proof as Record<string, unknown>[])[0]!;
      const documentCanonical = await canonizeDocument(structuredClone(credential), loader);
      const proofCanonical = await canonizeDocument(
        { '@context': credential['@context'], ...proofOptions },
        loader,
      );
      if (documentCanonical !== stock.documentCanonical) mismatches.push(`#${i}: document N-Quads differ`);
      if (proofCanonical !== stock.proofCanonical) mismatches.push(`#${i}: proof options N-Quads differ`);
      if (JSON.stringify(fast) !== JSON.stringify(stock.signed))
        mismatches.push(`#${i}: signed credential differs`);
      // Every credential through the stock verifier (its canonical N-Quads taken from the stock
      // issue above), and one in 25 with nothing taken from anywhere.
      const result = await vc.verifyCredential({
        credential: fast,
        suite: i % 25 === 0 ? new DataIntegrityProof({ cryptosuite }) : verifyingSuite(),
        documentLoader: loader,
        checkStatus: async () => ({ verified: true }),
        // After every validFrom generated (2026) and before every validUntil (mid-2027 on).
        now: new Date('2027-01-01T00:00:00Z'),
      });
      if (result.verified) verified++;
      else failures.push(`#${i}: the stock verifier refused it: ${result.error?.message}`);
      stockDocuments.clear();
    }

    expect(mismatches).toEqual([]);
    expect(failures).toEqual([]);
    expect(verified).toBe(COUNT - refusedByBoth);
    // The comparison is about the fast path: nearly every document went through a template.
    const templated = canonicalStats.templated - before.templated;
    expect(templated).toBeGreaterThan(2 * (COUNT - refusedByBoth) * 0.95);
    // …and most through a template made for an earlier credential of the same shape.
    expect(canonicalStats.compiled - before.compiled).toBeLessThan(COUNT / 2);
    expect(refusedByBoth).toBeLessThan(COUNT / 10);
  }, 180_000);

  it('signs status lists (BitstringStatusListCredential) as the stock stack does', async () => {
    const issuers = await Promise.all([0, 1].map(issuerWithKey));
    const loader = createDocumentLoader([
      staticResolver(Object.assign({}, ...issuers.map((s) => s.documents))),
    ]);
    for (let n = 0; n < 6; n++) {
      const { summary, key } = issuers[n % 2]!;
      const bits = await createList({ length: 131072 });
      for (let k = 0; k < n * 7; k++) bits.setStatus((k * 7919 + n) % 131072, true);
      const unsigned = await createCredential({
        id: `${summary.id}/status-lists/${n}`,
        list: bits,
        statusPurpose: 'revocation',
      });
      const credential = {
        ...unsigned,
        name: `Revocation list ${n} of ${summary.name}`,
        issuer: summary.id,
        validFrom: '2026-11-05T08:09:10Z',
      };
      const stock = await stockIssue(credential, key, loader);
      const fast = await signCredential({ credential, key, documentLoader: loader, date: CREATED });
      expect(JSON.stringify(fast)).toBe(JSON.stringify(stock.signed));
      expect(await canonizeDocument(credential, loader)).toBe(stock.documentCanonical);
    }
  });

  it('gives the stock output for documents made to catch the template path out', async () => {
    const { key, summary, documents } = await issuerWithKey(0);
    const loader = createDocumentLoader([staticResolver(documents)]);
    const credential = (extra: Record<string, unknown>, context: unknown[] = []) => ({
      '@context': [
        'https://www.w3.org/ns/credentials/v2',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
        ...context,
      ],
      id: 'https://laurel.example.edu/credentials/64b000000000000000000001',
      type: ['VerifiableCredential', 'OpenBadgeCredential'],
      issuer: { id: summary.id, type: ['Profile'], name: summary.name },
      validFrom: '2026-01-01T00:00:00Z',
      credentialSubject: { type: ['AchievementSubject'], achievement: templateAchievement },
      ...extra,
    });
    const templateAchievement = {
      id: 'https://laurel.example.edu/achievements/1',
      type: ['Achievement'],
      name: 'Quiz champion',
      description: 'Top marks.',
      criteria: { narrative: 'Top marks.' },
    };
    // Each case runs its values in order: the first makes the shape's template, the others use it.
    const cases: { name: string; values: string[]; make: (v: string) => Record<string, unknown> }[] = [
      {
        // `ex:alice` looks like an absolute IRI, but the nested context makes `ex` a prefix.
        name: 'a prefix defined by a context below the top level',
        values: ['https://example.org/learners/1', 'ex:alice', 'ex:bob'],
        make: (v) =>
          credential({
            credentialSubject: {
              '@context': { ex: 'https://example.org/ns#' },
              id: v,
              type: ['AchievementSubject'],
              achievement: templateAchievement,
            },
          }),
      },
      {
        // jsonld keeps both values ("Same" typed xsd:string and "Same" untyped): one quad, twice.
        name: 'a string equal to a value object typed xsd:string under the same property',
        values: ['Other', 'Same', 'Same'],
        make: (v) =>
          credential({ name: [v, { '@value': 'Same', '@type': 'http://www.w3.org/2001/XMLSchema#string' }] }),
      },
      {
        // Equal @json values are two values to jsonld, and their quad comes out twice.
        name: 'two equal JSON literals on one node',
        values: ['a', 'b'],
        make: (v) =>
          credential({
            name: v,
            credentialSchema: [1, 2].map(() => ({
              id: 'https://laurel.example.edu/schemas/1',
              type: 'JsonSchema',
              jsonSchema: { $id: 'https://laurel.example.edu/schemas/1', type: 'object' },
            })),
          }),
      },
      {
        // JSON.stringify writes NaN as null: the two must not share a template.
        name: 'NaN where another credential of the shape has null',
        values: ['null', 'NaN', 'Infinity'],
        make: (v) => credential({ 'https://example.org/ns#n': { null: null, NaN, Infinity }[v] }),
      },
      {
        // Neither has own keys, and JSON.stringify writes a Date as a string.
        name: 'a Date where another credential of the shape has an object or a string',
        values: ['object', 'date', 'string'],
        make: (v) =>
          credential({
            'https://example.org/ns#d':
              v === 'object' ? {} : v === 'date' ? new Date(0) : new Date(0).toJSON(),
          }),
      },
      {
        // An own `__proto__` key, as JSON.parse makes it: a copy made by assignment loses it.
        name: 'an own __proto__ key',
        values: ['a', 'b'],
        make: (v) =>
          credential({
            credentialSubject: JSON.parse(
              `{"type": ["AchievementSubject"], "__proto__": {"id": "https://example.org/${v}"}}`,
            ) as unknown,
          }),
      },
      {
        name: 'an inline context',
        values: ['x', 'https://example.org/y', 'ex:z'],
        make: (v) => credential({ extra: v }, [{ ex: 'https://example.org/ns#', extra: 'ex:extra' }]),
      },
    ];
    const mismatches: string[] = [];
    const signedByBoth = new Map<string, number>();
    for (const { name, values, make } of cases) {
      for (const v of values) {
        const doc = make(v);
        const stock = await stockIssue(doc, key, loader).catch((err: Error) => err);
        const fast = await signCredential({
          credential: doc,
          key,
          documentLoader: loader,
          date: CREATED,
        }).catch((err: Error) => err);
        if (stock instanceof Error || fast instanceof Error) {
          if (!(stock instanceof Error && fast instanceof Error))
            mismatches.push(`${name} (${v}): only one of the two refused it`);
          continue;
        }
        signedByBoth.set(name, (signedByBoth.get(name) ?? 0) + 1);
        if (JSON.stringify(fast) !== JSON.stringify(stock.signed))
          mismatches.push(`${name} (${v}): signed credential differs`);
        if ((await canonizeDocument(doc, loader)) !== stock.documentCanonical)
          mismatches.push(`${name} (${v}): document N-Quads differ`);
      }
    }
    expect(mismatches).toEqual([]);
    // Every case was signed, not refused, for each of its values.
    expect(cases.map((c) => signedByBoth.get(c.name) ?? 0)).toEqual(cases.map((c) => c.values.length));
  });

  it('drops the quads that equal values merge, as jsonld does, through the template', async () => {
    const { key, summary, documents } = await issuerWithKey(1);
    const loader = createDocumentLoader([staticResolver(documents)]);
    const image = (id: string, caption: string) => ({ id, type: 'Image', caption });
    // The same image three times (credential, achievement, issuer), tags repeated, and the
    // learner's id equal to the issuer's: nodes merge, equal values become one quad.
    const make = (v: string, w: string) =>
      buildAchievementCredential({
        id: `https://laurel.example.edu/credentials/${v.length}`,
        issuer: { ...summary, imageUrl: v.startsWith('https:') ? v : `https://laurel.example.edu/i/${v}` },
        achievement: {
          ...templateOf(1),
          imageUrl: v.startsWith('https:') ? v : `https://laurel.example.edu/i/${v}`,
          name: w,
          tags: [w, v, w],
        },
        recipient: { email: null, fallback: { identityType: 'systemId', value: '1' }, salt: w },
        awardedAt: new Date('2026-01-02T03:04:05Z'),
        validUntil: null,
        evidence: [{ name: w, narrative: w }],
      });
    const pairs = [
      ['https://laurel.example.edu/i/1', 'Quiz champion'],
      ['https://laurel.example.edu/i/1', 'https://laurel.example.edu/i/1'],
      ['2', 'Same'],
      ['3', '3'],
    ] as const;
    const templatedBefore = canonicalStats.templated;
    for (const [v, w] of pairs) {
      const doc = make(v, w);
      doc.image = image(String((doc.image as { id: string }).id), w);
      (doc.credentialSubject as Record<string, unknown>).id = summary.id;
      const stock = await stockIssue(doc, key, loader);
      const fast = await signCredential({ credential: doc, key, documentLoader: loader, date: CREATED });
      expect([v, w, JSON.stringify(fast)]).toEqual([v, w, JSON.stringify(stock.signed)]);
      expect([v, w, await canonizeDocument(doc, loader)]).toEqual([v, w, stock.documentCanonical]);
    }
    // Each credential document through a template, signed and compared (proof options are cached).
    expect(canonicalStats.templated - templatedBefore).toBeGreaterThanOrEqual(pairs.length * 2);
  });

  it('leaves the input credential as it was and signs VCDM 1.1 credentials the stock way', async () => {
    const { key, summary, documents } = await issuerWithKey(0);
    const loader = createDocumentLoader([staticResolver(documents)]);
    const credential = generate(1, [summary], [templateOf(1)]);
    const copy = structuredClone(credential);
    await signCredential({ credential, key, documentLoader: loader, date: CREATED });
    expect(credential).toEqual(copy);

    const v1 = {
      '@context': ['https://www.w3.org/2018/credentials/v1'],
      id: 'urn:uuid:11111111-2222-4333-8444-555555555555',
      type: ['VerifiableCredential'],
      issuer: summary.id,
      issuanceDate: '2026-01-01T00:00:00Z',
      credentialSubject: { id: 'did:example:learner' },
    };
    const templatedBefore = canonicalStats.templated;
    const signed = await signCredential({ credential: v1, key, documentLoader: loader, date: CREATED });
    expect(canonicalStats.templated).toBe(templatedBefore);
    const stock = await stockIssue(v1, key, loader);
    expect(JSON.stringify(signed)).toBe(JSON.stringify(stock.signed));
  });

  it('writes base58btc as base58-universal does, leading zero bytes included', () => {
    expect(base58btc(new Uint8Array([]))).toBe('');
    expect(base58btc(new Uint8Array([0, 0, 1]))).toBe('112');
    expect(base58btc(Buffer.from('hello world'))).toBe('StV1DL6CwTryKyV');
    expect(base58btc(new Uint8Array(64).fill(255))).toBe(
      '67rpwLCuS5DGA8KGZXKsVQ7dnPb9goRLoKfgGbLfQg9WoLUgNY77E2jT11fem3coV9nAkguBACzrU1iyZM4B8roQ',
    );
  });
});
