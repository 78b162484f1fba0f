import { decodeJwt, decodeProtectedHeader } from 'jose';
import { isPng, unbakePng, unbakeSvg } from './bake.js';
import {
  createDocumentLoader,
  didKeyResolver,
  type DocumentLoader,
  type DocumentResolver,
} from './documentLoader.js';
import { fetchJson, offlineFetcher, type Fetcher } from './fetcher.js';
import {
  checkCredentialStatus,
  checkDates,
  checkOb3Shape,
  asArray,
  idOf,
  isObject,
  result,
  str,
} from './verifyChecks.js';
import type { Json, VerificationResult } from './verifyChecks.js';
import { checkClrShape, checkHeldCredentials, clrCredentials, isClrCredential } from './verifyClr.js';
import { checkDataIntegrity, withKeyResolution } from './verifyDataIntegrity.js';
import { COMPACT_JWS, verifyJwtCredential } from './verifyJwt.js';
import { verifyHostedAssertion, verifySignedAssertion } from './verifyOb2.js';

export type { CheckName, VerificationCheck, VerificationResult } from './verifyChecks.js';

export type VerifyOptions = {
  /** The moment to verify at (expiry). Default: now. */
  now?: Date;
  /** Documents known without fetching (issuer profiles, keys, status lists), tried before the fetcher. */
  resolvers?: readonly DocumentResolver[];
  /** How to reach other issuers' documents; by default nothing is fetched. Contexts never are. */
  fetcher?: Fetcher;
  /** Clock skew allowed on dates, in seconds. Default 300 (as @digitalbazaar/vc). */
  maxClockSkewSeconds?: number;
};

/**
 * Verifies a badge from anywhere: an OB 3.0 credential (Data Integrity proof, or VC-JWT), an
 * OB 2.0 assertion (hosted, or signed), as JSON, a compact JWS, a hosted URL, or baked into a
 * PNG or SVG; or a CLR 2.0 learner record (ClrCredential) with the credentials it holds. Never throws for bad input: the result names each check and whether it passed.
 */
export async function verifyBadge(
  input: Uint8Array | string | Json,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  try {
    return await dispatch(input, options);
  } catch (err) {
    return result('unknown', null, [
      { check: 'format', ok: false, message: `The badge could not be read: ${(err as Error).message}.` },
    ]);
  }
}

async function dispatch(
  input: Uint8Array | string | Json,
  options: VerifyOptions,
): Promise<VerificationResult> {
  if (input instanceof Uint8Array) {
    if (isPng(input)) {
      const baked = unbakePng(input);
      if (!baked)
        return notFound('The PNG carries no baked badge (no openbadgecredential or openbadges chunk).');
      return dispatch(baked.text, options);
    }
    return dispatch(Buffer.from(input).toString('utf8'), options);
  }
  if (typeof input !== 'string') return verifyObject(input, options);
  const text = input.trim();
  if (text.startsWith('<')) {
    const baked = unbakeSvg(text);
    if (!baked)
      return notFound('The SVG carries no baked badge (no openbadges:credential or openbadges:assertion).');
    if (baked.text && baked.text.startsWith('{')) return verifyObject(parseJson(baked.text), options);
    if (baked.verify) return dispatch(baked.verify, options);
    if (baked.text) return dispatch(baked.text, options);
    return notFound('The SVG badge element is empty.');
  }
  if (text.startsWith('{')) return verifyObject(parseJson(text), options);
  if (COMPACT_JWS.test(text)) {
    const payload = decodeJwt(text) as Json;
    const looksOb2 = !isObject(payload.vc) && (payload.type === 'Assertion' || isObject(payload.recipient));
    if (looksOb2) return verifySignedAssertion(text, settings(options));
    const kid = decodeProtectedHeader(text).kid;
    const credential = isObject(payload.vc) ? payload.vc : payload;
    return verifyJwtCredential(text, ob3Settings(credential, options, typeof kid === 'string' ? [kid] : []));
  }
  if (/^https?:\/\//.test(text)) {
    // A hosted URL: an OB 2.0 assertion, or an OB 3.0 credential published at its id.
    const fetched = await fetchJson(options.fetcher ?? offlineFetcher, text).catch(() => null);
    if (isObject(fetched) && asArray(fetched.type as string[]).includes('VerifiableCredential'))
      return verifyObject(fetched, options);
    return verifyHostedAssertion(text, settings(options));
  }
  return notFound('Not a badge: expected JSON, a JWS, a URL, or a baked PNG or SVG.');
}

