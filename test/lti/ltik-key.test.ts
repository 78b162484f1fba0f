/**
 * LTI_KEY is handed to jsonwebtoken as a secret KeyObject where ltijs passes it as a string
 * (src/lti/ltik.ts): the tokens are exactly those of the string key, checks refuse what they
 * refused, and every other key goes through as before.
 */
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { handLtiKeyToJsonwebtoken, verifyLtik } from '../../src/lti/ltik.js';

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

describe('LTI_KEY as a KeyObject for jsonwebtoken', () => {
  const ltiKey = randomBytes(24).toString('hex');
  beforeAll(() => handLtiKeyToJsonwebtoken(ltiKey));

  it('signs exactly as HMAC-SHA256 with the key’s bytes, and verifies with the string', () => {
    const payload = { platformUrl: 'https://lms.example.edu', clientId: 'c1', user: '4', contextId: 'k' };
    const token = jwt.sign(payload, ltiKey, { noTimestamp: true });
    const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
    const mac = createHmac('sha256', Buffer.from(ltiKey, 'utf8')).update(head).digest('base64url');
    expect(token).toBe(`${head}.${mac}`);
    expect(jwt.verify(token, ltiKey)).toEqual(payload);
    expect(verifyLtik(token, ltiKey)).toEqual(payload);
  });

  it('refuses a token of another key, a tampered one and an unsigned one', () => {
    const other = jwt.sign({ user: '4' }, `${ltiKey}x`);
    expect(() => jwt.verify(other, ltiKey)).toThrow(/invalid signature/);
    const [h, , s] = jwt.sign({ user: '4' }, ltiKey).split('.');
    expect(() => jwt.verify(`${h}.${b64url('{"user":"5"}')}.${s}`, ltiKey)).toThrow(/invalid signature/);
    const none = `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url('{"user":"4"}')}.`;
    expect(() => jwt.verify(none, ltiKey)).toThrow(/signature is required/);
  });

  it('leaves other keys alone: another secret string, and RSA keys in PEM', () => {
    const secret = randomBytes(16).toString('hex');
    expect(jwt.verify(jwt.sign({ a: 1 }, secret), secret)).toMatchObject({ a: 1 });
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const token = jwt.sign({ b: 2 }, pem, { algorithm: 'RS256' });
    expect(jwt.verify(token, publicPem, { algorithms: ['RS256'] })).toMatchObject({ b: 2 });
    // An HS256 token may not be checked against a public key, as before.
    expect(() => jwt.verify(jwt.sign({ c: 3 }, ltiKey), publicPem)).toThrow();
  });
});
