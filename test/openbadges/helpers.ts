import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import jsonld from 'jsonld';
import { canonize } from 'rdf-canonize';
import { CONTEXTS } from '../../src/issuers/openbadges/contexts.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const dataPath = (...parts: string[]) => path.join(here, '..', 'data', ...parts);
export const readJson = (...parts: string[]): any => JSON.parse(readFileSync(dataPath(...parts), 'utf8'));

const addFormats = addFormatsModule as unknown as (ajv: Ajv2019) => void;

/** 1EdTech's published JSON schemas (test/data/schemas), compiled once. */
export function obSchemas() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  return {
    credential: ajv.compile(readJson('schemas', 'ob_v3p0_achievementcredential_schema.json')),
    profile: ajv.compile(readJson('schemas', 'ob_v3p0_profile_schema.json')),
  };
}

/** The 1EdTech example issuers' key documents (test/data/1edtech/keys), by URL, plus the revocation test list. */
export function oneEdTechDocuments(): Record<string, unknown> {
  const index = readJson('1edtech', 'keys', 'index.json') as Record<string, string>;
  const docs: Record<string, unknown> = {};
  for (const [url, file] of Object.entries(index))
    if (!url.startsWith('_')) docs[url] = readJson('1edtech', file);
  docs[
    'https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/inspector-vc/src/test/resources/ob30/bit-string-list/testlist'
  ] = readJson('1edtech', 'validator-ob30-testlist.json');
  return docs;
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** base58btc, written out here so the independent verifier shares no code with the signer. */
export function base58Decode(text: string): Buffer {
  let n = 0n;
  for (const ch of text) {
    const v = BASE58.indexOf(ch);
    if (v < 0) throw new Error(`not base58: ${ch}`);
    n = n * 58n + BigInt(v);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n % 256n));
    n /= 256n;
  }
  for (const ch of text) {
    if (ch !== '1') break;
    bytes.unshift(0);
  }
  return Buffer.from(bytes);
}

const contextLoader = async (url: string) => {
  const document = CONTEXTS.get(url);
  if (!document) throw new Error(`independent verifier: no context ${url}`);
  return { contextUrl: null, documentUrl: url, document };
};

async function canonicalHash(doc: unknown): Promise<Buffer> {
  const nquads = (await jsonld.toRDF(doc, {
    format: 'application/n-quads',
    documentLoader: contextLoader,
    safe: true,
  })) as string;
  const canonical = await canonize(nquads, {
    algorithm: 'RDFC-1.0',
    inputFormat: 'application/n-quads',
    format: 'application/n-quads',
  });
  return createHash('sha256').update(canonical, 'utf8').digest();
}

/**
 * A second verifier of eddsa-rdfc-2022 proofs, written from the cryptosuite spec with no part of
 * the signing stack: RDFC-1.0 canonical N-Quads of the proof options (with the document's
 * context) and of the document without its proof, each hashed with SHA-256, concatenated, and
 * checked as an Ed25519 signature with node:crypto against the multibase public key.
 */
export async function independentlyVerify(credential: any, publicKeyMultibase: string): Promise<boolean> {
  const proof = Array.isArray(credential.proof) ? credential.proof[0] : credential.proof;
  if (proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-rdfc-2022') return false;
  const { proofValue, ...options } = proof;
  const { proof: _proof, ...unsecured } = credential;
  const proofHash = await canonicalHash({ '@context': credential['@context'], ...options });
  const documentHash = await canonicalHash(unsecured);
  const signature = base58Decode(String(proofValue).slice(1));
  const multicodec = base58Decode(publicKeyMultibase.slice(1));
  if (multicodec[0] !== 0xed || multicodec[1] !== 0x01) throw new Error('not an Ed25519 multikey');
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: multicodec.subarray(2).toString('base64url') },
    format: 'jwk',
  });
  return verifySignature(null, Buffer.concat([proofHash, documentHash]), key, signature);
}
