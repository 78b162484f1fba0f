/**
 * Domain errors: what went wrong, in the domain's words. Services throw these (or HttpError where
 * they speak for a route); only the web layer decides how each is answered. Each kind carries the
 * HTTP status the web layer answers with, so `src/web/app.ts` maps every one without knowing them.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Base of the domain errors: `code` is stable for programs, `message` is for people. */
export class DomainError extends HttpError {
  constructor(
    status: number,
    code: string,
    message: string,
    details: { path: string; message: string }[] = [],
  ) {
    super(status, code, message, details);
    this.name = new.target.name;
  }
}

/** The thing named does not exist (or is not visible in the caller's scope). */
export class NotFoundError extends DomainError {
  constructor(what: string) {
    super(404, 'not_found', `${what} was not found.`);
  }
}

/** The request contradicts the current state (already live, not live, pending platform, …). */
export class ConflictError extends DomainError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

/** The input is not acceptable. */
export class InvalidInputError extends DomainError {
  constructor(message: string, details: { path: string; message: string }[] = [], code = 'invalid_request') {
    super(400, code, message, details);
  }
}

export const badRequest = (message: string, details: { path: string; message: string }[] = []) =>
  new InvalidInputError(message, details);
export const notFound = (what: string) => new NotFoundError(what);
export const forbidden = (message = 'You do not have access to this page.') =>
  new HttpError(403, 'forbidden', message);
export const conflict = (message: string) => new ConflictError('conflict', message);

/** MongoDB's duplicate-key error (E11000): a unique index refused a write. The one check for it. */
export const isDuplicateKey = (err: unknown): boolean => (err as { code?: number } | null)?.code === 11000;

/** The per-document errors of an unordered insertMany / bulkWrite that failed in part. */
export function writeErrorsOf(err: unknown): { index: number; code?: number }[] {
  const e = err as {
    writeErrors?: { index: number; code?: number }[] | { index: number; code?: number };
  } | null;
  return Array.isArray(e?.writeErrors) ? e.writeErrors : e?.writeErrors ? [e.writeErrors] : [];
}