function verifyObject(value: Json, options: VerifyOptions): Promise<VerificationResult> {
  const types = asArray(value.type as string | string[]);
  if (types.includes('VerifiableCredential') && isClrCredential(value))
    return verifyClrCredential(value, options);
  if (types.includes('VerifiableCredential')) return verifyDataIntegrityCredential(value, options);
  if (types.includes('Assertion') || isObject(value.recipient)) {
    const verification = isObject(value.verification)
      ? value.verification
      : isObject(value.verify)
        ? value.verify
        : {};
    if (verification.type === 'SignedBadge' || verification.type === 'signed')
      return Promise.resolve(
        result('ob2-signed', value, [
          {
            check: 'format',
            ok: false,
            message: 'A signed OB 2.0 assertion must be verified from its JWS, not its JSON.',
          },
        ]),
      );
    return verifyHostedAssertion(value, settings(options));
  }
  return Promise.resolve(notFound('Not a badge: neither a Verifiable Credential nor an OB 2.0 Assertion.'));
}

/** An OB 3.0 credential with an embedded proof: shape, signature, issuer binding, dates, status. */
export async function verifyDataIntegrityCredential(
  credential: Json,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  const { loader, fetcher, now, skewMs } = ob3Settings(credential, options);
  const checks = [checkOb3Shape(credential)];
  checks.push(...(await checkDataIntegrity(credential, loader)));
  checks.push(checkDates(credential, now, skewMs));
  checks.push(await checkCredentialStatus(credential, loader, fetcher));
  return result('ob3-data-integrity', credential, checks);
}

/**
 * A CLR 2.0 learner record: its shape, its own proof (by the record's publisher), its dates and
 * status, and then each credential it holds, verified on its own as if it had come alone (its
 * own issuer, key, dates and status). Any change to the record, or to a credential in it, fails.
 */
export async function verifyClrCredential(
  record: Json,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  const { loader, fetcher, now, skewMs } = ob3Settings(record, options);
  const checks = [checkClrShape(record)];
  checks.push(...(await checkDataIntegrity(record, loader)));
  checks.push(checkDates(record, now, skewMs));
  checks.push(await checkCredentialStatus(record, loader, fetcher));
  const embedded: VerificationResult[] = [];
  // One at a time: a record may hold hundreds, and each may load its issuer and status list.
  for (const held of clrCredentials(record))
    embedded.push(
      isObject(held)
        ? await verifyDataIntegrityCredential(held, options)
        : result('unknown', null, [
            { check: 'format', ok: false, message: 'Not a credential (not a JSON object).' },
          ]),
    );
  checks.push(checkHeldCredentials(embedded));
  return { ...result('clr-data-integrity', record, checks), embedded };
}

function settings(options: VerifyOptions) {
  return {
    fetcher: options.fetcher ?? offlineFetcher,
    now: options.now ?? new Date(),
    skewMs: (options.maxClockSkewSeconds ?? 300) * 1000,
  };
}

/**
 * The loader for verifying one OB 3.0 credential: bundled contexts, the caller's documents,
 * did:key, and then (only for the URLs the credential itself names as its issuer, keys and status
 * list) the fetcher. A context the credential names but Laurel does not bundle is never fetched.
 */
function ob3Settings(credential: Json, options: VerifyOptions, keyUrls: readonly string[] = []) {
  const base = settings(options);
  const fetchable = new Set<string>(keyUrls.map((k) => k.replace(/#.*$/, '')));
  {
    const issuer = idOf(credential.issuer);
    if (issuer) fetchable.add(issuer);
    for (const proof of asArray(credential.proof as Json | Json[])) {
      const vm = isObject(proof) ? idOf(proof.verificationMethod) : null;
      if (vm) fetchable.add(vm.replace(/#.*$/, ''));
    }
    for (const entry of asArray(credential.credentialStatus as Json | Json[]))
      if (isObject(entry)) {
        const list = str(entry.statusListCredential);
        if (list) fetchable.add(list);
      }
  }
  const fetchResolver: DocumentResolver = async (url) => {
    const bare = url.replace(/#.*$/, '');
    if (!/^https?:\/\//.test(url) || !fetchable.has(bare)) return undefined;
    return fetchJson(base.fetcher, bare).catch(() => undefined);
  };
  const loader: DocumentLoader = withKeyResolution(
    createDocumentLoader([...(options.resolvers ?? []), didKeyResolver, fetchResolver]),
  );
  return { ...base, loader };
}

function parseJson(text: string): Json {
  const value = JSON.parse(text) as unknown;
  if (!isObject(value)) throw new Error('the JSON is not an object');
  return value;
}

const notFound = (message: string) => result('unknown', null, [{ check: 'format', ok: false, message }]);
