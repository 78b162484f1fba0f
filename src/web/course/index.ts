import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Context } from '../../context.js';
import type { TemplateDoc } from '../../db/models/template.js';
import type { Lti } from '../../lti/index.js';
import { badgesContentItem, deepLinkingAnswer } from '../../lti/deep-linking.js';
import { COURSE_PATHS, withLtik } from '../../lti/launch.js';
import { LaunchRefusal, sendRefusal } from '../../lti/refusals.js';
import { renderWith } from '../../lti/index.js';
import { launchSession, requireKind, type Launch } from '../../lti/session.js';
import { listTemplates } from '../../templates/service.js';
import { pageLocals } from './links.js';

/**
 * The pages a launch opens, inside the LMS's iframe. Every query is scoped by the launch's platform
 * and course, which come from the signed ltik and never from the URL, so no page can be pointed at
 * another course. Issue 12 grows these pages; these are their first, minimal versions.
 */

const STATE_LABEL: Record<TemplateDoc['state'], string> = {
  draft: 'Draft',
  active: 'Active',
  inactive: 'Withdrawn',
};

const launchOf = (res: Response) => res.locals.launch as Launch;

/** The course's own badges, then the platform's badges that apply to every course. */
async function courseTemplates(ctx: Context, launch: Launch, state?: TemplateDoc['state']) {
  const scope = { platformId: launch.platformId, ...(state ? { state } : {}) };
  const own = launch.courseRef
    ? await listTemplates(ctx, { ...scope, courseRef: launch.courseRef }, 200)
    : [];
  const everywhere = await listTemplates(ctx, { ...scope, courseRef: null }, 200);
  return [...own, ...everywhere].map((t) => ({
    name: t.name,
    description: t.description,
    criteria: t.criteria,
    state: t.state,
    stateLabel: STATE_LABEL[t.state],
    allCourses: t.courseRef === null,
  }));
}

export function courseRouter(ctx: Context, lti: Lti): Router {
  const router = Router();
  const session = launchSession(ctx, lti.db);
  const staff = requireKind('instructor', 'admin');
  router.use('/course', express.urlencoded({ extended: false, limit: '64kb' }));

  router.get(COURSE_PATHS.home, session, (_req, res) => {
    const launch = launchOf(res);
    res.redirect(303, withLtik(COURSE_PATHS[launch.kind], launch.ltik));
  });

  router.get(COURSE_PATHS.instructor, session, staff, async (_req, res) => {
    const launch = launchOf(res);
    const templates = await courseTemplates(ctx, launch);
    res.render('course/instructor', {
      ...pageLocals(launch),
      title: launch.courseTitle ? `Badges · ${launch.courseTitle}` : 'Badges',
      courseTitle: launch.courseTitle,
      templates,
      hasCourse: launch.courseRef !== null,
    });
  });

  router.get(COURSE_PATHS.learner, session, async (_req, res) => {
    const launch = launchOf(res);
    const badges = await courseTemplates(ctx, launch, 'active');
    res.render('course/learner', {
      ...pageLocals(launch),
      title: launch.courseTitle ? `Your badges · ${launch.courseTitle}` : 'Your badges',
      courseTitle: launch.courseTitle,
      badges,
      preview: launch.kind !== 'learner',
    });
  });

  router.get(COURSE_PATHS.admin, session, requireKind('admin'), (_req, res) => {
    const launch = launchOf(res);
    res.render('course/admin', {
      ...pageLocals(launch),
      title: `Laurel · ${launch.platformName}`,
      platformName: launch.platformName,
      hasCourse: launch.courseRef !== null,
      publicUrl: ctx.config.publicUrl,
    });
  });

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

  router.get(COURSE_PATHS.deepLink, session, staff, (_req, res) => {
    deepLinking(res);
    const launch = launchOf(res);
    res.render('course/deep-link', {
      ...pageLocals(launch),
      title: 'Add Badges to this course',
      courseTitle: launch.courseTitle,
      action: COURSE_PATHS.deepLink,
    });
  });

  router.post(COURSE_PATHS.deepLink, session, staff, async (_req, res) => {
    deepLinking(res);
    const answer = await deepLinkingAnswer(lti.provider.DeepLinking, res.locals.ltiToken, [
      badgesContentItem(ctx.config.publicUrl),
    ]);
    res.render('lti/deep-link-return', { title: 'Adding Badges', ...answer });
  });

  // Refusals of the course pages are pages for people, with their own status.
  router.use('/course', (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof LaunchRefusal) || res.headersSent) return next(err);
    sendRefusal(renderWith(req.app), req, res, err, ctx.logger).catch(next);
  });
  return router;
}
