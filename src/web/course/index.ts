import { Router, type NextFunction, type Request, type Response } from 'express';
import { launchOf, needsCourse } from './launchOf.js';
import type { Context } from '../../context.js';
import type { Lti } from '../../lti/index.js';
import {
  acceptsLineItem,
  badgesContentItem,
  deepLinkingAnswer,
  defaultDeepLinkForm,
  DEEP_LINK_TITLE,
  newActivityResourceId,
  parseDeepLinkChoice,
  type DeepLinkForm,
} from '../../lti/deep-linking.js';
import { COURSE_PATHS, withLtik } from '../../lti/launch.js';
import { LaunchRefusal, sendRefusal } from '../../lti/refusals.js';
import { renderWith } from '../../lti/index.js';
import { launchSession, requireKind, type Launch } from '../../lti/session.js';
import { pageLocals } from './links.js';
import { lmsAdminRouter } from './lmsAdmin.js';
import { requireCsrf } from '../../lti/csrf.js';
import { instructorRouter } from './instructor.js';
import { badgeCredentialsRouter } from './badgeCredentials.js';
import { learnerBadgeCards } from './learnerPage.js';
import { learnerStatusOf } from '../../courses/learnerStatus.js';
import { learnerBadges, learnerDocuments } from '../../courses/learnerView.js';
import { gradebookColumns } from './gradebook.js';
import { closeIfBodyUnread, smallFormBody } from './formBody.js';
import { providersPageRouter } from './providers.js';
import { serviceBadgesRouter } from './serviceBadges.js';
import { courseDigestRouter } from './digest.js';
import { courseSettingsRouter } from './courseSettings.js';
import { pathwayStaffRouter } from '../pathways/staff.js';
import { pathwayLearnerRouter } from '../pathways/learner.js';

/**
 * The pages a launch opens, inside the LMS's iframe. Every query is scoped by the launch's platform
 * and course, which come from the signed ltik and never from the URL, so no page can be pointed at
 * another course. Issue 12 grows these pages; these are their first, minimal versions.
 */

/** The learner page's own state, as JSON, for its script to poll. */
export const LEARNER_STATUS_PATH = `${COURSE_PATHS.learner}/status`;

