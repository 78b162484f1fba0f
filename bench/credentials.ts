import { generateKeyPairSync, randomBytes, sign as sign_ } from 'node:crypto';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as vc from '@digitalbazaar/vc';
import { buildAchievementCredential, issuerProfileDocument } from '../src/issuers/openbadges/build.js';
import { createDocumentLoader, staticResolver } from '../src/issuers/openbadges/documentLoader.js';
import { multikeyDocument } from '../src/issuers/openbadges/keys.js';
import { signCredential, signCredentialStock } from '../src/issuers/openbadges/sign.js';

const BASE = 'https://laurel.example.edu';
const ISSUER = `${BASE}/issuers/64b000000000000000000001`;

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns operations per second. */
async function rate(
  fn: (i: number) => unknown,
  ms: number,
  warmUp = 20,
): Promise<{ perSecond: number; runs: number }> {
  for (let i = 0; i < warmUp; i++) await fn(i);
  const start = process.hrtime.bigint();
  let runs = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    await fn(runs++);
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return { perSecond: Math.round((runs / elapsed) * 1000 * 10) / 10, runs };
}

/** Sums of runs and milliseconds over the rounds of one measurement. */
class Tally {
  runs = 0;
  ms = 0;
  add(r: { runs: number; ms: number }) {
    this.runs += r.runs;
    this.ms += r.ms;
  }
  get perSecond() {
    return Math.round((this.runs / this.ms) * 1000 * 10) / 10;
  }
}

/** Runs `fn` for about `ms` milliseconds, without warm-up. */
async function timed(
  fn: (i: number) => unknown,
  ms: number,
  from: number,
): Promise<{ runs: number; ms: number }> {
  const start = process.hrtime.bigint();
  let runs = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    await fn(from + runs++);
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return { runs, ms: elapsed };
}

/**
 * Credentials signed per second (build + canonical N-Quads + Ed25519, as the issue job does,
 * without the database), beside raw Ed25519 signatures per second with node:crypto, measured side
 * by side: the two alternate in short rounds, so that a machine shared with other work slows both
 * alike, and their ratio is what canonicalisation costs. The stock stack (@digitalbazaar/vc
 * `issue`, JSON-LD processing per credential) is measured the same way for comparison, and the
 * verification rate (stock verifier) for reference.
 */
export async function benchCredentials(durationMs = Number(process.env.BENCH_MS ?? 3000)) {
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
  const issuer = { id: ISSUER, name: 'Bench University', url: 'https://www.example.edu' };
  const loader = createDocumentLoader([
    staticResolver({
      [ISSUER]: issuerProfileDocument(issuer, [{ id: keyId, publicKeyMultibase: pair.publicKeyMultibase }]),
      [keyId]: multikeyDocument(keyId, ISSUER, pair.publicKeyMultibase),
    }),
  ]);
  const credential = (i: number) =>
    buildAchievementCredential({
      id: `${BASE}/credentials/${i.toString(16).padStart(24, '0')}`,
      issuer,
      achievement: {
        id: `${BASE}/achievements/64b000000000000000000003`,
        name: 'Quiz champion',
        description: 'Top marks on quiz 3.',
        criteria: '80% or more on Quiz 3.',
        imageUrl: `${BASE}/images/64b000000000000000000004`,
        tags: ['chemistry'],
        alignments: [{ targetName: 'Stoichiometry', targetUrl: 'https://standards.example.org/chem/1' }],
      },
      recipient: {
        email: `learner${i}@example.edu`,
        fallback: { identityType: 'systemId', value: String(i) },
        salt: 'bench',
      },
      awardedAt: new Date(),
      validUntil: null,
      evidence: [{ name: 'Grade on Quiz 3', narrative: 'Scored 17 out of 20 (85%).' }],
      status: { listUrl: `${BASE}/status-lists/64b000000000000000000005`, index: i % 131072 },
    });
  const sign = (i: number) => signCredential({ credential: credential(i), key, documentLoader: loader });
  const signStock = (i: number) =>
    signCredentialStock({ credential: credential(i), key, documentLoader: loader });

  // The same work without canonicalisation: Ed25519 over 64 bytes (the two SHA-256 hashes that
  // eddsa-rdfc-2022 signs), with node:crypto.
  const { privateKey } = generateKeyPairSync('ed25519');
  const data = randomBytes(64);
  const rawSign = () => sign_(null, data, privateKey);

  // Warm-up: the first credential of a shape makes its template (stock JSON-LD processing once).
  for (let i = 0; i < 50; i++) await sign(i);
  for (let i = 0; i < 5; i++) await signStock(i);
  for (let i = 0; i < 500; i++) rawSign();

  const rounds = 6;
  const signed = new Tally();
  const raw = new Tally();
  const stock = new Tally();
  for (let r = 0; r < rounds; r++) {
    signed.add(await timed(sign, durationMs / rounds, 1_000_000 * (r + 1)));
    raw.add(await timed(rawSign, durationMs / rounds / 2, 0));
    stock.add(await timed(signStock, durationMs / rounds / 2, 1_000_000 * (r + 1) + 500_000));
  }

  const sample = await sign(1);
  const sampleStock = await signStock(1);
  // Same bytes as the stock stack, proof included, for a credential signed in the same second.
  const sameAsStock =
    JSON.stringify(
      await signCredential({ credential: credential(7), key, documentLoader: loader, date: new Date(0) }),
    ) ===
    JSON.stringify(
      await signCredentialStock({
        credential: credential(7),
        key,
        documentLoader: loader,
        date: new Date(0),
      }),
    );
  const suite = new DataIntegrityProof({ cryptosuite });
  const verified = await rate(
    async () => {
      for (const c of [sample, sampleStock]) {
        const result = await vc.verifyCredential({
          credential: c,
          suite,
          documentLoader: loader,
          checkStatus: async () => ({ verified: true }),
        });
        if (!result.verified) throw new Error('bench: the sample credential did not verify');
      }
    },
    Math.min(durationMs, 1500),
    2,
  );

  return {
    credentialsSignedPerSecond: signed.perSecond,
    credentialsVerifiedPerSecond: Math.round(verified.perSecond * 2 * 10) / 10,
    rawEd25519SignaturesPerSecond: raw.perSecond,
    rawPerCredential: Math.round((raw.perSecond / signed.perSecond) * 10) / 10,
    signedPercentOfRaw: Math.round((signed.perSecond / raw.perSecond) * 1000) / 10,
    stockCredentialsSignedPerSecond: stock.perSecond,
    stockRawPerCredential: Math.round(raw.perSecond / stock.perSecond),
    speedupOverStock: Math.round((signed.perSecond / stock.perSecond) * 10) / 10,
    sameBytesAsStock: sameAsStock,
    msPerCredential: Math.round((1000 / signed.perSecond) * 1000) / 1000,
    credentialBytes: JSON.stringify(sample).length,
  };
}
