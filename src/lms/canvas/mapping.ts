import { createHash } from 'node:crypto';
import { canvasIdText, globalCanvasId, localCanvasId } from './ids.js';

/**
 * Canvas Live Events ({ metadata, body }, "Canvas" format) → Laurel's generic learning events, and
 * → descriptions of the course's activities. Pure: no I/O. Ids follow ARCHITECTURE.md: `course.id`
 * and `user.id` are the ids a launch stores (`$Canvas.course.id`, `$Canvas.user.id`: local on the
 * root account's shard), `data.activityId` is the assignment's local id; global ids stay strings.
 *
 * Shapes: doc/api/data_services/json/canvas/event-types/*.json and lib/canvas/live_events.rb of
 * instructure/canvas-lms.
 */

export type LiveEventEnvelope = { metadata: Record<string, unknown>; body: Record<string, unknown> };

/** A learning event in the generic contract, before normaliseEvent validates it. */
export type MappedEvent = {
  id: string;
  type: string;
  occurredAt: string;
  platform: string;
  course?: { id: string; title?: string };
  user: { id: string; email?: string; name?: string };
  data: Record<string, unknown>;
};

/** An activity of a course as an event describes it; `maxScore`/`name` null = not said by this event. */
export type ActivityDescription = {
  courseId: string;
  activityId: string;
  name: string | null;
  maxScore: number | null;
  kind: string | null;
  state: 'active' | 'deleted';
  describedAt: Date;
  /** Its assignment group (local id), whose name is its tag; null when the event does not say. */
  groupId?: string | null;
};

/** A course's assignment group as an event names it: its name tags the assignments in it. */
export type GroupDescription = { courseId: string; groupId: string; name: string; describedAt: Date };

export type Mapped = {
  events: MappedEvent[];
  activities: ActivityDescription[];
  /** Assignment groups named (assignment_group_created / _updated). */
  groups?: GroupDescription[];
  /** Why nothing was made of the event (an event type Laurel does not use, a grade not yet posted…). */
  ignored?: string;
  /** A submission's assignment whose points possible the caller may know from earlier assignment events. */
  needsMaxScore?: { courseId: string; activityId: string };
};

/** The event types Laurel maps; the subscription asks for these. */
export const LIVE_EVENT_TYPES = [
  'grade_change',
  'submission_created',
  'submission_updated',
  'course_grade_change',
  'course_completed',
  'course_progress',
  'enrollment_created',
  'enrollment_updated',
  'assignment_created',
  'assignment_updated',
  'assignment_group_created',
  'assignment_group_updated',
] as const;

const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const str = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
};
const num = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
};

/** The envelope of a verified token's claims, or null when the claims hold none. */
export function envelopeOf(claims: Record<string, unknown>): LiveEventEnvelope | null {
  const metadata = claims.metadata;
  const body = claims.body;
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) return null;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  if (typeof (metadata as Record<string, unknown>).event_name !== 'string') return null;
  return { metadata: metadata as Record<string, unknown>, body: body as Record<string, unknown> };
}

/**
 * A stable id for the learning event made from a Live Event: Canvas sends no event id (and its
 * request_id is shared by every event of one request), so the id hashes the event's name, time and
 * body. A retry or a second subscription delivering the same event gets the same id, a duplicate.
 */
export function liveEventId(envelope: LiveEventEnvelope, suffix = ''): string {
  const hash = createHash('sha256')
    .update(
      JSON.stringify([envelope.metadata.event_name, envelope.metadata.event_time ?? null, envelope.body]),
    )
    .digest('hex')
    .slice(0, 40);
  return `canvas-${String(envelope.metadata.event_name).slice(0, 40)}-${hash}${suffix}`;
}

/** When the event happened: its `event_time`, else `fallback` (the receipt time). */
function occurredAt(envelope: LiveEventEnvelope, fallback: Date): string {
  const time = str(envelope.metadata.event_time);
  if (time && !Number.isNaN(new Date(time).getTime())) return new Date(time).toISOString();
  return fallback.toISOString();
}

/** The course an event happened in, from its metadata context (a global id) when that is a course. */
function courseOfMetadata(metadata: Record<string, unknown>): string | null {
  if (str(metadata.context_type) !== 'Course') return null;
  return localCanvasId(metadata.context_id, metadata.root_account_id);
}

