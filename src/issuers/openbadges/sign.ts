import { createHash, createPrivateKey, sign as ed25519Sign, type KeyObject } from 'node:crypto';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import type { Ed25519KeyPair } from '@digitalbazaar/ed25519-multikey';
import * as vc from '@digitalbazaar/vc';
import { canonizeDocument } from './canonicalTemplates.js';
import { CONTEXT, CONTEXTS } from './contexts.js';
import { isBundledLoader, type DocumentLoader } from './documentLoader.js';
import { sha256Bytes } from './sha256.js';

type SignOptions = {
  credential: Record<string, unknown>;
  key: Ed25519KeyPair;
  documentLoader: DocumentLoader;
  /** The proof's `created`; the signing moment by default. */
  date?: Date;
};

/**
 * Signs a credential with a Data Integrity proof (eddsa-rdfc-2022, proof purpose
 * assertionMethod) and returns a new object; the input is left as it was.
 *
 * The proof is published as a one-element array: 1EdTech's JSON schema types `proof` as an array,
 * and the signature does not depend on that shape.
 *
 * The result is byte for byte what `@digitalbazaar/vc`'s `issue` with a `DataIntegrityProof`
 * gives (`signCredentialStock`); the canonical N-Quads come from cached templates
 * (canonicalTemplates.ts) instead of JSON-LD processing per credential. Credentials that path does
 * not cover (VCDM 1.1, one that already has a proof) are signed by the stock stack.
 */
export async function signCredential(options: SignOptions): Promise<Record<string, unknown>> {
  const { credential, key, documentLoader, date } = options;
  if (!key.id) throw new TypeError('signCredential: the key needs an id (its verification method URL)');
  const context = credential['@context'];
  // vc.issue adds `issuanceDate` to VCDM 1.1 credentials and jsonld-signatures adds the Data
  // Integrity context to documents without the VCDM 2.0 one; only the stock stack does those.
  if (
    !Array.isArray(context) ||
    context[0] !== CONTEXT.credentialsV2 ||
    'proof' in credential ||
    (date !== undefined && Number.isNaN(date.getTime()))
  ) {
    return signCredentialStock(options);
  }
  const signer = key.signer();
  if (signer.algorithm !== 'Ed25519' || signer.id !== key.id) return signCredentialStock(options);

  const document = clonePlain(credential);
  vc._checkCredential({ credential: document, mode: 'issue', maxClockSkew: 300 });
  // As DataIntegrityProof.createProof builds it (key order included), then proofPurpose from
  // CredentialIssuancePurpose.
  const proof: Record<string, unknown> = {
    type: 'DataIntegrityProof',
    created: w3cDate(date ?? new Date()),
    verificationMethod: key.id,
    cryptosuite: 'eddsa-rdfc-2022',
    proofPurpose: 'assertionMethod',
  };
  const [proofHash, documentCanonical] = await Promise.all([
    proofOptionsHash({ '@context': document['@context'], ...proof }, documentLoader),
    canonizeDocument(document, documentLoader),
  ]);
  const verifyData = new Uint8Array(64);
  verifyData.set(proofHash, 0);
  verifyData.set(sha256(documentCanonical), 32);
  const secret = nodeSigningKey(key);
  const signature = secret ? ed25519Sign(null, verifyData, secret) : await signer.sign({ data: verifyData });
  proof.proofValue = `z${base58btc(signature)}`;
  return { ...document, proof: [proof] };
}

/** The same signature through `@digitalbazaar/vc`'s `issue`, JSON-LD processing included. */
export async function signCredentialStock(options: SignOptions): Promise<Record<string, unknown>> {
  const { credential, key, documentLoader, date } = options;
  if (!key.id) throw new TypeError('signCredential: the key needs an id (its verification method URL)');
  const suite = new DataIntegrityProof({
    signer: key.signer(),
    cryptosuite,
    ...(date ? { date } : {}),
  });
  const signed = await vc.issue({ credential: structuredClone(credential), suite, documentLoader });
  const proof = signed.proof;
  return { ...signed, proof: Array.isArray(proof) ? proof : [proof] };
}

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows (as ed25519-multikey builds it). */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const openedKeys = new Map<string, KeyObject>();

