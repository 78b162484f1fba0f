/** LTI Dynamic Registration: configuration document, one-time tokens, validation, and launching the new client. */
import { CLAIM, launch, SCOPE } from '../support/lms-platform/index.js';
import { startRig, type Rig } from './helpers.js';

const TOOL_CONFIG = 'https://purl.imsglobal.org/spec/lti-tool-configuration';

/** A registration like the one ltijs sends (plus what Laurel adds). */
function registrationBody(toolUrl: string, claims: string[]): Record<string, unknown> {
  const host = new URL(toolUrl).host;
  return {
    application_type: 'web',
    response_types: ['id_token'],
    grant_types: ['implicit', 'client_credentials'],
    initiate_login_uri: `${toolUrl}/lti/login`,
    redirect_uris: [`${toolUrl}/lti/launch`, `${toolUrl}/lti/launch`],
    client_name: 'Laurel',
    jwks_uri: `${toolUrl}/lti/keys`,
    token_endpoint_auth_method: 'private_key_jwt',
    scope: `${SCOPE.lineItem} ${SCOPE.score} ${SCOPE.nrps} https://example.com/unknown`,
    [TOOL_CONFIG]: {
      domain: host,
      target_link_uri: `${toolUrl}/lti/launch`,
      custom_parameters: { laurel_course: '$Context.id' },
      claims,
      messages: [
        { type: 'LtiResourceLinkRequest' },
        { type: 'LtiDeepLinkingRequest', target_link_uri: `${toolUrl}/lti/launch` },
      ],
    },
  };
}

function startParams(url: string) {
  const u = new URL(url);
  return {
    openid: u.searchParams.get('openid_configuration')!,
    token: u.searchParams.get('registration_token')!,
    u,
  };
}

