import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import { CONTEXT } from './contexts.js';
import type { DocumentLoader } from './documentLoader.js';
import { asArray, idOf, isObject, str, type Json, type VerificationCheck } from './verifyChecks.js';

/** The cryptosuite names that are Ed25519 over RDFC-1.0 ("eddsa-2022" is its pre-release name). */
const EDDSA_SUITES = ['eddsa-rdfc-2022', 'eddsa-2022'];
const MULTIBASE_ED25519 = /^z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/;

export type ResolvedKey = { id: string; controller: string | null; document: Json };

const hasKeyMaterial = (v: Json) => typeof v.publicKeyMultibase === 'string' || isObject(v.publicKeyJwk);

/** Finds the key with this id in a document: the document itself, or a key listed inside it. */
function findKey(doc: unknown, id: string, depth = 0): Json | null {
  if (depth > 4) return null;
  if (isObject(doc) && doc.id === id && hasKeyMaterial(doc)) return doc;
  const children = isObject(doc) ? Object.values(doc) : Array.isArray(doc) ? doc : [];
  for (const value of children) {
    const found = findKey(value, id, depth + 1);
    if (found) return found;
  }
  return null;
}

async function tryLoad(loader: DocumentLoader, url: string): Promise<unknown> {
  try {
    return (await loader(url)).document;
  } catch {
    return undefined;
  }
}

/**
 * Dereferences a verification method to its key: the document at its URL, the key listed under
 * that id in the document before the `#`, a bare `did:key`, or (as 1EdTech's validator does) a
 * multibase Ed25519 key written as the fragment of its controller's URL.
 */
export async function resolveVerificationMethod(loader: DocumentLoader, vm: string): Promise<ResolvedKey> {
  const [base, fragment] = vm.split('#', 2) as [string, string | undefined];
  let key = findKey(await tryLoad(loader, vm), vm);
  if (!key && fragment !== undefined) key = findKey(await tryLoad(loader, base), vm);
  if (!key && vm.startsWith('did:key:') && fragment === undefined && MULTIBASE_ED25519.test(vm.slice(8)))
    key = { id: vm, type: 'Multikey', controller: vm, publicKeyMultibase: vm.slice(8) };
  if (!key && fragment !== undefined && MULTIBASE_ED25519.test(fragment))
    key = { id: vm, type: 'Multikey', controller: base, publicKeyMultibase: fragment };
  if (!key) throw new Error(`The key ${vm} could not be found`);
  return {
    id: vm,
    controller: idOf(key.controller),
    document: { '@context': CONTEXT.multikey, ...key, id: vm, type: key.type ?? 'Multikey' },
  };
}

/**
 * A loader that also answers key URLs written as `<document>#<key>` with the key itself, as the
 * proof libraries expect when they dereference a verification method (a status list's, say).
 */
export function withKeyResolution(loader: DocumentLoader): DocumentLoader {
  return async (url) => {
    if (!url.includes('#')) return loader(url);
    try {
      const key = await resolveVerificationMethod(loader, url);
      return { contextUrl: null, documentUrl: url, document: key.document };
    } catch {
      return loader(url);
    }
  };
}

/** The Data Integrity proofs Laurel can check (Ed25519 with RDFC-1.0), in document order. */
export function eddsaProofs(c: Json): Json[] {
  return asArray(c.proof as Json | Json[]).filter(
    (p) => isObject(p) && p.type === 'DataIntegrityProof' && EDDSA_SUITES.includes(String(p.cryptosuite)),
  );
}

/**
 * Checks the embedded proof, then whether the key speaks for the issuer. The two are reported
 * apart: a valid signature by a key the issuer never listed is a failed `issuer` check, not a
 * failed `signature` check.
 */
