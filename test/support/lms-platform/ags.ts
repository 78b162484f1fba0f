/**
 * Assignment and Grade Services 2.0: line items (a tool sees only its own), results and scores, with the
 * media types of the spec.
 */
import { Router, type Request, type Response } from 'express';
import { lineItemUrl, type PlatformContext } from './context.js';
import { paginate } from './nrps.js';
import { accessOf, requireScope } from './token.js';
import { MEDIA, SCOPE, type LineItem } from './types.js';

const ACTIVITY = ['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed'];
const GRADING = ['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady'];
const BASE = '/api/lti/courses/:courseId/line_items';

export function lineItemView(ctx: PlatformContext, item: LineItem): Record<string, unknown> {
  return {
    id: lineItemUrl(ctx, item.courseId, item.id),
    scoreMaximum: item.scoreMaximum,
    label: item.label,
    ...(item.resourceId !== undefined ? { resourceId: item.resourceId } : {}),
    ...(item.tag !== undefined ? { tag: item.tag } : {}),
    ...(item.resourceLinkId !== undefined ? { resourceLinkId: item.resourceLinkId } : {}),
    ...(item.startDateTime !== undefined ? { startDateTime: item.startDateTime } : {}),
    ...(item.endDateTime !== undefined ? { endDateTime: item.endDateTime } : {}),
  };
}

function send(res: Response, status: number, mediaType: string, body: unknown) {
  res.status(status).type(mediaType).send(JSON.stringify(body));
}

function fail(res: Response, status: number, error: string, description: string) {
  res.status(status).json({ error, error_description: description });
}

