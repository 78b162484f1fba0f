import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '../../errors.js';
import { secretsEqual } from '../../security/compare.js';

/** The admin API's Bearer key check. */
export function requireAdminKey(adminApiKey: string) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !secretsEqual(match[1]!.trim(), adminApiKey)) {
      next(
        new HttpError(
          401,
          'unauthorised',
          'The admin API needs the header Authorization: Bearer <ADMIN_API_KEY>.',
        ),
      );
      return;
    }
    next();
  };
}

export const ADMIN_ACTOR = { type: 'admin' as const, id: 'admin-api' };
