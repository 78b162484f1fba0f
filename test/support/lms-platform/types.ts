/**
 * Shared vocabulary of the test LMS platform: claim names, scopes, media types and the records it keeps.
 * Nothing here does I/O.
 */

export type Flavour = 'moodle' | 'canvas';
export type MessageType = 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';
/** Ways to spoil an id_token on purpose, so a tool's refusals can be tested. */
export type Tamper = 'bad-signature' | 'wrong-audience' | 'unknown-deployment' | 'expired' | 'no-nonce';
/** Course roles in the platform's own terms; each flavour turns them into the IMS role URIs it really sends. */
export type CourseRole = 'Instructor' | 'Learner' | 'TeachingAssistant' | 'ContentDeveloper' | 'Mentor';
export type MemberStatus = 'Active' | 'Inactive';
export type PrivacyLevel = 'anonymous' | 'name_only' | 'email_only' | 'public';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
export const CLAIM = {
  messageType: `${LTI}message_type`,
  version: `${LTI}version`,
  deploymentId: `${LTI}deployment_id`,
  targetLinkUri: `${LTI}target_link_uri`,
  resourceLink: `${LTI}resource_link`,
  roles: `${LTI}roles`,
  context: `${LTI}context`,
  toolPlatform: `${LTI}tool_platform`,
  launchPresentation: `${LTI}launch_presentation`,
  custom: `${LTI}custom`,
  lis: `${LTI}lis`,
  ext: `${LTI}ext`,
  lti11LegacyUserId: `${LTI}lti11_legacy_user_id`,
  lti1p1: `${LTI}lti1p1`,
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  basicOutcome: 'https://purl.imsglobal.org/spec/lti-bo/claim/basicoutcome',
  dlSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
  dlContentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  dlData: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  dlMsg: 'https://purl.imsglobal.org/spec/lti-dl/claim/msg',
  dlLog: 'https://purl.imsglobal.org/spec/lti-dl/claim/log',
  dlErrorMsg: 'https://purl.imsglobal.org/spec/lti-dl/claim/errormsg',
  dlErrorLog: 'https://purl.imsglobal.org/spec/lti-dl/claim/errorlog',
  canvasPlacement: 'https://www.instructure.com/placement',
} as const;

export const SCOPE = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
} as const;
export const SERVICE_SCOPES: readonly string[] = Object.values(SCOPE);

/** The LTI scopes of Canvas's Data Services API (lib/token_scopes.rb). */
export const DATA_SERVICES_SCOPE = {
  create: 'https://canvas.instructure.com/lti/data_services/scope/create',
  show: 'https://canvas.instructure.com/lti/data_services/scope/show',
  update: 'https://canvas.instructure.com/lti/data_services/scope/update',
  list: 'https://canvas.instructure.com/lti/data_services/scope/list',
  destroy: 'https://canvas.instructure.com/lti/data_services/scope/destroy',
  listEventTypes: 'https://canvas.instructure.com/lti/data_services/scope/list_event_types',
} as const;
export const DATA_SERVICES_SCOPES: readonly string[] = Object.values(DATA_SERVICES_SCOPE);

export const AGS_SCOPES: readonly string[] = [
  SCOPE.lineItem,
  SCOPE.lineItemReadonly,
  SCOPE.resultReadonly,
  SCOPE.score,
];

export const MEDIA = {
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItemContainer: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  resultContainer: 'application/vnd.ims.lis.v2.resultcontainer+json',
  score: 'application/vnd.ims.lis.v1.score+json',
  membershipContainer: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
} as const;

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface Course {
  id: string;
  contextId: string;
  title: string;
  label: string;
  /** Moodle course idnumber / Canvas SIS id; sent as lis.course_section_sourcedid (Moodle) or course_offering_sourcedid (Canvas). */
  sourcedId?: string;
}

export interface PlatformUser {
  sub: string;
  lmsUserId: string;
  name: string;
  givenName: string;
  familyName: string;
  email: string;
  username: string;
  sourcedId?: string;
  picture?: string;
  /** Site (Moodle) or account (Canvas) administrator. */
  admin: boolean;
}

export interface Enrolment {
  courseId: string;
  sub: string;
  roles: CourseRole[];
  status: MemberStatus;
}

/** What a user sends to the LMS's people admin: everything but a name is optional. */
export interface UserInput {
  sub?: string;
  lmsUserId?: string;
  name: string;
  givenName?: string;
  familyName?: string;
  email?: string;
  username?: string;
  sourcedId?: string;
  picture?: string;
  admin?: boolean;
  /** Course id → roles, enrolled at once. */
  roles?: Record<string, CourseRole[]>;
}

