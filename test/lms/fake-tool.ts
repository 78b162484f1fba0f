/**
 * A tiny LTI 1.3 tool for testing the test platform on its own: serves its JWKS, does the OIDC login
 * (state cookie + nonce), verifies id_tokens with the platform's JWKS (its own code, not the platform's), and
 * answers an instructor or learner page. It also signs client assertions and deep-linking responses.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import jwt, { type JwtPayload } from 'jsonwebtoken';

export interface ToolKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

export function makeKey(kid = randomBytes(6).toString('hex')): ToolKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

export interface PlatformInfo {
  issuer: string;
  clientId: string;
  authLoginUrl: string;
  authTokenUrl: string;
  jwksUrl: string;
  deploymentIds: string[];
}

export interface ToolLaunch {
  claims: JwtPayload;
  session: string;
}

const ROLE_INSTRUCTOR = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor';

export class FakeTool {
  readonly key = makeKey();
  platform?: PlatformInfo;
  /** Cookie attributes of the state and session cookies. */
  cookieAttributes = 'Path=/; HttpOnly; SameSite=None; Secure';
  /** Changes to the authorisation request (undefined removes a parameter). */
  authOverrides: Record<string, string | undefined> = {};
  readonly launches: ToolLaunch[] = [];
  /** When set, a deep-linking launch answers a page that posts these items back to the platform by itself. */
  deepLinkItems?: Record<string, unknown>[];
  readonly loginRequests: { method: string; params: Record<string, string> }[] = [];
  private readonly nonces = new Map<string, { nonce: string; used: boolean }>();
  private readonly sessions = new Map<string, JwtPayload>();

  constructor(
    readonly url: string,
    private readonly server: Server,
  ) {}

  configure(platform: PlatformInfo): void {
    this.platform = platform;
  }

  jwks() {
    return { keys: [this.key.jwk] };
  }

  clientAssertion(
    overrides: Partial<Record<'iss' | 'sub' | 'aud' | 'jti', string>> & { exp?: number; key?: ToolKey } = {},
  ) {
    const p = this.platform!;
    const now = Math.floor(Date.now() / 1000);
    const { key = this.key, ...claims } = overrides;
    const payload = {
      iss: p.clientId,
      sub: p.clientId,
      aud: p.authTokenUrl,
      jti: randomBytes(12).toString('hex'),
      iat: now,
      exp: now + 60,
      ...claims,
    };
    return jwt.sign(payload, key.privateKey, { algorithm: 'RS256', keyid: this.key.kid });
  }

  deepLinkResponse(opts: {
    data?: string;
    deploymentId?: string;
    items?: Record<string, unknown>[];
    key?: ToolKey;
    claims?: Record<string, unknown>;
  }): string {
    const p = this.platform!;
    const payload: Record<string, unknown> = {
      iss: p.clientId,
      aud: p.issuer,
      nonce: randomBytes(8).toString('hex'),
      'https://purl.imsglobal.org/spec/lti/claim/message_type': 'LtiDeepLinkingResponse',
      'https://purl.imsglobal.org/spec/lti/claim/version': '1.3.0',
      'https://purl.imsglobal.org/spec/lti/claim/deployment_id': opts.deploymentId ?? p.deploymentIds[0],
      'https://purl.imsglobal.org/spec/lti-dl/claim/content_items': opts.items ?? [],
      ...(opts.data !== undefined ? { 'https://purl.imsglobal.org/spec/lti-dl/claim/data': opts.data } : {}),
      ...opts.claims,
    };
    return jwt.sign(payload, (opts.key ?? this.key).privateKey, {
      algorithm: 'RS256',
      keyid: this.key.kid,
      expiresIn: 300,
    });
  }

  /** Verifies an id_token the way a tool must: platform JWKS by kid, RS256, iss, aud, exp. */
  async verifyIdToken(idToken: string): Promise<JwtPayload> {
    const p = this.platform!;
    const header = jwt.decode(idToken, { complete: true })?.header;
    const { keys } = (await (await fetch(p.jwksUrl)).json()) as {
      keys: (Record<string, unknown> & { kid: string })[];
    };
    const jwk = keys.find((k) => k.kid === header?.kid);
    if (!jwk) throw new Error('unknown kid');
    const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
    return jwt.verify(idToken, publicKey, {
      algorithms: ['RS256'],
      audience: p.clientId,
      issuer: p.issuer,
    }) as JwtPayload;
  }

  handleLogin(req: Request, res: Response): void {
    const params = (req.method === 'GET' ? req.query : req.body) as Record<string, string>;
    this.loginRequests.push({ method: req.method, params: { ...params } });
    const p = this.platform;
    if (!p || params.iss !== p.issuer || !params.login_hint || !params.target_link_uri) {
      res.status(400).send('bad login initiation');
      return;
    }
    const state = randomBytes(12).toString('hex');
    const nonce = randomBytes(12).toString('hex');
    this.nonces.set(state, { nonce, used: false });
    const auth = new URL(p.authLoginUrl);
    const query: Record<string, string | undefined> = {
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: params.client_id ?? p.clientId,
      redirect_uri: `${this.url}/lti/launch`,
      login_hint: params.login_hint,
      lti_message_hint: params.lti_message_hint,
      state,
      nonce,
      ...this.authOverrides,
    };
    for (const [k, v] of Object.entries(query)) if (v !== undefined) auth.searchParams.set(k, v);
    res.append('Set-Cookie', `tool_state_${state}=${state}; Max-Age=600; ${this.cookieAttributes}`);
    res.redirect(302, auth.toString());
  }

  async handleLaunch(req: Request, res: Response): Promise<void> {
    const { id_token: idToken, state } = (req.body ?? {}) as Record<string, string>;
    if (!state) return void res.status(400).send('missing state');
    const cookies = parseCookies(req.get('cookie'));
    if (cookies[`tool_state_${state}`] !== state) return void res.status(401).send('state cookie missing');
    let claims: JwtPayload;
    try {
      claims = await this.verifyIdToken(idToken ?? '');
    } catch (err) {
      return void res.status(401).send(`invalid id_token: ${(err as Error).message}`);
    }
    const expected = this.nonces.get(state);
    if (!claims.nonce || !expected || claims.nonce !== expected.nonce)
      return void res.status(401).send('bad nonce');
    if (expected.used) return void res.status(401).send('replayed launch');
    expected.used = true;
    const deployment = claims['https://purl.imsglobal.org/spec/lti/claim/deployment_id'] as string;
    if (!this.platform!.deploymentIds.includes(deployment))
      return void res.status(401).send('unknown deployment');
    const session = randomBytes(12).toString('hex');
    this.sessions.set(session, claims);
    this.launches.push({ claims, session });
    res.append('Set-Cookie', `tool_session=${session}; ${this.cookieAttributes}`);
    res.redirect(302, `/lti/launch?session=${session}`);
  }

  handlePage(req: Request, res: Response): void {
    const session = String(req.query.session ?? '');
    const claims = this.sessions.get(session);
    if (!claims || parseCookies(req.get('cookie')).tool_session !== session) {
      res.status(401).send('no session');
      return;
    }
    const roles = claims['https://purl.imsglobal.org/spec/lti/claim/roles'] as string[];
    const context = claims['https://purl.imsglobal.org/spec/lti/claim/context'] as { title: string };
    const type = claims['https://purl.imsglobal.org/spec/lti/claim/message_type'] as string;
    const view =
      type === 'LtiDeepLinkingRequest'
        ? 'Deep linking'
        : roles.includes(ROLE_INSTRUCTOR)
          ? 'Instructor view'
          : 'Learner view';
    let form = '';
    if (type === 'LtiDeepLinkingRequest' && this.deepLinkItems) {
      // Like ltijs's createDeepLinkingForm: a hidden form that posts the signed response back at once.
      const settings = claims['https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings'] as {
        deep_link_return_url: string;
        data?: string;
      };
      const jwtValue = this.deepLinkResponse({
        items: this.deepLinkItems,
        ...(settings.data !== undefined ? { data: settings.data } : {}),
        deploymentId: claims['https://purl.imsglobal.org/spec/lti/claim/deployment_id'] as string,
      });
      form =
        `<form id="dl_submit" style="display: none;" action="${settings.deep_link_return_url}" method="POST">` +
        `<input type="hidden" name="JWT" value="${jwtValue}" /></form>` +
        '<script>document.getElementById("dl_submit").submit()</script>';
    }
    res
      .type('html')
      .send(`<h1>${view}</h1><p>${String(claims.name ?? claims.sub)} in ${context.title}</p>${form}`);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Starts the fake tool on 127.0.0.1, addressed as http://localhost:<port> (another site than the platform). */
export async function startFakeTool(): Promise<FakeTool> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const tool = new FakeTool(`http://localhost:${(server.address() as AddressInfo).port}`, server);
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.get('/lti/keys', (_req, res) => void res.json(tool.jwks()));
  app.all('/lti/login', (req, res) => tool.handleLogin(req, res));
  app.post('/lti/launch', (req, res) => tool.handleLaunch(req, res));
  app.get('/lti/launch', (req, res) => tool.handlePage(req, res));
  server.on('request', app);
  return tool;
}
