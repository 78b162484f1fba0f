/**
 * What differs between the Moodle-like and the Canvas-like platform: identifiers, role URIs, the extras of the
 * login initiation, custom parameters and the platform configuration. Sources: the reference notes in
 * /work/shared/reference/lti-and-lms-events.md (a real Moodle 5.1 launch; Canvas docs and source).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { CourseRole, Flavour, PrivacyLevel } from './types.js';

const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership#';
const INSTITUTION = 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#';
const SYSTEM = 'http://purl.imsglobal.org/vocab/lis/v2/system/person#';
const TEACHING_ASSISTANT = 'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant';

export const ROLE = { MEMBERSHIP, INSTITUTION, SYSTEM, TEACHING_ASSISTANT } as const;

export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export interface FlavourProfile {
  flavour: Flavour;
  productFamilyCode: string;
  defaultName: string;
  version: string;
  /** Numbers the platform starts counting its own ids from. */
  firstCourseId: number;
  firstUserId: number;
  newClientId(seq: number): string;
  newDeploymentId(seq: number): string;
  contextIdFor(courseId: string): string;
  subFor(lmsUserId: string): string;
  newResourceLinkId(seq: number): string;
  loginHintFor(sub: string): string;
  /** Role URIs in the launch for a course member (or an administrator who is not one). */
  launchRoles(roles: CourseRole[], admin: boolean): string[];
  /** Context roles in a membership (NRPS) answer. */
  memberRoles(roles: CourseRole[]): string[];
  contextType: string[];
  nrpsPath(courseId: string): string;
  nrpsVersions: string[];
  /** Custom parameters of the pre-configured tool (Laurel's canvas.json, or what a Moodle admin would type). */
  defaultCustom: Record<string, string>;
  defaultPrivacy: PrivacyLevel;
  /** Extra login-initiation parameters. */
  loginExtras: Record<string, string>;
  /** The storage frame offered as `lti_storage_target` (LTI Client Side postMessages), if any. */
  storageTarget?: string;
  documentTargets: string[];
  messagesSupported: { type: string; placements?: string[] }[];
  variables: string[];
  /** Dynamic registration: fields the platform insists on (beyond the LTI tool configuration object). */
  requiredRegistrationFields: string[];
  requiredToolConfigFields: string[];
}

const courseRoleSet = (roles: CourseRole[]) => new Set(roles);

const moodle: FlavourProfile = {
  flavour: 'moodle',
  productFamilyCode: 'moodle',
  defaultName: 'Laurel Test Moodle',
  version: '2025041400',
  firstCourseId: 2,
  firstUserId: 3,
  // Moodle: random_string(15) as client id, the tool type id as deployment id.
  newClientId: () => randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 15),
  newDeploymentId: (seq) => String(seq),
  contextIdFor: (courseId) => courseId,
  subFor: (lmsUserId) => lmsUserId,
  newResourceLinkId: (seq) => String(seq),
  loginHintFor: (sub) => sub,
  launchRoles(roles, admin) {
    const set = courseRoleSet(roles);
    const staff = set.has('Instructor') || set.has('TeachingAssistant') || set.has('ContentDeveloper');
    const out: string[] = [];
    // mod_lti sends Instructor to whoever may manage the activity, Learner otherwise; admins manage everything.
    if (staff || admin) out.push(`${MEMBERSHIP}Instructor`);
    else if (roles.length > 0) out.push(`${MEMBERSHIP}Learner`);
    if (admin) out.push(`${INSTITUTION}Administrator`, `${SYSTEM}Administrator`);
    return out;
  },
  memberRoles(roles) {
    const set = courseRoleSet(roles);
    const staff = set.has('Instructor') || set.has('TeachingAssistant') || set.has('ContentDeveloper');
    return [staff ? `${MEMBERSHIP}Instructor` : `${MEMBERSHIP}Learner`];
  },
  contextType: ['CourseSection'],
  nrpsPath: (courseId) => `/api/lti/courses/${encodeURIComponent(courseId)}/memberships`,
  nrpsVersions: ['1.0', '2.0'],
  defaultCustom: { moodle_course_id: '$Context.id', moodle_user_id: '$User.id' },
  defaultPrivacy: 'public',
  loginExtras: {},
  documentTargets: ['iframe', 'window'],
  messagesSupported: [
    { type: 'LtiResourceLinkRequest' },
    { type: 'LtiDeepLinkingRequest', placements: ['ContentArea'] },
  ],
  variables: [
    'User.id',
    'User.username',
    'Person.name.full',
    'Person.name.given',
    'Person.name.family',
    'Person.email.primary',
    'Person.sourcedId',
    'Context.id',
    'Context.title',
    'Context.label',
    'CourseSection.sourcedId',
    'ResourceLink.id',
    'ResourceLink.title',
  ],
  requiredRegistrationFields: [
    'response_types',
    'initiate_login_uri',
    'redirect_uris',
    'client_name',
    'jwks_uri',
    'token_endpoint_auth_method',
  ],
  requiredToolConfigFields: ['domain', 'target_link_uri'],
};