export interface CourseInput {
  id: string;
  contextId?: string;
  title: string;
  label?: string;
  sourcedId?: string;
}

/** A tool registered with the platform (one LTI 1.3 client): the pre-configured one or a dynamic registration. */
export interface ToolClient {
  clientId: string;
  name: string;
  deploymentIds: string[];
  initiateLoginUri: string;
  redirectUris: string[];
  targetLinkUri: string;
  deepLinkingUri?: string;
  jwksUri: string;
  scopes: string[];
  privacy: PrivacyLevel;
  /** Custom parameter templates, e.g. `{ canvas_course_id: '$Canvas.course.id' }`, substituted at launch. */
  custom: Record<string, string>;
  dynamic: boolean;
}

export interface ResourceLink {
  id: string;
  courseId: string;
  clientId: string;
  title: string;
  description?: string;
  url?: string;
  custom?: Record<string, string>;
  lineItemId?: string;
}

export interface LineItem {
  id: string;
  courseId: string;
  clientId: string;
  label: string;
  scoreMaximum: number;
  resourceId?: string;
  tag?: string;
  resourceLinkId?: string;
  startDateTime?: string;
  endDateTime?: string;
}

export interface LineItemInput {
  label: string;
  scoreMaximum: number;
  resourceId?: string;
  tag?: string;
  resourceLinkId?: string;
  clientId?: string;
}

export interface GradeResult {
  lineItemId: string;
  sub: string;
  resultScore?: number;
  resultMaximum: number;
  comment?: string;
  /** Timestamp of the score that produced it, for ordering checks. */
  timestamp?: string;
}

export interface LaunchOptions {
  courseId: string;
  sub: string;
  messageType?: MessageType;
  targetLinkUri?: string;
  resourceLinkId?: string;
  resourceLinkTitle?: string;
  clientId?: string;
  deploymentId?: string;
  tamper?: Tamper;
  /** Replaces the role URIs the flavour would send. */
  roles?: string[];
  /** Extra custom claim entries (added after substitution). */
  custom?: Record<string, string>;
  /** Merged into the id_token last; a key set to `undefined` removes that claim. */
  claims?: Record<string, unknown>;
  /**
   * The LMS's clock runs this many seconds ahead of the real time (negative: behind) for this launch:
   * the id_token's `iat` and `exp` are dated by it (`exp` keeps the flavour's lifetime).
   */
  clockOffsetSeconds?: number;
  presentation?: 'iframe' | 'window';
  locale?: string;
}

export interface PendingLaunch extends Required<Pick<LaunchOptions, 'courseId' | 'sub'>> {
  id: string;
  clientId: string;
  deploymentId: string;
  messageType: MessageType;
  targetLinkUri: string;
  resourceLinkId?: string;
  loginHint: string;
  messageHint: string;
  expiresAt: number;
  options: LaunchOptions;
}

export interface AccessToken {
  accessToken: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

export interface IssuedIdToken {
  launchId: string;
  clientId: string;
  courseId: string;
  sub: string;
  messageType: MessageType;
  redirectUri: string;
  idToken: string;
  state?: string;
  nonce?: string;
  claims: Record<string, unknown>;
  tamper?: Tamper;
}

export interface Refusal {
  endpoint: string;
  error: string;
  description: string;
  at: Date;
}

export interface ScoreReceived {
  courseId: string;
  lineItemId: string;
  clientId: string;
  contentType: string;
  score: Record<string, unknown>;
  receivedAt: Date;
}

export interface DeepLinkResponseRecord {
  clientId: string;
  deploymentId: string;
  courseId: string;
  contentItems: Record<string, unknown>[];
  /** Resource links (and line items) the platform created from the items. */
  created: { resourceLinkId: string; lineItemId?: string; title: string }[];
  msg?: string;
  log?: string;
  errormsg?: string;
  errorlog?: string;
  payload: Record<string, unknown>;
}

export interface RegistrationRecord {
  clientId: string;
  deploymentId: string;
  request: Record<string, unknown>;
  response: Record<string, unknown>;
}

export interface PlatformRegistrationInfo {
  name: string;
  lms: Flavour;
  issuer: string;
  clientId: string;
  authLoginUrl: string;
  authTokenUrl: string;
  jwksUrl: string;
  deploymentIds: string[];
}
