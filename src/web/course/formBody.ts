import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { HttpError } from '../../errors.js';
import { CSRF_FIELD, CSRF_HEADER, csrfTokenMatches } from '../../lti/csrf.js';
import { refusal } from '../../lti/refusals.js';

/**
 * Reading the bodies of the course pages' forms. Nothing here runs before the launch is known:
 * the routes put launchSession (the ltik comes from the form action's query or a header, never
 * from the body), the role checks and csrfHeaderFirst in front of these parsers, so a request
 * without a valid launch is answered before a byte of its body is read.
 *
 * Then every body is bounded:
 * - a declared Content-Length above the cap is refused (413) before reading;
 * - the bytes read are counted as they arrive, and past the cap the answer (413) goes out at once;
 * - multer's limits bound fields, field sizes, field names, nesting, files and parts;
 * - a multipart form must open with its CSRF token (the form's first field, as the badge form puts
 *   it) unless the `X-CSRF-Token` header carried it: any other first part is refused at once, and
 *   the picture is only read after the token;
 * - an answer given before the body was read closes the connection, so no one can make Laurel
 *   read (and drop) an endless body to keep the connection alive.
 * A malformed or truncated body is a 400 in Laurel's error shape, never a 500.
 */

const MiB = 1024 * 1024;

/** The file fields of the levels' own pictures, one per level row of the badge form. */
export const LEVEL_IMAGE_FIELDS = [
  'levelImage0',
  'levelImage1',
  'levelImage2',
  'levelImage3',
  'levelImage4',
] as const;

export const FORM_LIMITS = {
  /** A whole multipart badge form, its picture included. */
  multipartBytes: 3 * MiB,
  /**
   * The picture: well above the image check's own limit (src/images/check.ts), so a picture a
   * little too large reaches that check and its message is shown beside the field.
   */
  imageBytes: 2 * MiB,
  /** A badge form without its picture, as the live summary posts it. */
  urlencodedBytes: 256 * 1024,
  /** The small forms (confirmations, deep linking): an ltik, a token and a choice. */
  smallBytes: 16 * 1024,
  smallFields: 20,
  /** A choice among the course's learners (award by hand): one field per chosen learner and a note. */
  pickBytes: 64 * 1024,
  pickFields: 520,
  fields: 1000,
  /** 5,000 characters of description in UTF-8 with CRLF line breaks fit. */
  fieldBytes: 32 * 1024,
  fieldNameBytes: 100,
  /** `groups[g][r][kind]`: three levels of brackets. */
  nesting: 3,
  arrayIndex: 500,
} as const;

const declaredLength = (req: IncomingMessage) => Number(req.headers['content-length'] ?? 0);

/** Whether part of the request's body may still be on its way (one was announced, not all arrived). */
export function bodyUnread(req: IncomingMessage): boolean {
  const announced = req.headers['transfer-encoding'] !== undefined || declaredLength(req) > 0;
  return announced && !req.complete;
}

/**
 * An answer given before the body was read closes the connection: to keep it alive, Node would
 * read (and drop) the rest of the body, however long the sender makes it.
 */
export function closeIfBodyUnread(req: IncomingMessage, res: Response): void {
  if (bodyUnread(req) && !res.headersSent) res.set('Connection', 'close');
}

const tooLarge = (maxBytes: number) =>
  new HttpError(
    413,
    'too_large',
    `The form is too large: at most ${maxBytes >= MiB ? `${maxBytes / MiB} MiB` : `${maxBytes / 1024} KiB`}.`,
  );

const malformed = () =>
  new HttpError(400, 'invalid_request', 'The form could not be read: it is malformed or incomplete.');

/** What went wrong while reading a body, as Laurel's errors (never a 500). */
function formError(err: unknown, maxBytes: number): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') {
      const message = `The picture is larger than ${FORM_LIMITS.imageBytes / MiB} MiB.`;
      return new HttpError(413, 'too_large', message, [{ path: 'image', message }]);
    }
    if (err.code === 'LIMIT_UNEXPECTED_FILE' || err.code === 'LIMIT_FILE_COUNT') {
      const message = 'Only one file, the picture, may be sent.';
      return new HttpError(400, 'invalid_request', message, [{ path: err.field ?? 'image', message }]);
    }
    return new HttpError(
      400,
      'invalid_request',
      'The form has too many fields or parts, or a field that is too long or too deeply nested.',
      err.field ? [{ path: err.field, message: 'is beyond the form limits' }] : [],
    );
  }
  const e = err as { type?: string; status?: number } | undefined;
  if (e?.type === 'entity.too.large') return tooLarge(maxBytes);
  if (e?.type === 'parameters.too.many')
    return new HttpError(400, 'invalid_request', 'The form has too many fields.');
  if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported')
    return new HttpError(415, 'unsupported_media_type', 'Send the form as UTF-8, uncompressed.');
  return malformed();
}

/** The request being read, for the hooks multer calls with the request only. */
type Reading = {
  res: Response;
  /** The launch's CSRF token arrived (header, or the multipart form's first field). */
  csrfSeen: boolean;
  /** Answers now with `err` and stops feeding the parser; what the parser reports later is dropped. */
  abort: (err: Error) => void;
};
const readings = new WeakMap<IncomingMessage, Reading>();

function countBytes(req: IncomingMessage, maxBytes: number, abort: (err: Error) => void) {
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > maxBytes) abort(tooLarge(maxBytes));
  });
}

