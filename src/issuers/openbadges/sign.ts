import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import type { Ed25519KeyPair } from '@digitalbazaar/ed25519-multikey';
import * as vc from '@digitalbazaar/vc';
import type { DocumentLoader } from './documentLoader.js';

/**
 * Signs a credential with a Data Integrity proof (eddsa-rdfc-2022, proof purpose
 * assertionMethod) and returns a new object; the input is left as it was.
 *
 * The proof is published as a one-element array: 1EdTech's JSON schema types `proof` as an array,
 * and the signature does not depend on that shape.
 */
export async function signCredential(options: {
  credential: Record<string, unknown>;
  key: Ed25519KeyPair;
  documentLoader: DocumentLoader;
  /** The proof's `created`; the signing moment by default. */
  date?: Date;
}): Promise<Record<string, unknown>> {
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
