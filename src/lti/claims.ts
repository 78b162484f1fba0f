import type { LmsKind } from '../db/models/platform.js';
import type { CourseSighting, PersonSighting } from '../identity/launch.js';
import { parseLmsEndDate } from '../courses/endDate.js';
import { courseRoleNames } from './roles.js';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
export const CLAIMS = {
  messageType: `${LTI}message_type`,
  deploymentId: `${LTI}deployment_id`,
  context: `${LTI}context`,
  roles: `${LTI}roles`,
  custom: `${LTI}custom`,
  lis: `${LTI}lis`,
  toolPlatform: `${LTI}tool_platform`,
  lti11LegacyUserId: `${LTI}lti11_legacy_user_id`,
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
} as const;

export const SCOPES = {
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
} as const;

/**
 * The custom parameters Laurel asks each LMS for (canvas.json, the Moodle guide, dynamic
 * registration), so that launches carry the LMS's own ids, which its events use.
 */
export const CUSTOM_PARAMETERS: Record<LmsKind, Record<string, string>> = {
  canvas: {
    canvas_course_id: '$Canvas.course.id',
    canvas_user_id: '$Canvas.user.id',
    canvas_user_global_id: '$Canvas.user.globalId',
    // The course's end date ("2027-06-12 23:59:00 -0600"), for "before the course ends".
    canvas_course_ends: '$Canvas.course.endAt',
  },
  moodle: { moodle_course_id: '$Context.id', moodle_user_id: '$User.id' },
  other: {},
};

export type Claims = Record<string, unknown>;

const text = (v: unknown): string | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return null;
  const t = v.trim();
  // An LMS that does not know a variable sends it as written ("$Canvas.user.id"): not an id.
  return t === '' || t.startsWith('$') ? null : t;
};

const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export function rolesOf(claims: Claims): string[] {
  const roles = claims[CLAIMS.roles];
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}

/** The LMS's own course id: Canvas's `$Canvas.course.id`; Moodle's course id, which is also its context id. */
export function lmsCourseIdOf(claims: Claims, lms: LmsKind): string | null {
  const custom = record(claims[CLAIMS.custom]);
  const context = record(claims[CLAIMS.context]);
  if (lms === 'canvas') return text(custom.canvas_course_id);
  if (lms === 'moodle') return text(custom.moodle_course_id) ?? text(context.id);
  return text(custom.lms_course_id) ?? text(custom.canvas_course_id) ?? text(custom.moodle_course_id);
}

export function lmsUserIdOf(claims: Claims, lms: LmsKind): string | null {
  const custom = record(claims[CLAIMS.custom]);
  if (lms === 'canvas') return text(custom.canvas_user_id);
  // Moodle's `sub` is its user id.
  if (lms === 'moodle') return text(custom.moodle_user_id) ?? text(claims.sub);
  return text(custom.lms_user_id) ?? text(custom.canvas_user_id) ?? text(custom.moodle_user_id);
}

/**
 * The course's end date a launch carries: Canvas's `$Canvas.course.endAt` (custom `canvas_course_ends`),
 * or `lms_course_ends` which any LMS may be set up to send. Moodle offers no LTI variable for it (its
 * plugin sends it instead). `undefined`: the launch does not say; `null`: the course has no end date.
 */
export function lmsCourseEndOf(claims: Claims): Date | null | undefined {
  const custom = record(claims[CLAIMS.custom]);
  for (const key of ['canvas_course_ends', 'lms_course_ends'])
    if (Object.prototype.hasOwnProperty.call(custom, key)) {
      const parsed = parseLmsEndDate(custom[key]);
      if (parsed !== undefined) return parsed;
    }
  return undefined;
}

/** What a verified launch says about its course (null without a context, e.g. an account-level launch). */
export function courseSightingOf(claims: Claims, lms: LmsKind): CourseSighting | null {
  const context = record(claims[CLAIMS.context]);
  const contextId = text(context.id);
  if (!contextId) return null;
  return {
    contextId,
    lmsCourseId: lmsCourseIdOf(claims, lms),
    title: text(context.title),
    label: text(context.label),
    endsAt: lmsCourseEndOf(claims),
  };
}

export function personSightingOf(
  claims: Claims,
  lms: LmsKind,
): Omit<PersonSighting, 'course'> & { roles: string[] } {
  const custom = record(claims[CLAIMS.custom]);
  const given = text(claims.given_name);
  const family = text(claims.family_name);
  return {
    sub: text(claims.sub),
    lmsUserId: lmsUserIdOf(claims, lms),
    otherIds:
      lms === 'canvas' ? [text(custom.canvas_user_global_id), text(claims[CLAIMS.lti11LegacyUserId])] : [],
    name: text(claims.name) ?? ([given, family].filter(Boolean).join(' ') || null),
    email: text(claims.email),
    roles: courseRoleNames(rolesOf(claims)),
  };
}