describe.each(['moodle', 'canvas'] as const)('%s dynamic registration', (flavour) => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await startRig(flavour);
  });
  afterEach(() => rig.close());

  const register = (token: string | undefined, body: unknown) =>
    fetch(rig.platform.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  test('the start URL points the tool at the configuration with a token', async () => {
    const { openid, token, u } = startParams(rig.platform.registrationStartUrl());
    expect(`${u.origin}${u.pathname}`).toBe(`${rig.tool.url}/lti/register`);
    expect(openid).toBe(rig.platform.openidConfigurationUrl);
    expect(token.split('.')).toHaveLength(3);
    const config = (await (await fetch(openid)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      issuer: rig.platform.issuer,
      authorization_endpoint: rig.platform.authLoginUrl,
      token_endpoint: rig.platform.authTokenUrl,
      jwks_uri: rig.platform.jwksUrl,
      registration_endpoint: rig.platform.registrationEndpoint,
      response_types_supported: ['id_token'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(config.scopes_supported).toEqual(expect.arrayContaining(['openid', SCOPE.nrps, SCOPE.score]));
    expect(config.claims_supported).toEqual(expect.arrayContaining(['sub', 'iss', 'email']));
    const platformConfig = config['https://purl.imsglobal.org/spec/lti-platform-configuration'] as Record<
      string,
      unknown
    >;
    expect(platformConfig.product_family_code).toBe(flavour);
    expect(platformConfig.messages_supported).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'LtiDeepLinkingRequest' })]),
    );
    expect(platformConfig.variables).toEqual(expect.arrayContaining(['Context.id']));
  });

  test('a good registration gets a client id and a deployment, once per token', async () => {
    const { token } = startParams(rig.platform.registrationStartUrl());
    const body = registrationBody(rig.tool.url, ['sub', 'iss', 'name', 'email']);
    const res = await register(token, body);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Record<string, unknown>;
    const clientId = answer.client_id as string;
    expect(clientId).toBeTruthy();
    expect(clientId).not.toBe(rig.platform.clientId);
    expect(answer.scope).toBe(`${SCOPE.lineItem} ${SCOPE.score} ${SCOPE.nrps}`);
    const deploymentId = (answer[TOOL_CONFIG] as { deployment_id: string }).deployment_id;
    expect(deploymentId).toBeTruthy();
    expect(rig.platform.registrations).toEqual([
      expect.objectContaining({ clientId, deploymentId, request: body }),
    ]);
    expect(rig.platform.client(clientId).redirectUris).toEqual([`${rig.tool.url}/lti/launch`]);
    expect(rig.platform.registrationInfo(clientId)).toMatchObject({
      clientId,
      deploymentIds: [deploymentId],
      lms: flavour,
    });

    const reused = await register(token, body);
    expect(reused.status).toBe(401);
    expect(await reused.json()).toMatchObject({ error: 'token_already_used' });
  });

  test('no token, or a token the platform did not sign, is refused', async () => {
    const body = registrationBody(rig.tool.url, []);
    expect((await register(undefined, body)).status).toBe(401);
    expect((await register('a.b.c', body)).status).toBe(401);
    expect(rig.platform.registrations).toHaveLength(0);
  });

  test.each([
    ['jwks_uri', (b: Record<string, unknown>) => delete b.jwks_uri],
    ['redirect_uris', (b: Record<string, unknown>) => delete b.redirect_uris],
    ['initiate_login_uri', (b: Record<string, unknown>) => delete b.initiate_login_uri],
    ['domain', (b: Record<string, unknown>) => delete (b[TOOL_CONFIG] as Record<string, unknown>).domain],
    [
      'target_link_uri',
      (b: Record<string, unknown>) => delete (b[TOOL_CONFIG] as Record<string, unknown>).target_link_uri,
    ],
    [TOOL_CONFIG, (b: Record<string, unknown>) => delete b[TOOL_CONFIG]],
  ])('missing %s is a 400 naming it, and the token stays usable', async (field, remove) => {
    const { token } = startParams(rig.platform.registrationStartUrl());
    const body = registrationBody(rig.tool.url, []);
    remove(body);
    const res = await register(token, body);
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: string; error_description: string };
    expect(answer.error).toBe('invalid_client_metadata');
    expect(answer.error_description).toContain(field);
    expect((await register(token, registrationBody(rig.tool.url, []))).status).toBe(200);
  });

  test('wrong values are refused too', async () => {
    const { token } = startParams(rig.platform.registrationStartUrl());
    const body = { ...registrationBody(rig.tool.url, []), token_endpoint_auth_method: 'client_secret_basic' };
    const res = await register(token, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_description: string }).error_description).toContain(
      'private_key_jwt',
    );
  });

  test('the registered client can launch, with its own client id, deployment and custom parameters', async () => {
    const { token } = startParams(rig.platform.registrationStartUrl());
    const res = await register(
      token,
      registrationBody(rig.tool.url, ['sub', 'iss', 'name', 'given_name', 'email']),
    );
    const clientId = ((await res.json()) as { client_id: string }).client_id;
    rig.tool.configure(rig.platform.registrationInfo(clientId));
    const result = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner, clientId });
    expect(result.status).toBe(200);
    expect(result.claims!.aud).toBe(clientId);
    expect(result.claims![CLAIM.deploymentId]).toBe(rig.platform.client(clientId).deploymentIds[0]);
    expect(result.claims![CLAIM.custom]).toMatchObject({
      laurel_course: rig.platform.course(rig.courseId).contextId,
    });
    // Canvas keeps a tool anonymous unless its registration asks for a privacy level; Moodle follows the claims.
    if (flavour === 'canvas') expect(result.claims).not.toHaveProperty('name');
    else expect(result.claims).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.edu' });
  });
});

test('canvas insists on scope, messages and claims; moodle does not', async () => {
  for (const flavour of ['canvas', 'moodle'] as const) {
    const rig = await startRig(flavour);
    try {
      const { token } = startParams(rig.platform.registrationStartUrl());
      const body = registrationBody(rig.tool.url, []);
      delete body.scope;
      const res = await fetch(rig.platform.registrationEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(flavour === 'canvas' ? 400 : 200);
    } finally {
      await rig.close();
    }
  }
});

test('the configuration can require the registration token as a Bearer header', async () => {
  const rig = await startRig('canvas', { configurationRequiresToken: true });
  try {
    const { openid, token } = startParams(rig.platform.registrationStartUrl());
    expect((await fetch(openid)).status).toBe(401);
    expect((await fetch(openid, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  } finally {
    await rig.close();
  }
});
