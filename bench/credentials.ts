import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as vc from '@digitalbazaar/vc';
import { buildAchievementCredential, issuerProfileDocument } from '../src/issuers/openbadges/build.js';
import { createDocumentLoader, staticResolver } from '../src/issuers/openbadges/documentLoader.js';
import { multikeyDocument } from '../src/issuers/openbadges/keys.js';
import { signCredential } from '../src/issuers/openbadges/sign.js';

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

/**
 * Credentials signed per second (build + RDFC-1.0 canonicalisation + Ed25519, as the issue job
 * does, without the database), beside raw Ed25519 signatures per second with node:crypto in the
 * same run: their ratio is what canonicalisation costs. Verification rate for reference.
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

  const signed = await rate(
    (i) => signCredential({ credential: credential(i), key, documentLoader: loader }),
    durationMs,
  );
  const sample = await signCredential({ credential: credential(1), key, documentLoader: loader });
  const suite = new DataIntegrityProof({ cryptosuite });
  const verified = await rate(async () => {
    const result = await vc.verifyCredential({
      credential: sample,
      suite,
      documentLoader: loader,
      checkStatus: async () => ({ verified: true }),
    });
    if (!result.verified) throw new Error('bench: the sample credential did not verify');
  }, durationMs);

  // The same work without canonicalisation: Ed25519 over 64 bytes (the two SHA-256 hashes that
  // eddsa-rdfc-2022 signs), with node:crypto.
  const { privateKey } = generateKeyPairSync('ed25519');
  const data = randomBytes(64);
  const raw = await rate(() => sign(null, data, privateKey), Math.min(durationMs, 1500), 200);

  return {
    credentialsSignedPerSecond: signed.perSecond,
    credentialsVerifiedPerSecond: verified.perSecond,
    rawEd25519SignaturesPerSecond: raw.perSecond,
    rawPerCredential: Math.round(raw.perSecond / signed.perSecond),
    msPerCredential: Math.round((1000 / signed.perSecond) * 100) / 100,
    credentialBytes: JSON.stringify(sample).length,
  };
}
