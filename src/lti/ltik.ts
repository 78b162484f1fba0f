import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** The claims of an ltik (ltijs's launch token, signed with LTI_KEY). */
export type LtikPayload = {
  platformUrl: string;
  clientId: string;
  deploymentId: string;
  contextId: string;
  user: string;
  s?: string;
  iat?: number;
};

const keys = new Map<string, KeyObject>();

/**
 * LTI_KEY as a secret KeyObject, made once. Given a string, jsonwebtoken first tries to read it as
 * a PEM public key and builds an exception when that fails, on every verification: a measurable
 * part of each course page's CPU.
 */
function secretKey(ltiKey: string): KeyObject {
  let key = keys.get(ltiKey);
  if (!key) {
    key = createSecretKey(Buffer.from(ltiKey, 'utf8'));
    keys.set(ltiKey, key);
  }
  return key;
}

/** The verified claims of an ltik (HS256 with LTI_KEY only); throws when it is not one. */
export function verifyLtik(ltik: string, ltiKey: string): LtikPayload {
  return jwt.verify(ltik, secretKey(ltiKey), { algorithms: ['HS256'] }) as LtikPayload;
}

const ltijsKeys = new Set<string>();
let handedOver = false;

/**
 * ltijs signs every launch's ltik (and checks the ltiks it is given) with LTI_KEY as a string, and
 * jsonwebtoken, given a string, first tries to read it as a PEM key: about a millisecond of
 * OpenSSL's decoders and an exception per launch before it uses the string as the HMAC secret it
 * is. For exactly this key jsonwebtoken is handed that secret KeyObject instead (the same bytes, the
 * same algorithm checks); every other key goes through untouched. ltijs calls `jwt.sign` and
 * `jwt.verify` on the module it shares with Laurel, so the exports are wrapped once per process.
 */
export function handLtiKeyToJsonwebtoken(ltiKey: string): void {
  ltijsKeys.add(ltiKey);
  if (handedOver) return;
  handedOver = true;
  const { sign, verify } = jwt;
  const keyFor = (key: unknown) => (typeof key === 'string' && ltijsKeys.has(key) ? secretKey(key) : key);
  const exports = jwt as unknown as Record<'sign' | 'verify', (...args: unknown[]) => unknown>;
  exports.sign = (payload: unknown, key: unknown, ...rest: unknown[]) =>
    (sign as (...args: unknown[]) => unknown)(payload, keyFor(key), ...rest);
  exports.verify = (token: unknown, key: unknown, ...rest: unknown[]) =>
    (verify as (...args: unknown[]) => unknown)(token, keyFor(key), ...rest);
}