const upload = multer({
  storage: multer.memoryStorage(),
  limits: {
    fileSize: FORM_LIMITS.imageBytes,
    // The badge's picture and one per level (LEVEL_IMAGE_FIELDS).
    files: 1 + LEVEL_IMAGE_FIELDS.length,
    fields: FORM_LIMITS.fields,
    fieldSize: FORM_LIMITS.fieldBytes,
    fieldNameSize: FORM_LIMITS.fieldNameBytes,
    parts: FORM_LIMITS.fields + 1,
    headerPairs: 20,
    fieldNestingDepth: FORM_LIMITS.nesting,
    fieldArrayIndexLimit: FORM_LIMITS.arrayIndex,
  },
  // The picture is read only once the token came before it.
  fileFilter: (req, _file, cb) => {
    const reading = readings.get(req);
    if (reading?.csrfSeen) return cb(null, true);
    const refused = refusal.invalidForm();
    reading?.abort(refused);
    cb(refused);
  },
  // multer ≥ 2.1 feeds busboy through this hook (not in @types/multer yet).
  streamHandler: (req: IncomingMessage, busboy: Writable) => {
    const reading = readings.get(req);
    if (reading) {
      let first = true;
      const firstPart = (name: string, value?: string) => {
        if (!first) return;
        first = false;
        if (reading.csrfSeen) return;
        if (name === CSRF_FIELD && csrfTokenMatches(reading.res, value)) reading.csrfSeen = true;
        else reading.abort(refusal.invalidForm());
      };
      busboy.on('field', (name: string, value: string) => firstPart(name, value));
      busboy.on('file', (name: string) => firstPart(name));
    }
    req.pipe(busboy);
    if (reading) countBytes(req, FORM_LIMITS.multipartBytes, reading.abort);
  },
} as multer.Options);
const uploadImage = upload.fields([
  { name: 'image', maxCount: 1 },
  ...LEVEL_IMAGE_FIELDS.map((name) => ({ name, maxCount: 1 })),
]);

type Parser = (req: Request, res: Response, done: (err?: unknown) => void) => void;

/** Runs `parse` on a body of at most `maxBytes`, answering at once when it grows past that. */
function bounded(parse: Parser, maxBytes: number, countsItself: boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (declaredLength(req) > maxBytes) {
      closeIfBodyUnread(req, res);
      return next(tooLarge(maxBytes));
    }
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      readings.delete(req);
      if (err === undefined || err === null) return next();
      closeIfBodyUnread(req, res);
      if (!(err instanceof HttpError))
        req.log?.info({ reason: (err as Error)?.message }, 'a course form could not be read');
      next(formError(err, maxBytes));
    };
    const abort = (err: Error) => {
      if (settled) return;
      req.unpipe();
      if (!res.headersSent) res.set('Connection', 'close');
      finish(err);
    };
    readings.set(req, { res, csrfSeen: csrfTokenMatches(res, req.get(CSRF_HEADER)), abort });
    try {
      parse(req, res, finish);
    } catch (err) {
      return finish(err);
    }
    if (!settled && !countsItself) countBytes(req, maxBytes, abort);
  };
}

const urlencoded = (limit: number, parameterLimit: number, depth: number) =>
  express.urlencoded({ extended: depth > 0, limit, parameterLimit, depth, inflate: false });

const badgeMultipart = bounded(
  (req, res, done) => uploadImage(req, res, done),
  FORM_LIMITS.multipartBytes,
  true,
);
const badgeUrlencoded = bounded(
  urlencoded(FORM_LIMITS.urlencodedBytes, FORM_LIMITS.fields, FORM_LIMITS.nesting),
  FORM_LIMITS.urlencodedBytes,
  false,
);

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || declaredLength(req) > 0;

/**
 * The badge form (multipart, with its picture) and the live summary (urlencoded, from the page's
 * script). Goes after launchSession, the role checks and csrfHeaderFirst; requireCsrf follows it.
 */
export const badgeFormBody: RequestHandler = (req, res, next) => {
  if (!hasBody(req)) {
    req.body = {};
    return next();
  }
  if (req.is('multipart/form-data')) return badgeMultipart(req, res, next);
  if (req.is('application/x-www-form-urlencoded')) return badgeUrlencoded(req, res, next);
  closeIfBodyUnread(req, res);
  next(
    new HttpError(
      415,
      'unsupported_media_type',
      'Send the form as multipart/form-data or application/x-www-form-urlencoded.',
    ),
  );
};

const smallUrlencoded = bounded(
  urlencoded(FORM_LIMITS.smallBytes, FORM_LIMITS.smallFields, 0),
  FORM_LIMITS.smallBytes,
  false,
);

/** The small urlencoded forms (a confirmation, deep linking): a few fields, 16 KiB at most. */
export const smallFormBody: RequestHandler = (req, res, next) => {
  if (!hasBody(req)) {
    req.body = {};
    return next();
  }
  if (req.is('application/x-www-form-urlencoded')) return smallUrlencoded(req, res, next);
  closeIfBodyUnread(req, res);
  next(new HttpError(415, 'unsupported_media_type', 'Send the form as application/x-www-form-urlencoded.'));
};

const pickUrlencoded = bounded(
  urlencoded(FORM_LIMITS.pickBytes, FORM_LIMITS.pickFields, 0),
  FORM_LIMITS.pickBytes,
  false,
);

/** A form that picks learners (many fields of one name), urlencoded, 64 KiB at most. */
export const pickFormBody: RequestHandler = (req, res, next) => {
  if (!hasBody(req)) {
    req.body = {};
    return next();
  }
  if (req.is('application/x-www-form-urlencoded')) return pickUrlencoded(req, res, next);
  closeIfBodyUnread(req, res);
  next(new HttpError(415, 'unsupported_media_type', 'Send the form as application/x-www-form-urlencoded.'));
};
