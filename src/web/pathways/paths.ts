import { COURSE_PATHS } from '../../lti/launch.js';

/** Where the pathway pages live: in-course (each link carries the launch's ltik), in the backpack, and public. */
export const PATHWAY_PATHS = {
  staffList: `${COURSE_PATHS.instructor}/pathways`,
  new: `${COURSE_PATHS.instructor}/pathways/new`,
  edit: (id: string) => `${COURSE_PATHS.instructor}/pathways/${id}`,
  enrol: (id: string) => `${COURSE_PATHS.instructor}/pathways/${id}/enrol`,
  learnerList: `${COURSE_PATHS.learner}/pathways`,
  learnerOne: (id: string) => `${COURSE_PATHS.learner}/pathways/${id}`,
  subscribe: (id: string) => `${COURSE_PATHS.learner}/pathways/${id}/subscribe`,
  share: (id: string) => `${COURSE_PATHS.learner}/pathways/${id}/share`,
  unshare: (id: string) => `${COURSE_PATHS.learner}/pathways/${id}/unshare`,
  leave: (id: string) => `${COURSE_PATHS.learner}/pathways/${id}/leave`,
  remove: (id: string) => `${COURSE_PATHS.instructor}/pathways/${id}/delete`,
  backpackOne: (enrolmentId: string) => `/backpack/pathways/${enrolmentId}`,
  shared: (shareId: string) => `/pathways/shared/${shareId}`,
} as const;