const canvas: FlavourProfile = {
  flavour: 'canvas',
  productFamilyCode: 'canvas',
  defaultName: 'Laurel Test Canvas',
  version: 'cloud',
  firstCourseId: 310,
  firstUserId: 100,
  // Canvas: the developer key's global id as client id; "<id>:<context hash>" as deployment id.
  newClientId: (seq) => String(10000000000000 + seq),
  newDeploymentId: (seq) => `${seq}:${sha1(`deployment-${seq}-${randomUUID()}`)}`,
  contextIdFor: (courseId) => sha1(`course-${courseId}`),
  subFor: () => randomUUID(),
  newResourceLinkId: () => randomUUID(),
  loginHintFor: (sub) => sha1(`login-${sub}`),
  launchRoles(roles, admin) {
    const set = courseRoleSet(roles);
    const out: string[] = [];
    if (set.has('Instructor') || set.has('TeachingAssistant')) out.push(`${INSTITUTION}Instructor`);
    else if (set.has('Learner')) out.push(`${INSTITUTION}Student`);
    if (admin) out.push(`${INSTITUTION}Administrator`);
    out.push(...canvas.memberRoles(roles));
    out.push(`${SYSTEM}User`);
    return out;
  },
  memberRoles(roles) {
    const map: Record<CourseRole, string> = {
      Instructor: `${MEMBERSHIP}Instructor`,
      TeachingAssistant: TEACHING_ASSISTANT,
      Learner: `${MEMBERSHIP}Learner`,
      ContentDeveloper: `${MEMBERSHIP}ContentDeveloper`,
      Mentor: `${MEMBERSHIP}Mentor`,
    };
    return roles.map((r) => map[r]);
  },
  contextType: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
  nrpsPath: (courseId) => `/api/lti/courses/${encodeURIComponent(courseId)}/names_and_roles`,
  nrpsVersions: ['2.0'],
  defaultCustom: {
    canvas_user_id: '$Canvas.user.id',
    canvas_user_global_id: '$Canvas.user.globalId',
    canvas_course_id: '$Canvas.course.id',
    person_sourcedid: '$Person.sourcedId',
  },
  defaultPrivacy: 'public',
  loginExtras: { canvas_environment: 'prod', canvas_region: 'us-east-1' },
  // Canvas names a frame of its own at its OIDC endpoint's origin; Moodle 5.1 offers no platform storage.
  storageTarget: 'post_message_forwarding',
  documentTargets: ['iframe', 'window'],
  messagesSupported: [
    {
      type: 'LtiResourceLinkRequest',
      placements: ['course_navigation', 'account_navigation', 'user_navigation', 'link_selection'],
    },
    {
      type: 'LtiDeepLinkingRequest',
      placements: ['assignment_selection', 'link_selection', 'editor_button'],
    },
  ],
  variables: [
    'User.id',
    'Person.name.full',
    'Person.name.given',
    'Person.name.family',
    'Person.email.primary',
    'Person.sourcedId',
    'Context.id',
    'Context.title',
    'Context.label',
    'ResourceLink.id',
    'ResourceLink.title',
    'Canvas.user.id',
    'Canvas.user.globalId',
    'Canvas.user.loginId',
    'Canvas.course.id',
    'Canvas.course.name',
    'Canvas.api.domain',
  ],
  requiredRegistrationFields: [
    'application_type',
    'grant_types',
    'initiate_login_uri',
    'redirect_uris',
    'response_types',
    'client_name',
    'jwks_uri',
    'token_endpoint_auth_method',
    'scope',
  ],
  requiredToolConfigFields: ['domain', 'target_link_uri', 'messages', 'claims'],
};

export function profileFor(flavour: Flavour): FlavourProfile {
  return flavour === 'canvas' ? canvas : moodle;
}

/** Canvas global ids: shard 1 × 10^13 + the local id, as a string (they exceed 2^53 on big shards). */
export function canvasGlobalId(localId: string): string {
  if (!/^\d+$/.test(localId)) return localId;
  return (10n ** 13n + BigInt(localId)).toString();
}
