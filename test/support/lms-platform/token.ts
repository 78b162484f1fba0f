/**
 * OAuth 2 token endpoint (client_credentials with a private_key_jwt client assertion, verified against the
 * tool's JWKS) and the Bearer-token guard of the LTI services.
 */
import { randomBytes } from 'node:crypto';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { absolute, PATHS, type PlatformContext } from './context.js';
import { decodeJwt, JwtCheckError, verifyWithJwks } from './keys.js';
import { CLIENT_ASSERTION_TYPE, DATA_SERVICES_SCOPES, SERVICE_SCOPES, type AccessToken } from './types.js';

const TOKEN_LIFETIME_S = 3600;

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

function field(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The audiences a client assertion may name: the token URL, or the issuer (also the authorization_server). */
export function acceptedAudiences(ctx: PlatformContext): string[] {
  return [absolute(ctx, PATHS.token), ctx.issuer];
}

async function grant(ctx: PlatformContext, body: Record<string, unknown>): Promise<AccessToken> {
  if (field(body, 'grant_type') !== 'client_credentials') {
    throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
  }
  if (field(body, 'client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
    throw new OAuthError(400, 'invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  }
  const assertion = field(body, 'client_assertion');
  if (!assertion) throw new OAuthError(400, 'invalid_request', 'client_assertion is required');

  let claimed: Record<string, unknown>;
  try {
    claimed = decodeJwt(assertion).payload;
  } catch {
    throw new OAuthError(401, 'invalid_client', 'client_assertion is not a JWT');
  }
  const clientId = typeof claimed.iss === 'string' ? claimed.iss : '';
  const client = ctx.store.clients.get(clientId);
  if (!client) throw new OAuthError(401, 'invalid_client', `unknown client "${clientId}"`);

  let payload: Record<string, unknown>;
  try {
    payload = await verifyWithJwks(assertion, client.jwksUri);
  } catch (err) {
    const e = err as JwtCheckError;
    if (e.code === 'expired') throw new OAuthError(400, 'invalid_grant', 'client_assertion has expired');
    throw new OAuthError(401, 'invalid_client', `client_assertion refused: ${e.message}`);
  }
  if (payload.sub !== clientId)
    throw new OAuthError(400, 'invalid_grant', 'client_assertion sub must equal iss');
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const accepted = acceptedAudiences(ctx);
  if (!aud.some((a) => typeof a === 'string' && accepted.includes(a))) {
    throw new OAuthError(400, 'invalid_grant', `client_assertion aud must be ${accepted[0]}`);
  }
  if (typeof payload.exp !== 'number')
    throw new OAuthError(400, 'invalid_grant', 'client_assertion needs exp');
  if (typeof payload.jti !== 'string' || payload.jti === '') {
    throw new OAuthError(400, 'invalid_grant', 'client_assertion needs a jti');
  }
  const now = Date.now();
  for (const [key, expiry] of ctx.store.usedJtis) if (expiry < now) ctx.store.usedJtis.delete(key);
  const jtiKey = `${clientId} ${payload.jti}`;
  if (ctx.store.usedJtis.has(jtiKey))
    throw new OAuthError(400, 'invalid_grant', 'client_assertion jti was already used');
  ctx.store.usedJtis.set(jtiKey, payload.exp * 1000);

  const asked = (field(body, 'scope') ?? '').split(' ').filter(Boolean);
  // Canvas also grants its Data Services scopes (Live Events subscriptions) to a key that holds them.
  const known =
    ctx.profile.flavour === 'canvas' ? [...SERVICE_SCOPES, ...DATA_SERVICES_SCOPES] : SERVICE_SCOPES;
  const scopes = asked.filter((s) => known.includes(s) && client.scopes.includes(s));
  if (scopes.length === 0) {
    throw new OAuthError(
      400,
      'invalid_scope',
      `none of the scopes asked are granted to this tool: "${asked.join(' ')}"`,
    );
  }
  const token: AccessToken = {
    accessToken: randomBytes(24).toString('base64url'),
    clientId,
    scopes,
    expiresAt: now + TOKEN_LIFETIME_S * 1000,
  };
  ctx.store.accessTokens.set(token.accessToken, token);
  ctx.store.tokensIssued.push(token);
  return token;
}

export function tokenRouter(ctx: PlatformContext): Router {
  const router = Router();
  router.post(PATHS.token, async (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    try {
      const token = await grant(ctx, (req.body ?? {}) as Record<string, unknown>);
      res.json({
        access_token: token.accessToken,
        token_type: 'Bearer',
        expires_in: TOKEN_LIFETIME_S,
        scope: token.scopes.join(' '),
      });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      ctx.store.refuse(PATHS.token, err.error, err.message);
      res.status(err.status).json({ error: err.error, error_description: err.message });
    }
  });
  return router;
}

/** The access token a request carries, once `requireScope` let it through. */
export function accessOf(res: Response): AccessToken {
  return res.locals.access as AccessToken;
}

/** Lets a request through when its Bearer token is live and holds one of `anyOf`. */
export function requireScope(ctx: PlatformContext, ...anyOf: string[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const [scheme, value] = header.split(' ');
    const token = scheme?.toLowerCase() === 'bearer' && value ? ctx.store.accessTokens.get(value) : undefined;
    const deny = (status: number, error: string, description: string) => {
      ctx.store.refuse(req.path, error, description);
      res
        .status(status)
        .set('WWW-Authenticate', `Bearer error="${error}"`)
        .json({ error, error_description: description });
    };
    if (!token) return deny(401, 'invalid_token', 'a valid Bearer access token is required');
    if (token.expiresAt <= Date.now()) return deny(401, 'invalid_token', 'the access token has expired');
    if (!anyOf.some((s) => token.scopes.includes(s))) {
      return deny(403, 'insufficient_scope', `one of these scopes is required: ${anyOf.join(' ')}`);
    }
    res.locals.access = token;
    next();
  };
}
