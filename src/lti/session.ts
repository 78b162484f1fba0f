import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { LtiContextToken, LtiIdToken } from 'ltijs';
import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { CourseDoc } from '../db/models/course.js';
import type { CourseFacts } from '../courses/scope.js';
import type { PersonDoc } from '../db/models/person.js';
import { identityPlatformIdOf } from '../db/models/platform.js';
import { checkTokenTimes, DEFAULT_CLOCK_SKEW_S } from '../security/tokenTimes.js';
import { csrfTokenFor, registerCsrfIdentity } from './csrf.js';
import type { LtiDatabase } from './database.js';
import { verifyLtik, type LtikPayload } from './ltik.js';
import { sessionReadsForRequest } from './requestReads.js';
import { refusal, type LaunchRefusal } from './refusals.js';
import { launchKind, type LaunchKind } from './roles.js';

/**
 * The launch a request belongs to, from the ltik it carries (query `ltik`, form field `ltik`, or the
 * `Authorization: LTIK-AUTH-V1 Token=…` header ltijs defines). No cookie is read: inside an LMS iframe
 * the browser may drop them, so the ltik travels in every link and form instead.
 */
export type Launch = {
  platformId: Types.ObjectId;
  /** The course document (null for a launch without a course context). */
  courseRef: Types.ObjectId | null;
  /** What the session read of that course (CourseScope.course): its LMS ids and end dates. */
  course: CourseFacts | null;
  personId: Types.ObjectId;
  roles: string[];
  kind: LaunchKind;
  ltik: string;
  courseTitle: string | null;
  personName: string | null;
  platformName: string;
  messageType: string;
};

/** Sessions end this long after the launch, even while ltijs still keeps the tokens (24 h). */
export const SESSION_MAX_AGE_S = 12 * 3600;

export function ltikOf(req: Request): string | undefined {
  const header = req.get('authorization') ?? '';
  const fromHeader = header.startsWith('LTIK-AUTH-V1 Token=') ? header.slice(19).split(',')[0] : undefined;
  const fromQuery = typeof req.query.ltik === 'string' ? req.query.ltik : undefined;
  const body = req.body as Record<string, unknown> | undefined;
  const fromBody = typeof body?.ltik === 'string' ? body.ltik : undefined;
  return fromHeader || fromQuery || fromBody || undefined;
}

/**
 * Resolves an ltik to the launch, its ltijs token (for LTI services) and Laurel's records; throws a
 * refusal. With the request, its platform is read once for every middleware that needs it.
 */
export async function resolveLaunch(
  ctx: Context,
  db: LtiDatabase,
  ltik: string | undefined,
  req?: Request,
): Promise<{ launch: Launch; token: LtiIdToken }> {
  const fail = (r: LaunchRefusal): never => {
    throw r;
  };
  if (!ltik) return fail(refusal.noLaunch());
  let payload: LtikPayload;
  try {
    payload = verifyLtik(ltik, ctx.config.ltiKey);
  } catch {
    return fail(refusal.sessionExpired());
  }
  // Laurel signs ltiks itself, but its own clock may have jumped: an ltik from the future is no session.
  if (
    checkTokenTimes(payload, ctx.now(), DEFAULT_CLOCK_SKEW_S, {
      require: ['iat'],
      maxAgeSeconds: SESSION_MAX_AGE_S,
    })
  )
    return fail(refusal.sessionExpired());
  // The platform and ltijs's two records of the session in one round trip (framing may have read them).
  const { platform, idToken, contextToken } = await sessionReadsForRequest(ctx, req, db, payload);
  if (!idToken || !contextToken) return fail(refusal.sessionExpired());
  const context = contextToken as unknown as LtiContextToken;
  const token = {
    ...(idToken as unknown as Omit<LtiIdToken, 'platformContext'>),
    platformContext: context,
  } as LtiIdToken;
  if (!platform) return fail(refusal.unknownPlatform());
  if (!platform.deploymentIds.includes(payload.deploymentId)) return fail(refusal.unknownDeployment());
  // Registrations of one LMS share its courses and people (PlatformDoc.sameLmsAs).
  const identityId = identityPlatformIdOf(platform);
  const contextId = context.context?.id;
  // Side by side: neither read depends on the other. Plain reads of whole documents through the
  // driver (what a lean mongoose read answers, without its query building on every course page).
  const [person, course] = await Promise.all([
    ctx.models.people.collection.findOne<PersonDoc>({ platformId: identityId, ids: String(payload.user) }),
    // Cast as the schema would (ids are strings; an LMS may send a number).
    contextId
      ? ctx.models.courses.collection.findOne<CourseDoc>({ platformId: identityId, ids: String(contextId) })
      : null,
  ]);
  if (!person) return fail(refusal.sessionExpired());
  const roles = Array.isArray(context.roles) ? context.roles : [];
  const launch: Launch = {
    platformId: identityId,
    courseRef: course?._id ?? null,
    course: course
      ? {
          _id: course._id,
          ids: course.ids,
          lmsEndsAt: course.lmsEndsAt,
          instructorEndsAt: course.instructorEndsAt,
        }
      : null,
    personId: person._id,
    roles,
    kind: launchKind(roles),
    ltik,
    courseTitle: course?.title ?? context.context?.title ?? null,
    personName: person.name ?? null,
    platformName: platform.name,
    messageType: context.messageType ?? 'LtiResourceLinkRequest',
  };
  registerCsrfIdentity(launch, ctx.config.ltiKey, payload);
  return { token, launch };
}

/**
 * Express middleware: `res.locals.launch`, `res.locals.ltiToken` and `res.locals.csrfToken` (the
 * launch's CSRF token for forms, see csrf.ts), or a refusal passed on as an error.
 */
export function launchSession(ctx: Context, db: LtiDatabase): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const { launch, token } = await resolveLaunch(ctx, db, ltikOf(req), req);
    res.locals.launch = launch;
    res.locals.ltiToken = token;
    res.locals.csrfToken = csrfTokenFor(launch);
    // Pages carry the ltik: keep them out of shared caches and browser history stores.
    res.set('Cache-Control', 'no-store');
    next();
  };
}

/** Only these kinds may pass; others get 403 and a page that names nothing of the course. */
export function requireKind(...kinds: LaunchKind[]): RequestHandler {
  return (_req, res, next) => {
    const launch = res.locals.launch as Launch | undefined;
    if (!launch || !kinds.includes(launch.kind)) throw refusal.notAllowed();
    next();
  };
}
