/** OAuth 2 token endpoint: client assertions verified against the tool's JWKS, and the Bearer guard. */
import { SCOPE } from '../support/lms-platform/index.js';
import { makeKey } from './fake-tool.js';
import { accessToken, startRig, type Rig } from './helpers.js';

describe('token endpoint', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig('canvas');
  });
  afterAll(() => rig.close());

  const post = (fields: Record<string, string>) =>
    fetch(rig.platform.authTokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
  const request = (assertion: string, scope: string = SCOPE.nrps) => ({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    scope,
  });

  test('a valid client assertion gets a Bearer token with the scopes asked', async () => {
    const issued = rig.platform.tokensIssued.length;
    const res = await post(request(rig.tool.clientAssertion(), `${SCOPE.nrps} ${SCOPE.score}`));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: `${SCOPE.nrps} ${SCOPE.score}`,
    });
    expect(typeof body.access_token).toBe('string');
    expect(rig.platform.tokensIssued).toHaveLength(issued + 1);
    expect(rig.platform.tokensIssued.at(-1)).toMatchObject({ clientId: rig.platform.clientId });
  });

  test('the issuer is also accepted as audience', async () => {
    const res = await post(request(rig.tool.clientAssertion({ aud: rig.platform.issuer })));
    expect(res.status).toBe(200);
  });

  test('an assertion signed with a key the tool does not publish is refused as invalid_client', async () => {
    const res = await post(request(rig.tool.clientAssertion({ key: makeKey() })));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  test('a reused jti is refused as invalid_grant', async () => {
    const assertion = rig.tool.clientAssertion({ jti: 'once-only' });
    expect((await post(request(assertion))).status).toBe(200);
    const again = await post(request(assertion));
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringContaining('jti'),
    });
  });

  test.each([
    ['a wrong audience', { aud: 'https://elsewhere.example/token' }, 400, 'invalid_grant'],
    ['an expired assertion', { exp: Math.floor(Date.now() / 1000) - 120 }, 400, 'invalid_grant'],
    ['sub different from iss', { sub: 'someone' }, 400, 'invalid_grant'],
    ['an unknown client', { iss: 'nobody', sub: 'nobody' }, 401, 'invalid_client'],
  ])('%s is refused', async (_name, overrides, status, error) => {
    const res = await post(request(rig.tool.clientAssertion(overrides)));
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error });
  });

  test('unknown scopes alone are invalid_scope; mixed with known ones only the known are granted', async () => {
    const none = await post(request(rig.tool.clientAssertion(), 'https://example.com/scope/everything'));
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ error: 'invalid_scope' });
    const mixed = await post(request(rig.tool.clientAssertion(), `https://example.com/x ${SCOPE.score}`));
    expect(((await mixed.json()) as { scope: string }).scope).toBe(SCOPE.score);
  });

  test('a wrong assertion type or grant type is refused', async () => {
    const wrongType = await post({
      ...request(rig.tool.clientAssertion()),
      client_assertion_type: 'password',
    });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({ error: 'invalid_request' });
    const wrongGrant = await post({
      ...request(rig.tool.clientAssertion()),
      grant_type: 'authorization_code',
    });
    expect(await wrongGrant.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  test('services want a live token with the right scope', async () => {
    const url = rig.platform.membershipsUrl(rig.courseId);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer made-up' } })).status).toBe(401);
    const scoreOnly = await accessToken(rig, [SCOPE.score]);
    const forbidden = await fetch(url, { headers: { authorization: `Bearer ${scoreOnly}` } });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: 'insufficient_scope' });
    const token = await accessToken(rig, [SCOPE.nrps]);
    expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    rig.platform.expireAccessTokens();
    const expired = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('invalid_token');
  });
});
