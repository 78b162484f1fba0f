import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { Models } from '../db/models/index.js';
import { isActivePlatform, type PlatformDoc } from '../db/models/platform.js';
import type { Logger } from '../logger.js';
import type { PlatformHooks } from '../platforms/service.js';
import type { LtiDatabase } from './database.js';
import { isDuplicateKey } from '../errors.js';

const generateRsa = promisify(generateKeyPair);

/** What ltijs keeps of a platform (its `platform` document). */
export type LtiPlatformRecord = {
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
  /**
   * Adds (or updates) a platform in ltijs's store, with a key pair of its own; a pending platform
   * is stored inactive (ltijs refuses its logins through onInactivePlatform, as Laurel's cookieless
   * paths do).
   */
  put(platform: PlatformDoc, extra?: { authorizationServer?: string | null }): Promise<void>;
  remove(platform: Pick<PlatformDoc, 'issuer' | 'clientId'>): Promise<void>;
  /** Sets whether ltijs lets the platform launch; false when it has no record. */
  setActive(platform: Pick<PlatformDoc, 'issuer' | 'clientId'>, active: boolean): Promise<boolean>;
  /** Hooks for registerPlatform/approvePlatform/deletePlatform, so both stores change together. */
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

  /** ltijs's `platformStatus`: no record means active. */
  const writeStatus = (kid: string, active: boolean) =>
    db.Replace(false, 'platformStatus', { id: kid }, { id: kid, active });
  const readActive = async (kid: string) => {
    const status = await db.Get(false, 'platformStatus', { id: kid });
    return !status || status[0]!.active !== false;
  };

  const removeKeys = async (kid: string) => {
    await db.Delete('publickey', { kid });
    await db.Delete('privatekey', { kid });
    await db.Delete('platformStatus', { id: kid });
  };

  /** The kid of a whole key pair stored for this platform that no platform record names, if any. */
  const unrecordedKeyPair = async (issuer: string, clientId: string): Promise<string | undefined> => {
    const index = { platformUrl: issuer, clientId };
    const kids = (await db.collection('publickey').distinct('kid', index)) as string[];
    if (kids.length === 0) return undefined;
    const whole = (await db
      .collection('privatekey')
      .distinct('kid', { ...index, kid: { $in: kids } })) as string[];
    for (const kid of whole) if (!(await db.Get(false, 'platform', { kid }))) return kid;
    return undefined;
  };

  const put: LtiPlatformStore['put'] = async (platform, extra = {}) => {
    const fields = {
      platformName: platform.name,
      authEndpoint: platform.authLoginUrl,
      accesstokenEndpoint: platform.authTokenUrl,
      authConfig: { method: 'JWK_SET' as const, key: platform.jwksUrl },
      ...(extra.authorizationServer ? { authorizationServer: extra.authorizationServer } : {}),
    };
    const active = isActivePlatform(platform);
    const existing = await findRecord(platform.issuer, platform.clientId);
    if (existing) {
      if ((await readActive(existing.kid)) !== active) await writeStatus(existing.kid, active);
      await db.Modify(
        false,
        'platform',
        { platformUrl: platform.issuer, clientId: platform.clientId },
        fields,
      );
      return;
    }
    // A key pair made for this platform by a process killed before it wrote the record is taken up
    // (reconcile finishes that registration), so no key stays published for no platform.
    const adopted = await unrecordedKeyPair(platform.issuer, platform.clientId);
    const kid = adopted ?? randomBytes(16).toString('hex');
    // Inactive before the record exists: there is no moment at which ltijs would launch a pending platform.
    if (!active) await writeStatus(kid, false);
    if (!adopted) {
      const { publicKey, privateKey } = await generateRsa('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      });
      const index = { kid, platformUrl: platform.issuer, clientId: platform.clientId };
      // The private key first: a process killed between the two leaves no public key of nothing.
      await db.Insert(ltiKey, 'privatekey', { key: privateKey, kid }, index);
      await db.Insert(ltiKey, 'publickey', { key: publicKey, kid }, index);
    }
    try {
      await db.Insert(false, 'platform', {
        platformUrl: platform.issuer,
        clientId: platform.clientId,
        kid,
        ...fields,
      });
    } catch (err) {
      // Another process registered the same platform meanwhile: theirs stands, on keys of its own (these
      // go) or on these, adopted by its reconcile (they stay).
      if (!adopted && !(await db.Get(false, 'platform', { kid }))) await removeKeys(kid);
      if (isDuplicateKey(err)) return;
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

  const setActive: LtiPlatformStore['setActive'] = async (platform, active) => {
    const existing = await findRecord(platform.issuer, platform.clientId);
    if (!existing) return false;
    await writeStatus(existing.kid, active);
    return true;
  };

  return {
    put,
    remove,
    setActive,
    hooks: (extra) => ({
      registered: (p) => put(p, extra),
      // Approval turns the record active; a record lost meanwhile is made anew (active).
      approved: async (p) => {
        if (!(await setActive(p, true))) await put(p, extra);
      },
      deleted: (p) => remove(p),
    }),
    async reconcile(models, logger) {
      const ours = await models.platforms.find().lean<PlatformDoc[]>();
      const theirs = ((await db.Get(false, 'platform')) || []) as LtiPlatformRecord[];
      const key = (issuer: string, clientId: string) => JSON.stringify([issuer, clientId]);
      const wanted = new Set(ours.map((p) => key(p.issuer, p.clientId)));
      let added = 0;
      let removed = 0;
      let statuses = 0;
      const kids = new Map(theirs.map((p) => [key(p.platformUrl, p.clientId), p.kid]));
      const inactive = new Set(
        (((await db.Get(false, 'platformStatus')) || []) as { id: string; active?: boolean }[])
          .filter((s) => s.active === false)
          .map((s) => s.id),
      );
      for (const platform of ours) {
        const kid = kids.get(key(platform.issuer, platform.clientId));
        if (kid === undefined) {
          await put(platform);
          added++;
        } else if (inactive.has(kid) === isActivePlatform(platform)) {
          // A crash between approving (or registering) and ltijs's status write.
          await writeStatus(kid, isActivePlatform(platform));
          statuses++;
        }
      }
      for (const record of theirs)
        if (!wanted.has(key(record.platformUrl, record.clientId))) {
          await remove({ issuer: record.platformUrl, clientId: record.clientId });
          removed++;
        }
      if (added || removed || statuses)
        logger.warn({ added, removed, statuses }, 'LTI platform store brought in line with the platforms');
    },
  };
}
