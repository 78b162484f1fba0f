import { COURSE_PATHS, withLtik } from '../../lti/launch.js';
import type { Launch } from '../../lti/session.js';

/**
 * The links of the course pages, each carrying the launch's ltik (no cookie is relied on after the
 * launch), and what every course view needs to show where it is.
 */
export function pageLocals(launch: Launch) {
  const link = (path: string) => withLtik(path, launch.ltik);
  const staff = launch.kind !== 'learner';
  return {
    course: launch.courseTitle ? { title: launch.courseTitle } : null,
    ltik: launch.ltik,
    personName: launch.personName,
    links: {
      home: link(COURSE_PATHS.home),
      instructor: staff ? link(COURSE_PATHS.instructor) : null,
      learner: link(COURSE_PATHS.learner),
      admin: launch.kind === 'admin' ? link(COURSE_PATHS.admin) : null,
      // Pathways across courses (src/web/pathways): staff edit them, learners follow them.
      pathways: staff ? link(`${COURSE_PATHS.instructor}/pathways`) : null,
      learnerPathways: link(`${COURSE_PATHS.learner}/pathways`),
    },
  };
}
