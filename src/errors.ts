/** A failure that maps to an HTTP status: `code` is stable for programs, `message` is for people. */
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

export const badRequest = (message: string, details: { path: string; message: string }[] = []) =>
  new HttpError(400, 'invalid_request', message, details);
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} was not found.`);
export const forbidden = (message = 'You do not have access to this page.') =>
  new HttpError(403, 'forbidden', message);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
