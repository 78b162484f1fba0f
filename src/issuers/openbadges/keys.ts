import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { type Ed25519KeyPair } from '@digitalbazaar/ed25519-multikey';
import type { IssuerKey } from '../../db/models/issuerProfile.js';
import type { Sealer } from '../../security/encryption.js';
import { CONTEXT } from './contexts.js';

/** A fresh Ed25519 key, its secret half sealed at once; the plain secret never leaves this function. */
export async function generateIssuerKey(sealer: Sealer, now: Date): Promise<IssuerKey> {
  const pair = await Ed25519Multikey.generate();
  if (!pair.secretKeyMultibase) throw new Error('Ed25519 key generation gave no secret key');
  return {
    publicKeyMultibase: pair.publicKeyMultibase,
    secretKeySealed: sealer.seal(pair.secretKeyMultibase),
    createdAt: now,
    retiredAt: null,
  };
}

/** The key that signs new credentials: the newest one not retired. */
export function activeKey(keys: readonly IssuerKey[]): IssuerKey | undefined {
  return keys.filter((k) => k.retiredAt === null).at(-1);
}

/** Opens a sealed key into a key pair that can sign as `id` for `controller`. */
export async function openSigningKey(
  sealer: Sealer,
  key: IssuerKey,
  ids: { id: string; controller: string },
): Promise<Ed25519KeyPair> {
  let secretKeyMultibase: string;
  try {
    secretKeyMultibase = sealer.open(key.secretKeySealed);
  } catch (err) {
    throw new Error(`The signing key ${ids.id} cannot be opened with this ENCRYPTION_KEY`, { cause: err });
  }
  return Ed25519Multikey.from({
    '@context': CONTEXT.multikey,
    type: 'Multikey',
    id: ids.id,
    controller: ids.controller,
    publicKeyMultibase: key.publicKeyMultibase,
    secretKeyMultibase,
  });
}

/** The public Multikey document published at a key's own URL. */
export function multikeyDocument(id: string, controller: string, publicKeyMultibase: string) {
  return { '@context': CONTEXT.multikey, id, type: 'Multikey', controller, publicKeyMultibase };
}