export function mapLiveEvent(envelope: LiveEventEnvelope, platformId: string, receivedAt: Date): Mapped {
  const { metadata, body } = envelope;
  const name = String(metadata.event_name);
  const root = metadata.root_account_id;
  const local = (v: unknown) => localCanvasId(v, root);
  const when = occurredAt(envelope, receivedAt);
  const base = { id: liveEventId(envelope), occurredAt: when, platform: platformId };
  const none = (ignored: string): Mapped => ({ events: [], activities: [], ignored });

  switch (name) {
    case 'grade_change': {
      const courseId = courseOfMetadata(metadata);
      const userId = local(body.student_id ?? body.user_id);
      const activityId = local(body.assignment_id);
      if (!courseId || !userId || !activityId)
        return none('grade_change without a course, learner or assignment');
      const activityName = str(body.assignment_name) ?? null;
      const maxScore = num(body.points_possible) ?? null;
      const activities: ActivityDescription[] = [
        {
          courseId,
          activityId,
          name: activityName,
          maxScore,
          kind: null,
          state: 'active',
          describedAt: new Date(when),
        },
      ];
      // `muted` = not posted to the learner yet: the grade counts once Canvas posts it (another grade_change).
      if (body.muted === true)
        return { events: [], activities, ignored: 'grade not posted to the learner yet' };
      const score = num(body.score);
      if (score === undefined) return { events: [], activities, ignored: 'grade removed (no score)' };
      return {
        events: [
          {
            ...base,
            type: 'activity.grade.updated',
            course: { id: courseId },
            user: { id: userId },
            data: {
              activityId,
              ...(activityName ? { activityName } : {}),
              score,
              ...(maxScore !== null ? { maxScore } : {}),
              ...(str(body.grade) ? { grade: str(body.grade) } : {}),
              gradingComplete: body.grading_complete !== false,
              canvas: canvasRefs({
                assignmentId: globalCanvasId(body.assignment_id, root),
                submissionId: canvasIdText(body.submission_id),
                userId: globalCanvasId(body.student_id ?? body.user_id, root),
                studentSisId: str(body.student_sis_id),
              }),
            },
          },
        ],
        activities,
      };
    }
    // `submission_graded` is no Canvas Live Event name (Canvas reports grading as submission_updated);
    // should a sender use it, it is taken the same way.
    case 'submission_created':
    case 'submission_updated':
    case 'submission_graded': {
      const score = num(body.score);
      if (score === undefined) return none('submission without a score');
      if (str(body.workflow_state) && str(body.workflow_state) !== 'graded')
        return none(`submission ${String(body.workflow_state)}, not graded`);
      if ('posted_at' in body && body.posted_at === null) return none('grade not posted to the learner yet');
      const courseId = courseOfMetadata(metadata);
      const userId = local(body.user_id);
      const activityId = local(body.assignment_id);
      if (!courseId || !userId || !activityId) return none(`${name} without a course, learner or assignment`);
      return {
        events: [
          {
            ...base,
            type: 'activity.grade.updated',
            course: { id: courseId },
            user: { id: userId },
            data: {
              activityId,
              score,
              ...(str(body.grade) ? { grade: str(body.grade) } : {}),
              canvas: canvasRefs({
                assignmentId: globalCanvasId(body.assignment_id, root),
                submissionId: canvasIdText(body.submission_id),
                userId: globalCanvasId(body.user_id, root),
                ltiUserId: str(body.lti_user_id),
              }),
            },
          },
        ],
        activities: [],
        needsMaxScore: { courseId, activityId },
      };
    }
    case 'course_grade_change': {
      if (str(body.workflow_state) === 'deleted') return none('course score deleted');
      const percent = num(body.current_score);
      const courseId = local(body.course_id) ?? courseOfMetadata(metadata);
      const userId = local(body.user_id);
      if (percent === undefined) return none('course score without a current score');
      if (!courseId || !userId) return none('course_grade_change without a course or learner');
      const final = num(body.final_score);
      return {
        events: [
          {
            ...base,
            type: 'course.grade.updated',
            course: { id: courseId },
            user: { id: userId },
            data: {
              score: percent,
              maxScore: 100,
              percent,
              ...(final !== undefined ? { finalPercent: final } : {}),
            },
          },
        ],
        activities: [],
      };
    }
    case 'course_completed':
    case 'course_progress': {
      const course = record(body.course);
      const user = record(body.user);
      const progress = record(body.progress);
      const required = num(progress.requirement_count);
      const done = num(progress.requirement_completed_count);
      const completedAt = str(progress.completed_at);
      const complete =
        name === 'course_completed' ||
        completedAt !== undefined ||
        (required !== undefined && done !== undefined && required > 0 && done >= required);
      if (!complete) return none('course progress, not complete yet');
      // These bodies carry local ids already.
      const courseId = local(course.id);
      const userId = local(user.id);
      if (!courseId || !userId) return none(`${name} without a course or learner`);
      const email = str(user.email);
      const userName = str(user.name);
      const courseName = str(course.name);
      return {
        events: [
          {
            // One completion, however it is reported (course_progress and course_completed alike).
            id: `canvas-course-completed-${courseId}-${userId}-${completedAt ?? when}`,
            type: 'course.completed',
            occurredAt:
              completedAt && !Number.isNaN(new Date(completedAt).getTime())
                ? new Date(completedAt).toISOString()
                : when,
            platform: platformId,
            course: { id: courseId, ...(courseName ? { title: courseName } : {}) },
            user: { id: userId, ...(email ? { email } : {}), ...(userName ? { name: userName } : {}) },
            data: {
              ...(required !== undefined ? { requirementCount: required } : {}),
              ...(done !== undefined ? { requirementCompletedCount: done } : {}),
              ...(completedAt ? { completedAt } : {}),
            },
          },
        ],
        activities: [],
      };
    }
    case 'enrollment_created':
    case 'enrollment_updated': {
      const state = str(body.workflow_state);
      const type =
        state === 'active' ? 'enrollment.created' : state === 'deleted' ? 'enrollment.deleted' : undefined;
      if (!type) return none(`enrollment ${state ?? 'without a state'}`);
      const courseId = local(body.course_id);
      const userId = local(body.user_id);
      if (!courseId || !userId) return none(`${name} without a course or user`);
      const userName = str(body.user_name);
      return {
        events: [
          {
            ...base,
            type,
            course: { id: courseId },
            user: { id: userId, ...(userName ? { name: userName } : {}) },
            data: {
              ...(str(body.type) ? { role: str(body.type) } : {}),
              ...(state ? { state } : {}),
              canvas: canvasRefs({
                enrollmentId: canvasIdText(body.enrollment_id),
                userId: globalCanvasId(body.user_id, root),
                courseId: globalCanvasId(body.course_id, root),
              }),
            },
          },
        ],
        activities: [],
      };
    }
    case 'assignment_created':
    case 'assignment_updated': {
      const courseId =
        str(body.context_type) === 'Course' ? local(body.context_id) : courseOfMetadata(metadata);
      const activityId = local(body.assignment_id);
      if (!courseId || !activityId) return none(`${name} outside a course`);
      const state = str(body.workflow_state);
      return {
        events: [],
        activities: [
          {
            courseId,
            activityId,
            name: str(body.title) ?? null,
            maxScore: num(body.points_possible) ?? null,
            kind: str(body.submission_types) ?? null,
            state: state === 'deleted' ? 'deleted' : 'active',
            describedAt: new Date(when),
            groupId: local(body.assignment_group_id) ?? null,
          },
        ],
      };
    }
    case 'assignment_group_created':
    case 'assignment_group_updated': {
      const courseId =
        str(body.context_type) === 'Course' ? local(body.context_id) : courseOfMetadata(metadata);
      const groupId = local(body.assignment_group_id);
      const groupName = str(body.name)?.trim();
      if (!courseId || !groupId || !groupName) return none(`${name} outside a course or without a name`);
      return {
        events: [],
        activities: [],
        groups: [{ courseId, groupId, name: groupName.slice(0, 50), describedAt: new Date(when) }],
      };
    }
    default:
      return none(`event type ${name.slice(0, 100)} is not used by Laurel`);
  }
}

/** Canvas's own references kept with an event (global ids as strings), without the absent ones. */
function canvasRefs(refs: Record<string, string | null | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(refs).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}
