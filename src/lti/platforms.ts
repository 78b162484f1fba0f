import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { Models } from '../db/models/index.js';
import type { PlatformDoc } from '../db/models/platform.js';
import type { Logger } from '../logger.js';
import type { PlatformHooks } from '../platforms/service.js';
import type { LtiDatabase } from './database.js';

const generateRsa = promisify(generateKeyPair);

/** What ltijs keeps of a platform (its `platform` document). */
type LtiPlatformRecord = {
  platformName: string;
  platformUrl: string;
  clientId: string;
  authEndpoint: string;
  accesstokenEndpoint: string;
  authorizationServer?: string | null;
  kid: string;
  authConfig: { method: 'JWK_SET'; key: string };
};

export type LtiPlatformStore = {
  /** Adds (or updates) a platform in ltijs's store, with a key pair of its own. */
  put(platform: PlatformDoc, extra?: { authorizationServer?: string | null }): Promise<void>;
  remove(platform: Pick<PlatformDoc, 'issuer' | 'clientId'>): Promise<void>;
  /** Hooks for registerPlatform/deletePlatform, so both stores change together. */
  hooks(extra?: { authorizationServer?: string | null }): PlatformHooks;
  /** Brings ltijs's store in line with Laurel's platforms (after a crash between the two writes). */
  reconcile(models: Models, logger: Logger): Promise<void>;
};

/**
 * ltijs's platform records, written through the same storage ltijs reads them from. ltijs's own
 * registerPlatform makes a 4096-bit key synchronously (about two seconds of a blocked event loop);
 * here the key pair is 2048-bit (what Canvas and Moodle use, and the LTI security framework's
 * minimum) and made on the thread pool.
 */
export function ltiPlatformStore(db: LtiDatabase, ltiKey: string): LtiPlatformStore {
  const findRecord = async (issuer: string, clientId: string) => {
    const found = await db.Get(false, 'platform', { platformUrl: issuer, clientId });
    return found ? (found[0] as LtiPlatformRecord) : undefined;
  };

  const removeKeys = async (kid: string) => {
    await db.Delete('publickey', { kid });
    await db.Delete('privatekey', { kid });
    await db.Delete('platformStatus', { id: kid });
  };

  const put: LtiPlatformStore['put'] = async (platform, extra = {}) => {
    const fields = {
      platformName: platform.name,
      authEndpoint: platform.authLoginUrl,
      accesstokenEndpoint: platform.authTokenUrl,
      authConfig: { method: 'JWK_SET' as const, key: platform.jwksUrl },
      ...(extra.authorizationServer ? { authorizationServer: extra.authorizationServer } : {}),
    };
    const existing = await findRecord(platform.issuer, platform.clientId);
    if (existing) {
      await db.Modify(
        false,
        'platform',
        { platformUrl: platform.issuer, clientId: platform.clientId },
        fields,
      );
      return;
    }
    const kid = randomBytes(16).toString('hex');
    const { publicKey, privateKey } = await generateRsa('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const index = { kid, platformUrl: platform.issuer, clientId: platform.clientId };
    await db.Insert(ltiKey, 'publickey', { key: publicKey, kid }, index);
    await db.Insert(ltiKey, 'privatekey', { key: privateKey, kid }, index);
    try {
      await db.Insert(false, 'platform', {
        platformUrl: platform.issuer,
        clientId: platform.clientId,
        kid,
        ...fields,
      });
    } catch (err) {
      await removeKeys(kid);
      // Another process registered the same platform meanwhile: theirs stands.
      if ((err as { code?: number }).code === 11000) return;
      throw err;
    }
  };

  const remove: LtiPlatformStore['remove'] = async (platform) => {
    const existing = await findRecord(platform.issuer, platform.clientId);
    if (!existing) return;
    await db.Delete('platform', { platformUrl: platform.issuer, clientId: platform.clientId });
    await db.Delete('accesstoken', { platformUrl: platform.issuer, clientId: platform.clientId });
    await removeKeys(existing.kid);
  };

  return {
    put,
    remove,
    hooks: (extra) => ({ registered: (p) => put(p, extra), deleted: (p) => remove(p) }),
    async reconcile(models, logger) {
      const ours = await models.platforms.find().lean<PlatformDoc[]>();
      const theirs = ((await db.Get(false, 'platform')) || []) as LtiPlatformRecord[];
      const key = (issuer: string, clientId: string) => JSON.stringify([issuer, clientId]);
      const known = new Set(theirs.map((p) => key(p.platformUrl, p.clientId)));
      const wanted = new Set(ours.map((p) => key(p.issuer, p.clientId)));
      let added = 0;
      let removed = 0;
      for (const platform of ours)
        if (!known.has(key(platform.issuer, platform.clientId))) {
          await put(platform);
          added++;
        }
      for (const record of theirs)
        if (!wanted.has(key(record.platformUrl, record.clientId))) {
          await remove({ issuer: record.platformUrl, clientId: record.clientId });
          removed++;
        }
      if (added || removed)
        logger.warn({ added, removed }, 'LTI platform store brought in line with the platforms');
    },
  };
}
