import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger.js';

/**
 * One short line per request, with no token in it. Launch tokens (ltik) ride in page URLs, so they
 * turn up in the URL, the Referer of the next request and the Location of redirects; OIDC and
 * registration parameters carry states, codes and tokens. Every URL-shaped value that is logged goes
 * through redactUrl, and anything that looks like a JWT is cut wherever it stands.
 */
const SECRET_PARAMS = new Set([
  'ltik',
  'id_token',
  'state',
  'nonce',
  'code',
  'registration_token',
  'token',
  'access_token',
  'client_assertion',
  'lti_message_hint',
  'login_hint',
  'binding',
]);
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const MAX_URL = 300;
const REDACTED = '[redacted]';

/** A URL (absolute or a path) with the values of token-bearing query parameters replaced. */
export function redactUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const withoutParams = value.replace(/([?&;])([^=&#;]+)=([^&#;]*)/g, (whole, sep: string, name: string) => {
    let key = name;
    try {
      key = decodeURIComponent(name);
    } catch {
      // an undecodable name is logged as it came
    }
    return SECRET_PARAMS.has(key.toLowerCase()) ? `${sep}${name}=${REDACTED}` : whole;
  });
  const cut = withoutParams.replace(JWT_LIKE, REDACTED);
  return cut.length > MAX_URL ? `${cut.slice(0, MAX_URL)}…` : cut;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The request logger of the app. */
export function requestLogger(logger: Logger) {
  const genReqId = (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    return id;
  };
  const http = pinoHttp({
    logger,
    genReqId,
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    // The raw request and response objects, not pino-http's default serialized ones.
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage & { id?: unknown; originalUrl?: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.originalUrl ?? req.url),
        referer: redactUrl(req.headers?.referer),
        remoteAddress: req.socket?.remoteAddress,
        contentLength: req.headers?.['content-length'],
      }),
      res: (res: ServerResponse) => {
        const location = typeof res.getHeader === 'function' ? res.getHeader('location') : undefined;
        return {
          statusCode: res.statusCode,
          ...(location !== undefined ? { location: redactUrl(String(location)) } : {}),
        };
      },
    },
  });
  if (logger.isLevelEnabled('info')) return http;
  // Above info no line is written per request, yet pino-http would still make each request its
  // logger (the request serialized, its URLs redacted): a fifth of a cached page's CPU. The id is
  // given as before; the request's logger is made when something logs through it (a failure).
  return (req: IncomingMessage & { id?: unknown; log?: unknown }, res: ServerResponse, next: () => void) => {
    req.id = genReqId(req, res);
    let log: unknown;
    Object.defineProperty(req, 'log', {
      configurable: true,
      enumerable: true,
      get: () => (log ??= http.logger.child({ req })),
      set: (value: unknown) => {
        log = value;
      },
    });
    next();
  };
}
