import { createHash, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { LtiContextToken, LtiIdToken } from 'ltijs';
import type { Claims } from './claims.js';
import type { LtiDatabase } from './database.js';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';

/**
 * The session ltijs would have made for a verified id_token, made the same way for a launch whose
 * state Laurel checked itself: the `idtoken` and `contexttoken` documents under ltijs's keys, and an
 * ltik signed like ltijs's. Everything after the launch (session.ts, the LTI services) then reads
 * it exactly as it reads ltijs's own. Mirrors ltijs 5.9.9's sessionValidator.
 */
export async function storeLtijsSession(
  db: LtiDatabase,
  ltiKey: string,
  payload: Claims,
  platform: { clientId: string; kid: string },
  launchRoute: string,
): Promise<{ ltik: string; token: LtiIdToken }> {
  const claim = (name: string) => payload[`${LTI}${name}`];
  const iss = payload.iss as string;
  const sub = payload.sub as string;
  const clientId = platform.clientId;
  const deploymentId = claim('deployment_id') as string;
  const context = claim('context') as { id?: string } | undefined;
  const resource = claim('resource_link') as { id?: string } | undefined;
  const additional = {
    path: launchRoute,
    roles: claim('roles'),
    targetLinkUri: claim('target_link_uri'),
    custom: claim('custom'),
    launchPresentation: claim('launch_presentation'),
    endpoint: payload['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint'],
    namesRoles: payload['https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice'],
  };
  const hash = createHash('sha256').update(JSON.stringify(additional)).digest('hex');
  const contextId = encodeURIComponent(
    `${iss}${clientId}${deploymentId}${context?.id ?? 'NF'}_${resource?.id ?? 'NF'}_${hash}`,
  );
  const platformCode = encodeURIComponent(
    `lti${Buffer.from(iss + clientId + deploymentId).toString('base64')}`,
  );

  const idToken = {
    iss,
    user: sub,
    userInfo: {
      given_name: payload.given_name,
      family_name: payload.family_name,
      name: payload.name,
      email: payload.email,
    },
    platformInfo: claim('tool_platform'),
    clientId,
    platformId: platform.kid,
    deploymentId,
  };
  await db.Replace(false, 'idtoken', { iss, clientId, deploymentId, user: sub }, idToken);
  const contextToken = {
    contextId,
    user: sub,
    context,
    resource,
    messageType: claim('message_type'),
    version: claim('version'),
    deepLinkingSettings: payload['https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings'],
    lis: claim('lis'),
    ...additional,
  };
  await db.Replace(false, 'contexttoken', { contextId, user: sub }, contextToken);

  // ltijs puts the OIDC state in `s` to make ltiks unique; a random value does that without the state.
  const ltik = jwt.sign(
    {
      platformUrl: iss,
      clientId,
      deploymentId,
      platformCode,
      contextId,
      user: sub,
      s: randomBytes(16).toString('hex'),
    },
    ltiKey,
  );
  const token = JSON.parse(JSON.stringify({ ...idToken, platformContext: contextToken })) as LtiIdToken & {
    platformContext: LtiContextToken;
  };
  return { ltik, token };
}