export function courseRouter(ctx: Context, lti: Lti, options: { mailOn?: boolean } = {}): Router {
  const router = Router();
  const session = launchSession(ctx, lti.db);
  const staff = requireKind('instructor', 'admin');
  // No body parser for all of /course: each form route reads its body itself, bounded, after the
  // launch is checked where the form allows (formBody.ts).

  router.get(COURSE_PATHS.home, session, (_req, res) => {
    const launch = launchOf(res);
    res.redirect(303, withLtik(COURSE_PATHS[launch.kind], launch.ltik));
  });

  // Credly and Accredible templates for a course (src/web/course/serviceBadges.ts),
  // before the instructor's /badges/:id routes, which would take its path for an id.
  router.use(serviceBadgesRouter(ctx, [session, staff, needsCourse], requireCsrf));
  router.use(
    instructorRouter(ctx, session, staff, requireCsrf, (res) =>
      gradebookColumns(lti, res.locals.ltiToken, ctx.logger),
    ),
  );

  router.use(badgeCredentialsRouter(ctx, session, staff, requireCsrf));
  // The instructor's weekly e-mail digest of the course (src/mail/digest.ts).
  router.use(courseDigestRouter(ctx, [session, staff], requireCsrf, options.mailOn ?? false));
  // The course's end date, which "before the course ends" goes by (src/web/course/courseSettings.ts).
  router.use(courseSettingsRouter(ctx, [session, staff], requireCsrf));
  // Pathways across courses (src/web/pathways): instructors' and administrators' pages, learners' maps.
  router.use(pathwayStaffRouter(ctx, session, staff, requireCsrf));
  router.use(pathwayLearnerRouter(ctx, session, requireCsrf));
  // The session's read of the course serves the pages' reads of its ids and end dates (CourseScope.course).
  const learnerScope = (launch: Launch) => ({
    platformId: launch.platformId,
    courseRef: launch.courseRef,
    course: launch.course,
  });

  router.get(COURSE_PATHS.learner, session, async (_req, res) => {
    const launch = launchOf(res);
    const read = await learnerDocuments(ctx, learnerScope(launch), launch.personId);
    const [badges, status] = await Promise.all([
      learnerBadges(ctx, learnerScope(launch), launch.personId, read),
      learnerStatusOf(ctx, learnerScope(launch), launch.personId, read),
    ]);
    res.render('course/learner', {
      ...pageLocals(launch),
      title: launch.courseTitle ? `Your badges · ${launch.courseTitle}` : 'Your badges',
      courseTitle: launch.courseTitle,
      preview: launch.kind !== 'learner',
      badges: learnerBadgeCards(badges),
      version: status.version,
      statusUrl: withLtik(LEARNER_STATUS_PATH, launch.ltik),
    });
  });

  // What the learner page polls to update itself (a few seconds apart): the launch's own course and
  // person only, as the page itself. Polling, rather than a stream, passes every LMS proxy.
  router.get(LEARNER_STATUS_PATH, session, async (_req, res) => {
    const launch = launchOf(res);
    res.set('Cache-Control', 'no-store');
    res.json(await learnerStatusOf(ctx, learnerScope(launch), launch.personId));
  });

  router.use(lmsAdminRouter(ctx, session, requireKind('admin'), requireCsrf));
  // Credly and Accredible settings: the LMS administrator's own page (src/web/course/providers.ts).
  router.use(providersPageRouter(ctx, [session, requireKind('admin')], requireCsrf));

  const deepLinking = (res: Response) => {
    if (
      !(res.locals.ltiToken as { platformContext?: { deepLinkingSettings?: unknown } }).platformContext
        ?.deepLinkingSettings
    )
      throw new LaunchRefusal(
        'not_allowed',
        403,
        'Nothing to add from here',
        'Badges are added to a course from the LMS: choose Laurel when you add an activity or a module item.',
      );
  };

  const renderDeepLink = (
    res: Response,
    form: DeepLinkForm,
    errors: { title?: string; scoreMaximum?: string } = {},
    status = 200,
  ) => {
    const launch = launchOf(res);
    res.status(status).render('course/deep-link', {
      ...pageLocals(launch),
      title: 'Add Badges to this course',
      courseTitle: launch.courseTitle,
      action: COURSE_PATHS.deepLink,
      form,
      errors,
      errorCount: Object.keys(errors).length,
      titleMaxLength: DEEP_LINK_TITLE.maxLength,
      acceptLineItem: acceptsLineItem(res.locals.ltiToken),
    });
  };

  router.get(COURSE_PATHS.deepLink, session, staff, (_req, res) => {
    deepLinking(res);
    renderDeepLink(res, defaultDeepLinkForm());
  });

  // The LTI deep-linking form carries its ltik as a field: a small body (16 KiB) is read first.
  router.post(COURSE_PATHS.deepLink, smallFormBody, session, staff, async (req, res) => {
    deepLinking(res);
    const parsed = parseDeepLinkChoice(
      (req.body ?? {}) as Record<string, unknown>,
      acceptsLineItem(res.locals.ltiToken),
    );
    if (!parsed.ok) return renderDeepLink(res, parsed.form, parsed.errors, 400);
    const resourceId = parsed.choice.scoreMaximum !== null ? newActivityResourceId() : undefined;
    const answer = await deepLinkingAnswer(lti.provider.DeepLinking, res.locals.ltiToken, [
      badgesContentItem(ctx.config.publicUrl, parsed.choice, resourceId),
    ]);
    res.render('lti/deep-link-return', { title: `Adding ${parsed.choice.title}`, ...answer });
  });

  // Any answer before the body was read (no launch, not allowed, a bad token) closes the connection.
  router.use('/course', (err: unknown, req: Request, res: Response, next: NextFunction) => {
    closeIfBodyUnread(req, res);
    next(err);
  });
  // Refusals of the course pages are pages for people, with their own status.
  router.use('/course', (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof LaunchRefusal) || res.headersSent) return next(err);
    sendRefusal(renderWith(req.app), req, res, err, ctx.logger).catch(next);
  });
  return router;
}
