import type { RequestHandler } from 'express';

/**
 * ltijs turns parts of a request into cookie names (`state<state>`), database filters and headers
 * without checking them: a `state` with a space made `res.clearCookie` throw inside an async handler
 * and end the process, and a `state` sent as JSON `{ "$ne": null }` would be a database operator.
 * This check runs before ltijs reads anything, so ltijs only ever sees the shapes it expects.
 */

/** States Laurel and ltijs make are hex or base64url; nothing else is ever a state of ours. */
const STATE = /^[A-Za-z0-9_-]{1,512}$/;
/** A compact JWS (id_token, ltik): three base64url parts. */
const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_TOKEN = 64 * 1024;
const MAX_FIELD = 4096;

type FieldRule = { pattern?: RegExp; max: number; what: string };

/** The OIDC login and launch fields ltijs and Laurel read, with the shape each must have. */
const FIELDS: Record<string, FieldRule> = {
  state: { pattern: STATE, max: 512, what: 'letters, digits, "-" and "_" only' },
  id_token: { pattern: JWS, max: MAX_TOKEN, what: 'a signed JWT' },
  ltik: { pattern: JWS, max: MAX_TOKEN, what: 'a launch token' },
  iss: { max: MAX_FIELD, what: 'text' },
  login_hint: { max: MAX_FIELD, what: 'text' },
  target_link_uri: { max: MAX_FIELD, what: 'text' },
  client_id: { max: MAX_FIELD, what: 'text' },
  lti_message_hint: { max: MAX_FIELD, what: 'text' },
  lti_deployment_id: { max: MAX_FIELD, what: 'text' },
  lti_storage_target: { max: MAX_FIELD, what: 'text' },
};

export type FieldProblem = { path: string; message: string };

/**
 * `types`: each field is text of a sane length (for every handler under /lti, Laurel's cookieless
 * ones included, which answer a forged state with their own refusal); `shapes`: also the exact
 * shapes ltijs relies on (before ltijs only).
 */
export type GuardCheck = 'types' | 'shapes';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/** What is wrong with the LTI fields of one source (the parsed body or the query), if anything. */
export function ltiFieldProblems(
  source: unknown,
  where: 'body' | 'query',
  check: GuardCheck = 'shapes',
): FieldProblem[] {
  if (!isRecord(source)) return [];
  const problems: FieldProblem[] = [];
  for (const [name, rule] of Object.entries(FIELDS)) {
    // JSON null is absent to ltijs and to Laurel alike.
    if (!Object.hasOwn(source, name) || source[name] === null) continue;
    const value = source[name];
    const path = `${where}.${name}`;
    if (typeof value !== 'string') problems.push({ path, message: 'must be given once, as text' });
    else if (value.length > rule.max)
      problems.push({ path, message: `must be at most ${rule.max} characters` });
    // ltijs treats an empty field as absent, so an empty one is harmless.
    else if (check === 'shapes' && value !== '' && rule.pattern && !rule.pattern.test(value))
      problems.push({ path, message: `must be ${rule.what}` });
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u001f\u007f]/.test(value))
      problems.push({ path, message: 'must not contain control characters' });
  }
  return problems;
}

/** The token ltijs took from the Authorization header, query or body (`req.token`), if it is not a JWS. */
function tokenProblem(token: unknown): FieldProblem | undefined {
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || token.length > MAX_TOKEN || !JWS.test(token))
    return { path: 'ltik', message: 'must be a launch token' };
  return undefined;
}

/**
 * Express middleware for ltijs's app (in its `serverAddon`, after its body and cookie parsers):
 * hands the problems to `refuse` instead of letting the handlers after it see the request.
 */
export function ltiRequestGuard(
  check: GuardCheck,
  refuse: (problems: FieldProblem[], ...args: Parameters<RequestHandler>) => void,
): RequestHandler {
  return (req, res, next) => {
    const problems = [
      ...ltiFieldProblems(req.body, 'body', check),
      ...ltiFieldProblems(req.query, 'query', check),
      // The key set is public: a stray Authorization header there is nobody's launch.
      ...(req.path === '/keys' || check === 'types'
        ? []
        : [tokenProblem((req as { token?: unknown }).token)]
      ).filter((p): p is FieldProblem => !!p),
    ];
    if (problems.length === 0) return next();
    refuse(problems, req, res, next);
  };
}
