import type { RequestHandler, Response } from 'express';
import { refusal } from '../../lti/refusals.js';
import type { Launch } from '../../lti/session.js';

/** The launch that launchSession resolved for this request (from its signed ltik). */
export const launchOf = (res: Response): Launch => res.locals.launch as Launch;

/** A course page needs a launch from a course: one from elsewhere in the LMS is refused. */
export const needsCourse: RequestHandler = (_req, res, next) => {
  if (!launchOf(res).courseRef) throw refusal.notAllowed();
  next();
};