function isStr(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

/** Checks a line item body; answers 400 and returns undefined when it is not acceptable. */
function lineItemBody(req: Request, res: Response): Record<string, unknown> | undefined {
  if (!req.is(MEDIA.lineItem) && !req.is('application/json')) {
    fail(res, 415, 'unsupported_media_type', `Content-Type must be ${MEDIA.lineItem}`);
    return undefined;
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (!isStr(body.label)) return void fail(res, 400, 'invalid_request', 'label is required');
  if (typeof body.scoreMaximum !== 'number' || !(body.scoreMaximum > 0)) {
    return void fail(res, 400, 'invalid_request', 'scoreMaximum must be a number greater than 0');
  }
  return body;
}

function applyOptional(item: LineItem, body: Record<string, unknown>) {
  for (const key of ['resourceId', 'tag', 'startDateTime', 'endDateTime'] as const) {
    if (isStr(body[key])) item[key] = body[key] as string;
  }
}

/**
 * Moodle's mod/lti/services.php: a GET whose Accept is not empty, holds no `*\/*` and is not exactly one of
 * the resource's media types gets 400 "No handler found for <path> <accept> " (Canvas is lenient).
 */
function moodleAccept(ctx: PlatformContext, ...formats: string[]) {
  return (req: Request, res: Response, next: () => void) => {
    const accept = req.get('accept') ?? '';
    if (
      ctx.profile.flavour !== 'moodle' ||
      accept === '' ||
      accept.includes('*/*') ||
      formats.includes(accept)
    )
      return next();
    res.status(400).json({
      status: 400,
      reason: `No handler found for ${req.path} ${accept} `,
      request: { method: req.method, url: req.originalUrl, accept, contentType: '' },
    });
  };
}

export function agsRouter(ctx: PlatformContext): Router {
  const router = Router();
  const { store } = ctx;
  router.get(BASE, moodleAccept(ctx, MEDIA.lineItemContainer, MEDIA.lineItem));
  router.get(`${BASE}/:id`, moodleAccept(ctx, MEDIA.lineItem));
  router.get(`${BASE}/:id/results`, moodleAccept(ctx, MEDIA.resultContainer));
  // Moodle 5.1's results resource fails on `limit` for LTI 1.3 calls (no last-page URL: a fatal error,
  // answered as its HTML error page with status 404); the whole list comes without it.
  router.get(`${BASE}/:id/results`, (req, res, next) => {
    if (ctx.profile.flavour !== 'moodle' || req.query.limit === undefined) return next();
    res
      .status(404)
      .type('html')
      .send('<!DOCTYPE html><title>Error</title><p>Exception - Call to a member function out() on null</p>');
  });
  const read = requireScope(ctx, SCOPE.lineItem, SCOPE.lineItemReadonly);
  const write = requireScope(ctx, SCOPE.lineItem);

  /** The course's line item named in the path, if it exists and belongs to the calling tool; else 404. */
  const ownItem = (req: Request, res: Response): LineItem | undefined => {
    const item = store.lineItem(String(req.params.courseId), String(req.params.id));
    if (!item || item.clientId !== accessOf(res).clientId) {
      return void fail(res, 404, 'not_found', `line item ${String(req.params.id)} not found`);
    }
    return item;
  };
  const courseExists = (req: Request, res: Response): boolean => {
    if (store.courses.has(String(req.params.courseId))) return true;
    fail(res, 404, 'not_found', `course ${String(req.params.courseId)} not found`);
    return false;
  };

  router.get(BASE, read, (req, res) => {
    if (!courseExists(req, res)) return;
    const q = req.query;
    const items = store
      .lineItems(String(req.params.courseId), accessOf(res).clientId)
      .filter((i) => !isStr(q.resource_link_id) || i.resourceLinkId === q.resource_link_id)
      .filter((i) => !isStr(q.resource_id) || i.resourceId === q.resource_id)
      .filter((i) => !isStr(q.tag) || i.tag === q.tag);
    send(
      res,
      200,
      MEDIA.lineItemContainer,
      paginate(ctx, req, res, items).map((i) => lineItemView(ctx, i)),
    );
  });

  router.post(BASE, write, (req, res) => {
    if (!courseExists(req, res)) return;
    const body = lineItemBody(req, res);
    if (!body) return;
    const item = store.addLineItem(String(req.params.courseId), {
      label: body.label as string,
      scoreMaximum: body.scoreMaximum as number,
      ...(isStr(body.resourceLinkId) ? { resourceLinkId: body.resourceLinkId } : {}),
      clientId: accessOf(res).clientId,
    });
    applyOptional(item, body);
    send(res, 201, MEDIA.lineItem, lineItemView(ctx, item));
  });

  router.get(`${BASE}/:id`, read, (req, res) => {
    const item = ownItem(req, res);
    if (item) send(res, 200, MEDIA.lineItem, lineItemView(ctx, item));
  });

  router.put(`${BASE}/:id`, write, (req, res) => {
    const item = ownItem(req, res);
    const body = item && lineItemBody(req, res);
    if (!item || !body) return;
    item.label = body.label as string;
    item.scoreMaximum = body.scoreMaximum as number;
    applyOptional(item, body);
    send(res, 200, MEDIA.lineItem, lineItemView(ctx, item));
  });

  router.delete(`${BASE}/:id`, write, (req, res) => {
    const item = ownItem(req, res);
    if (!item) return;
    store.deleteLineItem(item.id);
    res.status(204).end();
  });

  router.get(`${BASE}/:id/results`, requireScope(ctx, SCOPE.resultReadonly), (req, res) => {
    const item = ownItem(req, res);
    if (!item) return;
    const userId = isStr(req.query.user_id) ? req.query.user_id : undefined;
    const itemUrl = lineItemUrl(ctx, item.courseId, item.id);
    const results = store
      .resultsFor(item.id)
      .filter((r) => !userId || r.sub === userId)
      .map((r) => ({
        id: `${itemUrl}/results/${encodeURIComponent(r.sub)}`,
        scoreOf: itemUrl,
        userId: r.sub,
        ...(r.resultScore !== undefined ? { resultScore: r.resultScore } : {}),
        resultMaximum: r.resultMaximum,
        ...(r.comment !== undefined ? { comment: r.comment } : {}),
      }));
    send(res, 200, MEDIA.resultContainer, paginate(ctx, req, res, results));
  });

  router.post(`${BASE}/:id/scores`, requireScope(ctx, SCOPE.score), (req, res) => {
    const item = ownItem(req, res);
    if (!item) return;
    if (!req.is(MEDIA.score)) {
      return fail(res, 415, 'unsupported_media_type', `Content-Type must be ${MEDIA.score}`);
    }
    const score = (req.body ?? {}) as Record<string, unknown>;
    const problem = scoreProblem(score);
    if (problem) return fail(res, 400, 'invalid_request', problem);
    const sub = score.userId as string;
    if (!store.enrolment(item.courseId, sub)) {
      return fail(res, 422, 'unknown_user', `user ${sub} is not a member of course ${item.courseId}`);
    }
    const previous = store.result(item.id, sub);
    if (previous?.timestamp && Date.parse(score.timestamp as string) < Date.parse(previous.timestamp)) {
      return fail(res, 409, 'conflict', 'timestamp is older than the last score of this user');
    }
    store.scoresReceived.push({
      courseId: item.courseId,
      lineItemId: item.id,
      clientId: accessOf(res).clientId,
      contentType: req.get('content-type') ?? '',
      score,
      receivedAt: new Date(),
    });
    const given = score.scoreGiven;
    if (typeof given === 'number' && score.gradingProgress === 'FullyGraded') {
      store.setResult({
        lineItemId: item.id,
        sub,
        resultScore: (given * item.scoreMaximum) / (score.scoreMaximum as number),
        resultMaximum: item.scoreMaximum,
        ...(isStr(score.comment) ? { comment: score.comment } : {}),
        timestamp: score.timestamp as string,
      });
    } else if (given === undefined && score.gradingProgress === 'FullyGraded') {
      store.clearResult(item.id, sub);
    }
    const resultUrl = `${lineItemUrl(ctx, item.courseId, item.id)}/results/${encodeURIComponent(sub)}`;
    res.status(200).json({ resultUrl });
  });

  return router;
}

/** What is wrong with a score body, or undefined. */
export function scoreProblem(score: Record<string, unknown>): string | undefined {
  if (!isStr(score.userId)) return 'userId is required';
  if (!isStr(score.timestamp) || Number.isNaN(Date.parse(score.timestamp))) {
    return 'timestamp is required (ISO 8601)';
  }
  if (!ACTIVITY.includes(score.activityProgress as string)) {
    return `activityProgress must be one of ${ACTIVITY.join(', ')}`;
  }
  if (!GRADING.includes(score.gradingProgress as string)) {
    return `gradingProgress must be one of ${GRADING.join(', ')}`;
  }
  if (score.scoreGiven !== undefined) {
    if (typeof score.scoreGiven !== 'number' || score.scoreGiven < 0)
      return 'scoreGiven must be a number ≥ 0';
    if (typeof score.scoreMaximum !== 'number' || !(score.scoreMaximum > 0)) {
      return 'scoreMaximum (> 0) is required with scoreGiven';
    }
  }
  return undefined;
}