/**
 * The node:crypto key behind a key pair, made once per key: ed25519-multikey's signer rebuilds it
 * from DER for every signature, which costs several times the signature itself. Ed25519 is
 * deterministic, so the signature is the same bytes (the differential test checks it). Keys are
 * found by a hash of the secret, and at most a few are kept.
 */
function nodeSigningKey(key: Ed25519KeyPair): KeyObject | null {
  const secret = key.secretKey;
  if (!(secret instanceof Uint8Array) || (secret.length !== 64 && secret.length !== 32)) return null;
  const seed = secret.subarray(0, 32);
  const id = createHash('sha256').update(seed).digest('base64');
  let opened = openedKeys.get(id);
  if (!opened) {
    opened = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
    openedKeys.set(id, opened);
    while (openedKeys.size > 32) openedKeys.delete(openedKeys.keys().next().value as string);
  }
  return opened;
}

const proofHashes = new Map<string, Promise<Buffer>>();

/**
 * The hash of the proof options' canonical N-Quads. They differ only by key and by second
 * (`created`), so credentials signed together share them: the last few are kept (when the loader
 * answers bundled contexts first and the options name only those, so that the options alone
 * decide the hash).
 */
function proofOptionsHash(options: Record<string, unknown>, documentLoader: DocumentLoader): Promise<Buffer> {
  const contexts = options['@context'];
  const bundled =
    isBundledLoader(documentLoader) &&
    (Array.isArray(contexts) ? contexts : [contexts]).every((c) => typeof c === 'string' && CONTEXTS.has(c));
  if (!bundled) return canonizeDocument(options, documentLoader).then(sha256);
  const cacheKey = JSON.stringify(options);
  let hash = proofHashes.get(cacheKey);
  if (!hash) {
    hash = canonizeDocument(options, documentLoader).then(sha256);
    proofHashes.set(cacheKey, hash);
    hash.catch(() => proofHashes.delete(cacheKey));
    while (proofHashes.size > 16) proofHashes.delete(proofHashes.keys().next().value as string);
  }
  return hash;
}

/**
 * A deep copy of a JSON-like object (as structuredClone makes it, key order included), faster for
 * plain objects, arrays and primitives; anything else is copied by structuredClone.
 */
function clonePlain<T>(value: T): T {
  const copy = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype) throw NOT_PLAIN;
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) throw NOT_PLAIN;
        out[i] = copy(v[i]);
      }
      return out;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      // Assigning an own `__proto__` key would set the copy's prototype instead.
      if (key === '__proto__') throw NOT_PLAIN;
      out[key] = copy((v as Record<string, unknown>)[key]);
    }
    return out;
  };
  try {
    return copy(value) as T;
  } catch (err) {
    if (err === NOT_PLAIN) return structuredClone(value);
    throw err;
  }
}
const NOT_PLAIN = new Error('not a plain JSON value');

const sha256 = sha256Bytes;

/** `created` as data-integrity writes it: ISO 8601 without milliseconds. */
const w3cDate = (date: Date) => `${date.toISOString().slice(0, -5)}Z`;

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

const LIMB = 58 ** 5;

/** base58btc (Bitcoin alphabet, leading zero bytes as '1'), as base58-universal encodes. */
export function base58btc(bytes: Uint8Array): string {
  // The number in limbs of 58^5, least significant first (a limb times 256 stays exact in a double).
  const limbs: number[] = [];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < limbs.length; i++) {
      const x = limbs[i]! * 256 + carry;
      carry = Math.floor(x / LIMB);
      limbs[i] = x - carry * LIMB;
    }
    while (carry > 0) {
      const next = Math.floor(carry / LIMB);
      limbs.push(carry - next * LIMB);
      carry = next;
    }
  }
  const digits: number[] = [];
  for (let limb of limbs) {
    for (let k = 0; k < 5; k++) {
      const next = Math.floor(limb / 58);
      digits.push(limb - next * 58);
      limb = next;
    }
  }
  while (digits.length > 0 && digits[digits.length - 1] === 0) digits.pop();
  let out = '';
  for (let i = 0; i < bytes.length && bytes[i] === 0; i++) out += '1';
  for (let i = digits.length - 1; i >= 0; i--) out += BASE58[digits[i]!];
  return out;
}
