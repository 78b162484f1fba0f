import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';
import type { Context } from '../context.js';
import type { PlatformDoc } from '../db/models/platform.js';
import { admitDeployment } from '../platforms/service.js';
import { checkTokenTimes, DEFAULT_CLOCK_SKEW_S } from '../security/tokenTimes.js';
import { CLAIMS, type Claims } from './claims.js';
import { NONCE_REUSED, type LtiDatabase } from './database.js';
import { LoginStateStore, type LoginStateDoc } from './login-states.js';
import { platformKeysets } from './platformKeys.js';
import { LaunchRefusal, refusal } from './refusals.js';

/** The maximum age of an id_token (its `iat`); ltijs's 10 s default leaves no room for a slow network. */
export const TOKEN_MAX_AGE_S = 60;

/** How far ahead of Laurel's clock an id_token's `iat` or `nbf` may lie, and how long after its `exp` it still counts. */
export const ID_TOKEN_CLOCK_SKEW_S = DEFAULT_CLOCK_SKEW_S;

/**
 * The time claims of an id_token (OIDC Core §3.1.3.7 and §2): `iat` and `exp` present, `iat` at most
 * TOKEN_MAX_AGE_S old and at most ID_TOKEN_CLOCK_SKEW_S ahead, `nbf` (where given) no further ahead,
 * and `exp` at most ID_TOKEN_CLOCK_SKEW_S past. Answers the refusal, or undefined when they hold.
 *
 * ltijs checks `exp` and `nbf` (jsonwebtoken, no leeway) and the age of `iat`, but accepts an `iat`
 * in the future and a token without `iat` or `exp`: Laurel runs this before ltijs sees a launch
 * (launch.ts, preLaunchChecks) and again on the verified payload of its cookieless path.
 */
export function idTokenTimeRefusal(
  claims: Readonly<Record<string, unknown>>,
  now: Date,
): LaunchRefusal | undefined {
  const problem = checkTokenTimes(claims, now, ID_TOKEN_CLOCK_SKEW_S, {
    require: ['iat', 'exp'],
    maxAgeSeconds: TOKEN_MAX_AGE_S,
  });
  if (!problem) return undefined;
  switch (problem.code) {
    case 'expired':
    case 'too_old':
      return refusal.expired();
    case 'issued_in_future':
    case 'not_yet_valid':
      return refusal.clockSkew(problem.bySeconds, ID_TOKEN_CLOCK_SKEW_S);
    default:
      return refusal.invalidLaunch();
  }
}

/** What ltijs keeps of a platform and Laurel needs here (its `platform` document). */
export type LtiPlatformRecord = {
  platformUrl: string;
  clientId: string;
  authEndpoint: string;
  kid: string;
  authConfig: { method: string; key: string };
};

export async function ltiPlatformRecord(
  db: LtiDatabase,
  issuer: string,
  clientId: string | undefined,
): Promise<LtiPlatformRecord | null> {
  const found = await db.Get(
    false,
    'platform',
    clientId ? { platformUrl: issuer, clientId } : { platformUrl: issuer },
  );
  return found ? (found[0] as unknown as LtiPlatformRecord) : null;
}

/** ltijs's own rule: a platform is active unless its status says otherwise. */
export async function platformIsActive(db: LtiDatabase, record: LtiPlatformRecord): Promise<boolean> {
  const status = await db.Get(false, 'platformStatus', { id: record.kid });
  return !status || status[0]!.active !== false;
}

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** The LTI 1.3 claims ltijs insists on (its claimValidation), with the same outcome: an invalid launch. */
function checkLtiClaims(payload: Claims): void {
  const type = payload[CLAIMS.messageType];
  if (type !== 'LtiResourceLinkRequest' && type !== 'LtiDeepLinkingRequest') throw refusal.invalidLaunch();
  if (type === 'LtiResourceLinkRequest') {
    const link = payload['https://purl.imsglobal.org/spec/lti/claim/resource_link'] as
      { id?: unknown } | undefined;
    if (!text(payload['https://purl.imsglobal.org/spec/lti/claim/target_link_uri']) || !text(link?.id))
      throw refusal.invalidLaunch();
  }
  if (payload['https://purl.imsglobal.org/spec/lti/claim/version'] !== '1.3.0') throw refusal.invalidLaunch();
  if (!text(payload[CLAIMS.deploymentId]) || !text(payload.sub)) throw refusal.invalidLaunch();
  if (!Array.isArray(payload[CLAIMS.roles])) throw refusal.invalidLaunch();
}

/**
 * Verifies the id_token of a cookieless launch with every check ltijs makes on its cookie path, and
 * some it does not: RS256 signature with the platform's published key (by kid), `iss` = the login's
 * issuer, `aud` naming the login's client id (with `azp` when there are several), `iat`, `exp` and
 * `nbf` (idTokenTimeRefusal), the nonce Laurel issued with this state and never seen before
 * (ltijs's nonce store: the same unique index stops a replay through either path), the LTI claims,
 * and a registered deployment (a new one admitted or listed by the platform's deployment policy). Answers the payload, or throws a LaunchRefusal.
 */
export async function verifyCookielessIdToken(
  ctx: Context,
  db: LtiDatabase,
  idToken: string,
  login: LoginStateDoc,
): Promise<Claims> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: Claims;
  try {
    header = decodeProtectedHeader(idToken);
    unverified = decodeJwt(idToken) as Claims;
  } catch {
    throw refusal.invalidLaunch();
  }
  if (header.alg !== 'RS256' || !text(header.kid)) throw refusal.badSignature();
  if (unverified.iss !== login.issuer) throw refusal.stateMismatch();
  const audiences = Array.isArray(unverified.aud) ? unverified.aud : [unverified.aud];
  if (!audiences.includes(login.clientId)) throw refusal.wrongAudience();
  if (audiences.length > 1 && unverified.azp !== login.clientId) throw refusal.wrongAudience();

  const record = await ltiPlatformRecord(db, login.issuer, login.clientId);
  const platform = await ctx.models.platforms
    .findOne({ issuer: login.issuer, clientId: login.clientId })
    .lean<PlatformDoc>();
  if (!record || !platform) throw refusal.unknownPlatform();
  if (!(await platformIsActive(db, record))) throw refusal.inactivePlatform();

  const jwk = (await platformKeysets(ctx).keys(record.authConfig.key, header.kid)).find(
    (k) => k.kid === header.kid,
  );
  if (!jwk) throw refusal.badSignature();
  let payload: Claims;
  try {
    const key = await importJWK({ ...jwk, alg: 'RS256' }, 'RS256');
    const verified = await compactVerify(idToken, key, { algorithms: ['RS256'] });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Claims;
  } catch {
    throw refusal.badSignature();
  }

  const timeRefusal = idTokenTimeRefusal(payload, ctx.now());
  if (timeRefusal) throw timeRefusal;
  if (!text(payload.nonce)) throw refusal.missingNonce();
  if (!LoginStateStore.nonceMatches(login, payload.nonce)) throw refusal.invalidLaunch();
  checkLtiClaims(payload);
  if ((await admitDeployment(ctx, platform, payload[CLAIMS.deploymentId] as string)) === 'pending')
    throw refusal.unknownDeployment();
  try {
    await db.Insert(false, 'nonce', { nonce: payload.nonce });
  } catch (err) {
    if ((err as Error).message === NONCE_REUSED) throw refusal.reusedNonce();
    throw err;
  }
  return payload;
}
