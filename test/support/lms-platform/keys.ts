/**
 * The platform's signing keys (RSA 2048, RS256) and their JWKS, plus verification of JWTs that tools sign,
 * against the tool's JWKS fetched over HTTP.
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JsonWebKey & { kid: string; alg: 'RS256'; use: 'sig' };
}

export interface JwkSet {
  keys: (JsonWebKey & { kid?: string })[];
}

/** RFC 7638 thumbprint of an RSA public key: a stable kid. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = thumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

export class PlatformKeys {
  private keys: SigningKey[] = [generateSigningKey()];

  get current(): SigningKey {
    return this.keys[this.keys.length - 1];
  }

  get kid(): string {
    return this.current.kid;
  }

  /** Public keys, newest last; rotated-out keys stay published so tokens they signed still verify. */
  jwks(): JwkSet {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  rotate(): SigningKey {
    const next = generateSigningKey();
    this.keys.push(next);
    return next;
  }

  /**
   * Signs with the current key (an `iat` in the payload is kept; jsonwebtoken adds one when missing).
   * `forgeWith` signs with another key while keeping the current kid: a bad signature.
   */
  sign(payload: Record<string, unknown>, forgeWith?: KeyObject): string {
    return jwt.sign(payload, forgeWith ?? this.current.privateKey, {
      algorithm: 'RS256',
      keyid: this.current.kid,
    });
  }

  /**
   * Signs exactly these claims: nothing added (no `iat` when there is none), nothing checked (a claim
   * may be malformed on purpose), for id_tokens whose claims a test spoils.
   */
  signExact(payload: Record<string, unknown>, forgeWith?: KeyObject): string {
    // A string payload is signed as it is: jsonwebtoken neither validates it nor adds a timestamp.
    return jwt.sign(JSON.stringify(payload), forgeWith ?? this.current.privateKey, {
      algorithm: 'RS256',
      keyid: this.current.kid,
    });
  }

  /** Verifies a token this platform signed itself (registration tokens, message hints). */
  verifyOwn(token: string): JwtPayload {
    const header = jwt.decode(token, { complete: true })?.header;
    const key = this.keys.find((k) => k.kid === header?.kid);
    if (!key) throw new JwtCheckError('unknown_kid', 'token was not signed by this platform');
    const publicKey = createPublicKey({ key: key.publicJwk, format: 'jwk' });
    try {
      return jwt.verify(token, publicKey, { algorithms: ['RS256'] }) as JwtPayload;
    } catch (err) {
      throw new JwtCheckError('invalid_token', (err as Error).message);
    }
  }
}

/** A refused JWT: `code` says why, in words tests can match. */
export class JwtCheckError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'JwtCheckError';
  }
}

export async function fetchJwks(url: string): Promise<JwkSet> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' } });
  } catch (err) {
    throw new JwtCheckError('jwks_unreachable', `could not fetch ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new JwtCheckError('jwks_unreachable', `${url} answered ${res.status}`);
  const body = (await res.json()) as Partial<JwkSet>;
  if (!Array.isArray(body.keys)) throw new JwtCheckError('jwks_invalid', `${url} has no "keys" array`);
  return { keys: body.keys };
}

export function decodeJwt(token: string): { header: jwt.JwtHeader; payload: JwtPayload } {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') {
    throw new JwtCheckError('malformed', 'not a JWT with a JSON payload');
  }
  return { header: decoded.header, payload: decoded.payload };
}

/**
 * Verifies an RS256 JWT with the key named by its `kid` in the JWKS at `jwksUrl` (a set with one key also
 * serves a token without kid). Checks signature and `exp`; further claim checks belong to the caller,
 * which passes jsonwebtoken options (audience, issuer…).
 */
export async function verifyWithJwks(
  token: string,
  jwksUrl: string,
  options: jwt.VerifyOptions = {},
): Promise<JwtPayload> {
  const { header } = decodeJwt(token);
  if (header.alg !== 'RS256') throw new JwtCheckError('bad_alg', `alg ${header.alg} is not RS256`);
  const { keys } = await fetchJwks(jwksUrl);
  const jwk = header.kid ? keys.find((k) => k.kid === header.kid) : keys.length === 1 ? keys[0] : undefined;
  if (!jwk) throw new JwtCheckError('unknown_kid', `no key "${header.kid ?? ''}" in ${jwksUrl}`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  } catch (err) {
    throw new JwtCheckError('jwks_invalid', `key ${header.kid ?? ''} is unusable: ${(err as Error).message}`);
  }
  try {
    return jwt.verify(token, publicKey, { ...options, algorithms: ['RS256'] }) as JwtPayload;
  } catch (err) {
    const e = err as Error;
    if (e instanceof jwt.TokenExpiredError) throw new JwtCheckError('expired', e.message);
    if (e.message === 'invalid signature') throw new JwtCheckError('bad_signature', e.message);
    throw new JwtCheckError('invalid_claims', e.message);
  }
}
