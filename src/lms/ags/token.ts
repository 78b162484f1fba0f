import { createRequire } from 'node:module';
import type { Context } from '../../context.js';
import type { PlatformDoc } from '../../db/models/platform.js';
import { LtiDatabase } from '../../lti/database.js';
import type { LtiPlatformRecord } from '../../lti/platforms.js';

/**
 * The tool's LTI service token for a platform (OAuth 2 client_credentials with a signed client
 * assertion), obtained by ltijs itself: its Platform object signs with the key ltijs keeps for that
 * platform and caches the token in ltijs's `accesstoken` store, keyed by the scopes, so the tokens
 * of this poll and those of ltijs's own Grade service (same single scope each) are shared. Only the
 * token comes from ltijs; the AGS calls themselves go through Laurel's outbound guard (client.ts).
 *
 * ltijs's Platform class is reached by its file (ltijs 5.9.9 has no `exports` map), so that a
 * worker needs no ltijs Provider: the job has only the Context.
 */

type LtijsPlatform = { platformAccessToken(scopes: string): Promise<{ access_token?: unknown }> };
type LtijsPlatformClass = new (
  name: string,
  platformUrl: string,
  clientId: string,
  authenticationEndpoint: string,
  accesstokenEndpoint: string,
  authorizationServer: string | undefined,
  kid: string,
  encryptionKey: string,
  authConfig: unknown,
  database: LtiDatabase,
) => LtijsPlatform;

const require = createRequire(import.meta.url);
const Platform = require('ltijs/dist/Utils/Platform.js') as LtijsPlatformClass;

export const AGS_SCOPES = {
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
} as const;

/** Thrown when a platform cannot give a token (no ltijs record, or the token endpoint refused). */
export class AgsTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgsTokenError';
  }
}

/** A Bearer token with `scope` for the platform, from ltijs's cache or its token endpoint. */
export async function serviceToken(
  ctx: Context,
  platform: Pick<PlatformDoc, 'issuer' | 'clientId'>,
  scope: string,
): Promise<string> {
  const db = new LtiDatabase(ctx.models.platforms.db);
  const found = await db.Get(false, 'platform', {
    platformUrl: platform.issuer,
    clientId: platform.clientId,
  });
  const record = found ? (found[0] as unknown as LtiPlatformRecord) : undefined;
  if (!record) throw new AgsTokenError(`ltijs knows no platform ${platform.issuer} / ${platform.clientId}`);
  const ltijsPlatform = new Platform(
    record.platformName,
    record.platformUrl,
    record.clientId,
    record.authEndpoint,
    record.accesstokenEndpoint,
    record.authorizationServer ?? undefined,
    record.kid,
    ctx.config.ltiKey,
    record.authConfig,
    db,
  );
  let token: { access_token?: unknown };
  try {
    token = await ltijsPlatform.platformAccessToken(scope);
  } catch (err) {
    throw new AgsTokenError(`the token endpoint of ${platform.issuer} refused: ${(err as Error).message}`);
  }
  if (typeof token?.access_token !== 'string' || token.access_token === '')
    throw new AgsTokenError(`the token endpoint of ${platform.issuer} answered no access_token`);
  return token.access_token;
}
