import { Router, type RequestHandler } from 'express';
import type { Context } from '../../context.js';
import { courseEndView, setInstructorCourseEnd } from '../../courses/courseSettings.js';
import { endDateFieldValue, instructorEndDateOf } from '../../courses/endDate.js';
import { COURSE_PATHS, withLtik } from '../../lti/launch.js';
import { csrfHeaderFirst } from '../../lti/csrf.js';
import { formatCourseEnd } from '../../rules/index.js';
import { smallFormBody } from './formBody.js';
import { launchOf, needsCourse } from './launchOf.js';
import { pageLocals } from './links.js';

export const COURSE_SETTINGS_PATH = `${COURSE_PATHS.instructor}/course-settings`;

/**
 * The course settings page: the course's end date, which "before the course ends" goes by. It shows
 * what the LMS said (Canvas at launch, the Moodle plugin's course lists) and lets the instructor set
 * their own, which wins, or clear it to go by the LMS's again. The launch's own course only.
 */
export function courseSettingsRouter(ctx: Context, guard: RequestHandler[], csrf: RequestHandler): Router {
  const router = Router();
  const scopeOf = (res: Parameters<typeof launchOf>[0]) => {
    const launch = launchOf(res);
    return { platformId: launch.platformId, courseRef: launch.courseRef };
  };

  const render = async (
    res: Parameters<typeof launchOf>[0],
    state: { saved?: boolean; typed?: string; error?: string | null },
    status = 200,
  ) => {
    const launch = launchOf(res);
    const end = await courseEndView(ctx, scopeOf(res));
    res.status(status).render('course/course-settings', {
      ...pageLocals(launch),
      title: launch.courseTitle ? `Course settings · ${launch.courseTitle}` : 'Course settings',
      courseTitle: launch.courseTitle,
      saved: Boolean(state.saved),
      endText: end.endsAt ? formatCourseEnd(end.endsAt) : null,
      fromInstructor: end.source === 'instructor',
      lmsEndText: end.lmsEndsAt ? formatCourseEnd(end.lmsEndsAt) : null,
      endDate: state.typed ?? endDateFieldValue(end.instructorEndsAt),
      error: state.error ?? null,
      formAction: withLtik(COURSE_SETTINGS_PATH, launch.ltik),
      backLink: withLtik(COURSE_PATHS.instructor, launch.ltik),
      csrfToken: res.locals.csrfToken,
    });
  };

  router.get(COURSE_SETTINGS_PATH, ...guard, needsCourse, async (req, res) => {
    await render(res, { saved: req.query.saved === '1' });
  });

  router.post(
    COURSE_SETTINGS_PATH,
    ...guard,
    needsCourse,
    csrfHeaderFirst(),
    smallFormBody,
    csrf,
    async (req, res) => {
      const launch = launchOf(res);
      const body = (req.body ?? {}) as Record<string, unknown>;
      // An empty date clears the instructor's own: Laurel goes by the LMS's again.
      const typed = typeof body.endDate === 'string' ? body.endDate : '';
      const parsed = instructorEndDateOf(typed);
      if ('error' in parsed) return render(res, { typed, error: parsed.error }, 400);
      await setInstructorCourseEnd(ctx, scopeOf(res), parsed.endsAt, {
        type: 'instructor',
        id: String(launch.personId),
        name: launch.personName,
      });
      res.redirect(303, `${withLtik(COURSE_SETTINGS_PATH, launch.ltik)}&saved=1`);
    },
  );
  return router;
}
