import { compactVerify, decodeJwt, decodeProtectedHeader, importSPKI } from 'jose';
import type { Fetcher } from './fetcher.js';
import {
  asArray,
  idOf,
  isObject,
  result,
  str,
  type Json,
  type VerificationCheck,
  type VerificationResult,
} from './verifyChecks.js';

type Options = { fetcher: Fetcher; now: Date; skewMs: number };

const typesOf = (v: unknown) => asArray((isObject(v) ? v.type : undefined) as string | string[]);
const validDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

async function getJson(fetcher: Fetcher, url: string): Promise<{ status: number; body: Json | null }> {
  const res = await fetcher(url.replace(/#.*$/, ''));
  let body: Json | null = null;
  try {
    const parsed = JSON.parse(res.body) as unknown;
    body = isObject(parsed) ? parsed : null;
  } catch {
    body = null;
  }
  return { status: res.status, body };
}

async function linked(fetcher: Fetcher, value: unknown, what: string): Promise<Json> {
  if (isObject(value)) return value;
  if (typeof value !== 'string') throw new Error(`${what} is missing`);
  const { status, body } = await getJson(fetcher, value);
  if (status < 200 || status > 299 || !body) throw new Error(`${what} ${value} answered HTTP ${status}`);
  return body;
}

/** Every property OB 2.0 requires of an Assertion, its BadgeClass and an issuer Profile. */
export function checkOb2Shape(assertion: Json, badge: Json | null, issuer: Json | null): VerificationCheck {
  const problems: string[] = [];
  if (!str(assertion.id)) problems.push('Assertion id is missing');
  if (!typesOf(assertion).includes('Assertion')) problems.push('Assertion type must be Assertion');
  const r = assertion.recipient;
  if (!isObject(r) || !str(r.type) || !str(r.identity) || typeof r.hashed !== 'boolean')
    problems.push('Assertion recipient needs type, identity and hashed');
  if (!assertion.badge) problems.push('Assertion badge is missing');
  const v = assertion.verification ?? assertion.verify;
  if (!isObject(v) || !v.type) problems.push('Assertion verification (with a type) is missing');
  if (!validDate(assertion.issuedOn)) problems.push('Assertion issuedOn is missing or not a date');
  if (badge) {
    if (!str(badge.id)) problems.push('BadgeClass id is missing');
    if (!typesOf(badge).includes('BadgeClass')) problems.push('BadgeClass type must be BadgeClass');
    for (const key of ['name', 'description', 'image', 'criteria', 'issuer'])
      if (!badge[key]) problems.push(`BadgeClass ${key} is missing`);
  }
  if (issuer) {
    if (!str(issuer.id)) problems.push('Issuer id is missing');
    if (!typesOf(issuer).some((t) => t === 'Issuer' || t === 'Profile'))
      problems.push('Issuer type must be Issuer or Profile');
    for (const key of ['name', 'url', 'email'])
      if (!str(issuer[key])) problems.push(`Issuer ${key} is missing`);
  }
  return problems.length
    ? { check: 'schema', ok: false, message: `Not a conformant OB 2.0 badge: ${problems.join('; ')}.` }
    : {
        check: 'schema',
        ok: true,
        message: 'Assertion, BadgeClass and Issuer have every required OB 2.0 property.',
      };
}

/** Hosted verification scope: the assertion's id on the issuer's origin, or within its verification policy. */
function inIssuerScope(assertionId: string, issuer: Json): boolean {
  const policy = isObject(issuer.verification) ? issuer.verification : null;
  const starts = asArray(policy?.startsWith as string | string[]);
  if (starts.length) return starts.some((p) => assertionId.startsWith(p));
  const host = (u: string) => {
    try {
      return new URL(u).host;
    } catch {
      return null;
    }
  };
  const allowed = asArray(policy?.allowedOrigins as string | string[]);
  if (allowed.length) return allowed.includes(host(assertionId) ?? '');
  const issuerId = str(issuer.id);
  try {
    return !!issuerId && new URL(assertionId).origin === new URL(issuerId).origin;
  } catch {
    return false;
  }
}

function summary(
  badge: Json | null,
  issuer: Json | null,
): Pick<VerificationResult, 'issuer' | 'achievement'> {
  return {
    issuer: issuer ? { id: str(issuer.id), name: str(issuer.name), url: str(issuer.url) } : null,
    achievement: badge
      ? {
          id: str(badge.id),
          name: str(badge.name),
          description: str(badge.description),
          image: idOf(badge.image),
        }
      : null,
  };
}

function expiryCheck(assertion: Json, options: Options): VerificationCheck {
  const expires = str(assertion.expires);
  if (expires && Date.parse(expires) + options.skewMs < options.now.getTime())
    return { check: 'expiry', ok: false, message: `Expired on ${expires}.` };
  return { check: 'expiry', ok: true, message: expires ? `Valid until ${expires}.` : 'Does not expire.' };
}

/**
 * OB 2.0 hosted verification: the Assertion is fetched again from its id (that copy is the
 * authority), 410 Gone or `revoked: true` means revoked, and the Assertion must live within the
 * issuer's origin (or its declared verification scope).
 */
export async function verifyHostedAssertion(
  input: Json | string,
  options: Options,
): Promise<VerificationResult> {
  const url = typeof input === 'string' ? input : str(input.id);
  if (!url || !/^https?:\/\//.test(url))
    return result('ob2-hosted', isObject(input) ? input : null, [
      {
        check: 'format',
        ok: false,
        message: 'A hosted OB 2.0 assertion needs an http(s) id to fetch it from.',
      },
    ]);
  let fetched: { status: number; body: Json | null };
  try {
    fetched = await getJson(options.fetcher, url);
  } catch (err) {
    return result('ob2-hosted', isObject(input) ? input : null, [
      {
        check: 'format',
        ok: false,
        message: `The assertion could not be fetched from ${url}: ${(err as Error).message}.`,
      },
    ]);
  }
  const assertion = fetched.body ?? (isObject(input) ? input : { id: url });
  if (fetched.status === 410 || assertion.revoked === true) {
    const reason = str(assertion.revocationReason);
    return result('ob2-hosted', assertion, [
      { check: 'status', ok: false, message: `Revoked by its issuer${reason ? `: ${reason}` : ''}.` },
    ]);
  }
  if (fetched.status < 200 || fetched.status > 299 || !fetched.body)
    return result('ob2-hosted', assertion, [
      { check: 'format', ok: false, message: `The assertion at ${url} answered HTTP ${fetched.status}.` },
    ]);
  let badge: Json | null = null;
  let issuer: Json | null = null;
  const checks: VerificationCheck[] = [];
  try {
    badge = await linked(options.fetcher, assertion.badge, 'The BadgeClass');
    issuer = await linked(options.fetcher, badge.issuer, 'The issuer profile');
  } catch (err) {
    checks.push({ check: 'format', ok: false, message: `${(err as Error).message}.` });
  }
  checks.push(checkOb2Shape(assertion, badge, issuer));
  checks.push({
    check: 'signature',
    ok: true,
    message: `Hosted verification: fetched from its own URL ${url}.`,
  });
  if (issuer) {
    const id = str(assertion.id);
    if (id !== url)
      checks.push({
        check: 'issuer',
        ok: false,
        message: `The assertion fetched from ${url} names another id, ${String(id)}.`,
      });
    else if (!inIssuerScope(id, issuer))
      checks.push({
        check: 'issuer',
        ok: false,
        message: `The assertion ${id} is not hosted where its issuer ${String(issuer.id)} allows.`,
      });
    else checks.push({ check: 'issuer', ok: true, message: `Hosted by its issuer ${String(issuer.id)}.` });
  }
  checks.push(expiryCheck(assertion, options));
  checks.push({ check: 'status', ok: true, message: 'Not revoked (the hosted assertion says so).' });
  return result('ob2-hosted', assertion, checks, summary(badge, issuer));
}

/**
 * OB 2.0 signed verification: a JWS whose payload is the Assertion, signed by a key
 * (CryptographicKey with publicKeyPem) that the issuer profile lists and owns; revocation through
 * the issuer's revocationList.
 */
export async function verifySignedAssertion(jws: string, options: Options): Promise<VerificationResult> {
  let assertion: Json;
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(jws).alg;
    assertion = decodeJwt(jws) as Json;
  } catch (err) {
    return result('ob2-signed', null, [
      { check: 'format', ok: false, message: `Not a readable signed assertion: ${(err as Error).message}.` },
    ]);
  }
  const checks: VerificationCheck[] = [];
  let badge: Json | null = null;
  let issuer: Json | null = null;
  try {
    badge = await linked(options.fetcher, assertion.badge, 'The BadgeClass');
    issuer = await linked(options.fetcher, badge.issuer, 'The issuer profile');
  } catch (err) {
    checks.push({ check: 'format', ok: false, message: `${(err as Error).message}.` });
  }
  checks.push(checkOb2Shape(assertion, badge, issuer));

  const verification = isObject(assertion.verification) ? assertion.verification : {};
  const listed = issuer
    ? asArray(issuer.publicKey as unknown[])
        .map(idOf)
        .filter((k): k is string => !!k)
    : [];
  const candidates = str(verification.creator) ? [str(verification.creator)!] : listed;
  let signer: string | null = null;
  let owner: string | null = null;
  for (const keyUrl of candidates) {
    try {
      const key = await linked(options.fetcher, keyUrl, 'The key');
      const pem = str(key.publicKeyPem);
      if (!pem || !alg) continue;
      await compactVerify(jws, await importSPKI(pem, alg), {
        algorithms: ['RS256', 'RS384', 'RS512', 'ES256'],
      });
      signer = keyUrl;
      owner = str(key.owner);
      break;
    } catch {
      // Try the issuer's next key.
    }
  }
  checks.push(
    signer
      ? { check: 'signature', ok: true, message: `Signed (${alg}) with ${signer}.` }
      : {
          check: 'signature',
          ok: false,
          message: 'The signature does not verify with any key the assertion or its issuer names.',
        },
  );
  if (signer && issuer) {
    const ok = owner === str(issuer.id) && listed.includes(signer);
    checks.push(
      ok
        ? { check: 'issuer', ok: true, message: `The issuer ${String(issuer.id)} owns and lists the key.` }
        : {
            check: 'issuer',
            ok: false,
            message: `The key ${signer} is not owned and listed by the issuer ${String(issuer?.id)}.`,
          },
    );
  }
  checks.push(expiryCheck(assertion, options));
  const listUrl = issuer ? str(issuer.revocationList) : null;
  if (!listUrl)
    checks.push({ check: 'status', ok: true, message: 'The issuer publishes no revocation list.' });
  else {
    try {
      const list = await linked(options.fetcher, listUrl, 'The revocation list');
      const hit = asArray(list.revokedAssertions as unknown[]).find((r) => idOf(r) === assertion.id);
      const reason = isObject(hit) ? str(hit.revocationReason) : null;
      checks.push(
        hit
          ? { check: 'status', ok: false, message: `Revoked by its issuer${reason ? `: ${reason}` : ''}.` }
          : { check: 'status', ok: true, message: 'Not on the issuer’s revocation list.' },
      );
    } catch (err) {
      checks.push({ check: 'status', ok: false, message: `${(err as Error).message}.` });
    }
  }
  return result('ob2-signed', assertion, checks, summary(badge, issuer));
}
