import * as nodeCrypto from 'node:crypto';

/**
 * node:crypto's one-shot `hash` (Node 20.12 and later): for the short inputs of signing it takes
 * about half the time of `createHash(…).update(…).digest()`, with the same bytes out.
 */
const oneShot = (nodeCrypto as { hash?: typeof nodeCrypto.hash }).hash;

/** SHA-256 of a string's UTF-8 bytes, as lowercase hex. */
export const sha256Hex = (text: string): string =>
  oneShot
    ? oneShot('sha256', text, 'hex')
    : nodeCrypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** SHA-256 of a string's UTF-8 bytes. */
export const sha256Bytes = (text: string): Buffer =>
  oneShot ? oneShot('sha256', text, 'buffer') : nodeCrypto.createHash('sha256').update(text, 'utf8').digest();
