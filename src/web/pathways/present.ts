import type { CourseDoc } from '../../db/models/course.js';
import type { PlatformDoc } from '../../db/models/platform.js';
import type { TemplateDoc } from '../../db/models/template.js';
import type { PathwayMapData } from '../../pathways/read.js';
import type { PathwayProgress } from '../../pathways/progress.js';
import { describeForLearner } from '../../rules/index.js';
import { imageOf } from '../course/instructor.js';
import { formatDate } from '../public/present.js';

/**
 * The pathway map as the views show it (Handlebars templates hold no logic): each step with its
 * state in words, its N-of-M count as a progress bar, its badges with pictures, and how to earn each
 * one in plain language with its course.
 */

const SOURCE_NAME = { local: null, credly: 'Credly', accredible: 'Accredible' } as const;

/** The course's own page in the LMS, where Laurel can tell it (Moodle's course URL; Canvas's, once its address is known). */
export function courseUrl(
  platform: Pick<PlatformDoc, 'lms' | 'issuer' | 'frameOrigins'> | null,
  course: Pick<CourseDoc, 'lmsCourseId'> | undefined,
): string | null {
  const id = course?.lmsCourseId;
  if (!platform || !id || !/^[\w.-]{1,64}$/.test(id)) return null;
  if (platform.lms === 'moodle' && /^https?:\/\//.test(platform.issuer))
    return `${platform.issuer.replace(/\/+$/, '')}/course/view.php?id=${encodeURIComponent(id)}`;
  const origin = platform.frameOrigins?.[0];
  if (platform.lms === 'canvas' && origin) return `${origin}/courses/${encodeURIComponent(id)}`;
  return null;
}

/** How a badge is earned, for a learner. */
function howTo(t: TemplateDoc, data: PathwayMapData): string {
  if (t.groups.length) return describeForLearner(t.groups, data.describe);
  const via = SOURCE_NAME[t.source];
  if (t.criteria) return t.criteria;
  return via ? `Awarded through ${via} by your instructor.` : 'Awarded by your instructor.';
}

function needText(total: number, needed: number): string {
  if (total === 1) return 'Earn this badge:';
  if (needed >= total) return `Earn all ${total} of these badges:`;
  return `Earn any ${needed} of these ${total} badges:`;
}

export function stepStateLabel(state: 'done' | 'available' | 'locked', isNext: boolean): string {
  if (state === 'done') return 'Done';
  if (state === 'locked') return 'Locked';
  return isNext ? 'Next' : 'Available';
}

export function presentPathwayMap(data: PathwayMapData, options: { withProgress: boolean }) {
  const { pathway, progress } = data;
  const nameOf = new Map(pathway.steps.map((s, i) => [s.id, s.name || `Step ${i + 1}`]));
  const badgeTemplate = pathway.badgeTemplateId
    ? data.templates.get(String(pathway.badgeTemplateId))
    : undefined;
  const steps = pathway.steps.map((step, i) => {
    const p = progress.steps[i]!;
    const isNext = options.withProgress && progress.next === step.id;
    const state = options.withProgress ? p.state : p.waitingFor.length ? 'locked' : 'available';
    const held = new Set(options.withProgress ? p.heldTemplateIds : []);
    const waiting = p.waitingFor.map((id) => `“${nameOf.get(id) ?? id}”`).join(' and ');
    return {
      id: step.id,
      number: i + 1,
      name: step.name,
      description: step.description,
      optional: step.optional,
      state,
      // Without a learner's progress there is no state to show: the step's number says where it is.
      stateLabel: options.withProgress ? stepStateLabel(state, isNext) : null,
      isNext,
      done: state === 'done',
      locked: options.withProgress && state === 'locked',
      doneOn: options.withProgress && p.doneAt ? formatDate(p.doneAt)!.text : null,
      need: needText(p.total, p.needed),
      held: options.withProgress ? Math.min(p.held, p.needed) : 0,
      needed: p.needed,
      waitingText:
        step.prerequisites.length === 0
          ? null
          : options.withProgress && p.metButLocked
            ? `You hold enough badges for this step: it counts as soon as you finish ${waiting}.`
            : options.withProgress && waiting
              ? `First finish ${waiting}.`
              : `Comes after ${step.prerequisites.map((id) => `“${nameOf.get(id) ?? id}”`).join(' and ')}.`,
      badges: step.templateIds.map((id) => {
        const t = data.templates.get(String(id));
        const course = t?.courseRef ? data.courses.get(String(t.courseRef)) : undefined;
        return {
          name: t?.name ?? 'A badge no longer offered',
          image: t ? imageOf(t) : null,
          held: held.has(String(id)),
          howTo: t ? howTo(t, data) : 'This badge is no longer offered.',
          courseTitle: t
            ? (course?.title ?? (t.courseRef ? 'another course of this LMS' : 'any course of this LMS'))
            : null,
          courseUrl: courseUrl(data.platform, course),
          service: t ? SOURCE_NAME[t.source] : null,
        };
      }),
    };
  });
  return {
    id: String(pathway._id),
    name: pathway.name,
    description: pathway.description,
    withProgress: options.withProgress,
    percent: progress.percent,
    requiredDone: progress.requiredDone,
    requiredTotal: progress.requiredTotal,
    complete: options.withProgress && progress.complete,
    completedOn:
      options.withProgress && data.enrolment?.completedAt
        ? formatDate(data.enrolment.completedAt)!.text
        : null,
    nextName: options.withProgress && progress.next ? (nameOf.get(progress.next) ?? null) : null,
    badge: badgeTemplate
      ? {
          name: badgeTemplate.name,
          image: imageOf(badgeTemplate),
          earned: options.withProgress && Boolean(data.enrolment?.badgeCredentialId),
        }
      : null,
    steps,
  };
}

/** One line of a list of pathways (the learner's list, My Record). */
export function presentPathwaySummary(p: { name: string; description: string }, progress: PathwayProgress) {
  return {
    name: p.name,
    description: p.description,
    percent: progress.percent,
    requiredDone: progress.requiredDone,
    requiredTotal: progress.requiredTotal,
    complete: progress.complete,
  };
}
