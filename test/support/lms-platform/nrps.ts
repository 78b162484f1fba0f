/** Names and Role Provisioning Services 2.0: a course's membership, paged with `limit` and a `Link` header. */
import { Router, type Request, type Response } from 'express';
import type { PlatformContext } from './context.js';
import { accessOf, requireScope } from './token.js';
import { MEDIA, SCOPE } from './types.js';

function roleMatches(memberRoles: string[], wanted: string): boolean {
  return memberRoles.some((r) => r === wanted || r.slice(r.lastIndexOf('#') + 1) === wanted);
}

export function positiveInt(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '' || ![...value].every((c) => c >= '0' && c <= '9'))
    return undefined;
  const n = Number(value);
  return n > 0 ? n : undefined;
}

/** Slices one page out of `all` and sets the `Link: <…>; rel="next"` header when more remain. */
export function paginate<T>(ctx: PlatformContext, req: Request, res: Response, all: T[]): T[] {
  const limit = positiveInt(req.query.limit);
  if (!limit) return all;
  const pageNo = positiveInt(req.query.page) ?? 1;
  const start = (pageNo - 1) * limit;
  if (start + limit < all.length) {
    const next = new URL(`${ctx.url}${req.originalUrl}`);
    next.searchParams.set('limit', String(limit));
    next.searchParams.set('page', String(pageNo + 1));
    res.set('Link', `<${next.toString()}>; rel="next"`);
  }
  return all.slice(start, start + limit);
}

export function nrpsRouter(ctx: PlatformContext): Router {
  const router = Router();
  const handler = (req: Request, res: Response) => {
    const courseId = String(req.params.courseId);
    const course = ctx.store.courses.get(courseId);
    if (!course) {
      res.status(404).json({ error: 'not_found', error_description: `course ${courseId} not found` });
      return;
    }
    const client = ctx.store.client(accessOf(res).clientId);
    const level = client.privacy;
    const withName = level === 'public' || level === 'name_only';
    const withEmail = level === 'public' || level === 'email_only';
    const role = typeof req.query.role === 'string' && req.query.role !== '' ? req.query.role : undefined;
    const members = ctx.store
      .members(courseId)
      .map(({ user, enrolment }) => ({ user, enrolment, roles: ctx.profile.memberRoles(enrolment.roles) }))
      .filter((m) => !role || roleMatches(m.roles, role))
      .map(({ user, enrolment, roles }) => ({
        status: enrolment.status,
        user_id: user.sub,
        roles,
        ...(withName
          ? {
              name: user.name,
              given_name: user.givenName,
              family_name: user.familyName,
              ...(user.sourcedId !== undefined ? { lis_person_sourcedid: user.sourcedId } : {}),
            }
          : {}),
        ...(withEmail ? { email: user.email } : {}),
        ...(ctx.profile.flavour === 'canvas' && level === 'public' && user.picture
          ? { picture: user.picture }
          : {}),
      }));
    const page = paginate(ctx, req, res, members);
    res
      .status(200)
      .type(MEDIA.membershipContainer)
      .send(
        JSON.stringify({
          id: `${ctx.url}${req.originalUrl}`,
          context: { id: course.contextId, label: course.label, title: course.title },
          members: page,
        }),
      );
  };
  const guard = requireScope(ctx, SCOPE.nrps);
  router.get('/api/lti/courses/:courseId/memberships', guard, handler);
  router.get('/api/lti/courses/:courseId/names_and_roles', guard, handler);
  return router;
}
