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
