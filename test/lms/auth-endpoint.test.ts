/** The platform's OIDC authorisation endpoint, called directly: what it answers and what it refuses. */
import { fieldValue, findAutoSubmitForm, type PreparedLaunch } from '../support/lms-platform/index.js';
import { startRig, type Rig } from './helpers.js';

describe('authorisation endpoint', () => {
  let rig: Rig;
  let prepared: PreparedLaunch;
  let good: Record<string, string>;

  beforeAll(async () => {
    rig = await startRig('moodle');
  });
  afterAll(() => rig.close());
  beforeEach(() => {
    prepared = rig.platform.prepareLaunch({ courseId: rig.courseId, sub: rig.learner });
    good = {
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: rig.platform.clientId,
      redirect_uri: `${rig.tool.url}/lti/launch`,
      login_hint: prepared.loginHint,
      lti_message_hint: prepared.messageHint,
      state: 'state-123',
      nonce: 'nonce-456',
    };
  });

  const get = (params: Record<string, string>) =>
    fetch(`${rig.platform.authLoginUrl}?${new URLSearchParams(params).toString()}`);

  test('the login initiation carries the parameters the authorisation endpoint expects back', () => {
    expect(prepared.params).toMatchObject({
      iss: rig.platform.issuer,
      login_hint: prepared.loginHint,
      lti_message_hint: prepared.messageHint,
      target_link_uri: `${rig.tool.url}/lti/launch`,
      client_id: rig.platform.clientId,
      lti_deployment_id: rig.platform.deploymentId,
    });
    expect(new URL(prepared.loginUrl).searchParams.get('login_hint')).toBe(prepared.loginHint);
    expect(prepared.startUrl.startsWith(rig.platform.url)).toBe(true);
  });

  test('a good GET request answers a form posting id_token and state to the redirect_uri', async () => {
    const res = await get(good);
    expect(res.status).toBe(200);
    const form = findAutoSubmitForm(await res.text())!;
    expect(form.method).toBe('POST');
    expect(form.action).toBe(good.redirect_uri);
    expect(fieldValue(form, 'state')).toBe('state-123');
    const idToken = fieldValue(form, 'id_token')!;
    const claims = await rig.tool.verifyIdToken(idToken);
    expect(claims.nonce).toBe('nonce-456');
    expect(claims.sub).toBe(rig.learner);
  });

  test('a good POST request is answered the same way', async () => {
    const res = await fetch(rig.platform.authLoginUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(good),
    });
    expect(res.status).toBe(200);
    expect(fieldValue(findAutoSubmitForm(await res.text())!, 'id_token')).toBeTruthy();
  });

  test.each([
    ['wrong redirect_uri', { redirect_uri: 'http://localhost:1/elsewhere' }, 'redirect_uri'],
    ['unknown client_id', { client_id: 'nobody' }, 'unauthorized_client'],
    ['missing nonce', { nonce: '' }, 'nonce is required'],
    ['scope without openid', { scope: 'profile' }, 'invalid_scope'],
    ['response_type code', { response_type: 'code' }, 'unsupported_response_type'],
    ['response_mode query', { response_mode: 'query' }, 'response_mode'],
    ['prompt login', { prompt: 'login' }, 'prompt'],
    ['another user login_hint', { login_hint: 'someone-else' }, 'login_required'],
    ['unknown lti_message_hint', { lti_message_hint: 'forged' }, 'lti_message_hint'],
  ])('%s is refused with 400 and no id_token', async (_name, change, message) => {
    const issued = rig.platform.idTokensIssued.length;
    const res = await get({ ...good, ...change });
    const body = await res.text();
    expect(res.status).toBe(400);
    expect(body).toContain(message);
    expect(body).not.toContain('name="id_token"');
    expect(rig.platform.idTokensIssued).toHaveLength(issued);
    expect(rig.platform.refusals.at(-1)?.endpoint).toBe('/auth');
  });

  test('without state the form posts the id_token alone', async () => {
    const { state: _state, ...noState } = good;
    const res = await get(noState);
    expect(res.status).toBe(200);
    const form = findAutoSubmitForm(await res.text())!;
    expect(form.fields.map(([name]) => name)).toEqual(['id_token']);
  });
});
