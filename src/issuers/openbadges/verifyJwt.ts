import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import type { DocumentLoader } from './documentLoader.js';
import type { Fetcher } from './fetcher.js';
import {
  asArray,
  checkCredentialStatus,
  checkDates,
  checkOb3Shape,
  idOf,
  isObject,
  result,
  type Json,
  type VerificationCheck,
  type VerificationResult,
} from './verifyChecks.js';

/** The JWS algorithms accepted for VC-JWT (OB 3.0 names RS256 as the minimum; ES256 and EdDSA are common). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

type FoundJwk = { jwk: JWK; controller: string | null };

/** A JWK for `kid` in a loaded document: a bare JWK, a JWK set, or a JsonWebKey method (possibly listed in a profile). */
function jwkIn(doc: unknown, kid: string, depth = 0): FoundJwk | null {
  if (depth > 4) return null;
  if (Array.isArray(doc)) {
    for (const v of doc) {
      const found = jwkIn(v, kid, depth + 1);
      if (found) return found;
    }
    return null;
  }
  if (!isObject(doc)) return null;
  if (depth === 0 && typeof doc.kty === 'string') return { jwk: doc as JWK, controller: null };
  if (isObject(doc.publicKeyJwk) && (doc.id === kid || (depth === 0 && !doc.id)))
    return { jwk: doc.publicKeyJwk as JWK, controller: idOf(doc.controller) };
  if (Array.isArray(doc.keys)) {
    const key = doc.keys.find((k) => isObject(k) && (k.kid === kid || kid.endsWith(`#${String(k.kid)}`)));
    if (isObject(key)) return { jwk: key as JWK, controller: null };
  }
  for (const v of Object.values(doc)) {
    if (typeof v !== 'object' || v === null) continue;
    const found = jwkIn(v, kid, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Dereferences a `kid` URL (or the document before its `#`) to its JWK. */
async function resolveJwk(loader: DocumentLoader, kid: string): Promise<FoundJwk> {
  const base = kid.split('#', 1)[0]!;
  for (const url of base === kid ? [kid] : [kid, base]) {
    let doc: unknown;
    try {
      doc = (await loader(url)).document;
    } catch {
      continue;
    }
    const found = jwkIn(doc, kid);
    if (found) return found;
  }
  throw new Error(`the key ${kid} could not be found`);
}

/**
 * Verifies an OB 3.0 credential secured as a VC-JWT (compact JWS, payload the credential or, for
 * VCDM 1.1 era tokens, its `vc` claim). The key comes from `kid` (dereferenced through the
 * loader) or an embedded `jwk`; only a `kid` controlled by the issuer proves who issued it.
 */
export async function verifyJwtCredential(
  jws: string,
  options: { loader: DocumentLoader; fetcher: Fetcher; now: Date; skewMs: number },
): Promise<VerificationResult> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: Json;
  try {
    header = decodeProtectedHeader(jws);
    payload = decodeJwt(jws) as Json;
  } catch (err) {
    return result('ob3-jwt', null, [
      { check: 'format', ok: false, message: `Not a readable JWT: ${(err as Error).message}.` },
    ]);
  }
  const credential = isObject(payload.vc) ? payload.vc : payload;
  const checks: VerificationCheck[] = [checkOb3Shape(credential)];
  const issuerId = idOf(credential.issuer);

  let controller: string | null = null;
  let keySource = '';
  try {
    if (!header.alg || !ALGORITHMS.includes(header.alg))
      throw new Error(`the algorithm ${String(header.alg)} is not accepted (${ALGORITHMS.join(', ')})`);
    let jwk: JWK;
    if (typeof header.kid === 'string' && /^(https?|did):/.test(header.kid)) {
      ({ jwk, controller } = await resolveJwk(options.loader, header.kid));
      keySource = header.kid;
    } else if (header.jwk) {
      if ('d' in header.jwk) throw new Error('the embedded jwk carries a private key');
      jwk = header.jwk as JWK;
      keySource = 'the key embedded in the token';
    } else throw new Error('the token names no key (kid or jwk)');
    await compactVerify(jws, await importJWK(jwk, header.alg), { algorithms: ALGORITHMS });
    checks.push({ check: 'signature', ok: true, message: `Signed (${header.alg}) with ${keySource}.` });
  } catch (err) {
    checks.push({
      check: 'signature',
      ok: false,
      message: `The token's signature does not verify: ${(err as Error).message}.`,
    });
  }

  const iss = typeof payload.iss === 'string' ? payload.iss : null;
  if (!issuerId) checks.push({ check: 'issuer', ok: false, message: 'The credential names no issuer.' });
  else if (iss && iss !== issuerId)
    checks.push({
      check: 'issuer',
      ok: false,
      message: `The token's iss ${iss} is not the credential's issuer ${issuerId}.`,
    });
  else if (controller !== issuerId)
    checks.push({
      check: 'issuer',
      ok: false,
      message: controller
        ? `The signing key belongs to ${controller}, not to the issuer ${issuerId}.`
        : `Nothing ties the signing key to the issuer ${issuerId} (no kid controlled by the issuer).`,
    });
  else {
    let listed = false;
    try {
      const profile = (await options.loader(issuerId)).document;
      listed =
        isObject(profile) &&
        asArray(profile.assertionMethod as unknown[]).some((m) => idOf(m) === header.kid);
    } catch {
      listed = false;
    }
    checks.push(
      listed
        ? {
            check: 'issuer',
            ok: true,
            message: `The issuer ${issuerId} lists the key ${String(header.kid)}.`,
          }
        : {
            check: 'issuer',
            ok: false,
            message: `The issuer ${issuerId} does not list the key ${String(header.kid)}.`,
          },
    );
  }

  const dates = checkDates(credential, options.now, options.skewMs);
  const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  const nbf = typeof payload.nbf === 'number' ? payload.nbf * 1000 : null;
  if (dates.ok && exp !== null && exp + options.skewMs < options.now.getTime())
    checks.push({
      check: 'expiry',
      ok: false,
      message: `The token expired on ${new Date(exp).toISOString()}.`,
    });
  else if (dates.ok && nbf !== null && nbf - options.skewMs > options.now.getTime())
    checks.push({
      check: 'expiry',
      ok: false,
      message: `The token is not valid before ${new Date(nbf).toISOString()}.`,
    });
  else checks.push(dates);

  checks.push(await checkCredentialStatus(credential, options.loader, options.fetcher));
  return result('ob3-jwt', credential, checks);
}