export async function checkDataIntegrity(c: Json, loader: DocumentLoader): Promise<VerificationCheck[]> {
  const proofs = eddsaProofs(c);
  if (proofs.length === 0) {
    const kinds = asArray(c.proof as Json | Json[]).map((p) =>
      isObject(p) ? `${p.type}${p.cryptosuite ? `/${p.cryptosuite}` : ''}` : '?',
    );
    return [
      {
        check: 'signature',
        ok: false,
        message: kinds.length
          ? `No proof Laurel can check (found ${kinds.join(', ')}; it checks DataIntegrityProof with eddsa-rdfc-2022).`
          : 'The credential carries no proof.',
      },
    ];
  }
  const proof = proofs[0]!;
  const vm = idOf(proof.verificationMethod);
  if (!vm) return [{ check: 'signature', ok: false, message: 'The proof names no verification method.' }];
  if (proof.proofPurpose !== 'assertionMethod')
    return [
      {
        check: 'signature',
        ok: false,
        message: `The proof's purpose is ${String(proof.proofPurpose)}, not assertionMethod.`,
      },
    ];
  let key: ResolvedKey;
  try {
    key = await resolveVerificationMethod(loader, vm);
  } catch (err) {
    return [
      {
        check: 'signature',
        ok: false,
        message: `${(err as Error).message}, so the signature cannot be checked.`,
      },
    ];
  }

  const issuerId = idOf(c.issuer);
  const signature = await verifySignatureOnly(c, proof, key, issuerId ?? '', loader);
  return [signature, await checkKeyIssuer(key, issuerId, loader)];
}

async function verifySignatureOnly(
  c: Json,
  proof: Json,
  key: ResolvedKey,
  issuerId: string,
  loader: DocumentLoader,
): Promise<VerificationCheck> {
  // Dates and issuer binding are checked (and reported) on their own: here the library checks
  // the signature alone, against the key already resolved, as of the credential's own start date.
  const keyLoader: DocumentLoader = async (url) =>
    url === key.id ? { contextUrl: null, documentUrl: url, document: key.document } : loader(url);
  const credential = { ...c, proof: [proof] };
  const suite = new DataIntegrityProof({ cryptosuite: { ...cryptosuite, name: String(proof.cryptosuite) } });
  const at = str(c.validFrom) ?? str(c.issuanceDate) ?? undefined;
  let verified: vc.VerifyResult;
  try {
    verified = await vc.verifyCredential({
      credential,
      suite,
      documentLoader: keyLoader,
      checkStatus: async () => ({ verified: true }),
      ...(at ? { now: at } : {}),
      controller: { id: issuerId, assertionMethod: [key.id] },
    });
  } catch (err) {
    return {
      check: 'signature',
      ok: false,
      message: `The proof could not be checked: ${(err as Error).message}.`,
    };
  }
  if (verified.verified)
    return { check: 'signature', ok: true, message: `Signed with ${key.id} (${String(proof.cryptosuite)}).` };
  const reasons = [
    ...(verified.error?.errors ?? []).map((e) => e.message),
    ...(verified.results ?? []).map((r) => r.error?.message).filter(Boolean),
    verified.error && !verified.error.errors ? verified.error.message : undefined,
  ].filter((m, i, all): m is string => !!m && all.indexOf(m) === i);
  return {
    check: 'signature',
    ok: false,
    message: `The signature does not match the credential (it was changed after signing, or signed by another key): ${reasons.join('; ') || 'not verified'}.`,
  };
}

/**
 * The 1EdTech rule: the key's controller is the issuer, and (where the issuer publishes a profile
 * or DID document) that document lists the key under assertionMethod.
 */
export async function checkKeyIssuer(
  key: ResolvedKey,
  issuerId: string | null,
  loader: DocumentLoader,
): Promise<VerificationCheck> {
  if (!issuerId) return { check: 'issuer', ok: false, message: 'The credential names no issuer.' };
  if (key.controller !== issuerId)
    return {
      check: 'issuer',
      ok: false,
      message: `The signing key ${key.id} belongs to ${key.controller ?? 'no one named'}, not to the issuer ${issuerId}.`,
    };
  // A bare did:key is its own controller document.
  if (key.id === issuerId && issuerId.startsWith('did:key:'))
    return { check: 'issuer', ok: true, message: `Signed by the issuer's own key ${issuerId}.` };
  const controllerDoc = await tryLoad(loader, issuerId);
  if (!isObject(controllerDoc))
    return {
      check: 'issuer',
      ok: false,
      message: `The issuer's profile ${issuerId} could not be loaded to confirm that it uses the key ${key.id}.`,
    };
  const listed = asArray(controllerDoc.assertionMethod as unknown[]).some((m) => idOf(m) === key.id);
  return listed
    ? { check: 'issuer', ok: true, message: `The issuer ${issuerId} lists the key ${key.id}.` }
    : {
        check: 'issuer',
        ok: false,
        message: `The issuer ${issuerId} does not list the key ${key.id} under assertionMethod.`,
      };
}
