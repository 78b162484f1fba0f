/**
 * A test LMS platform (Moodle-like or Canvas-like) that speaks LTI 1.3 Advantage over real HTTP, and a
 * browserless driver that runs launches against a tool. See README.md beside this file.
 */
export { startTestPlatform } from './server.js';
export type { StartTestPlatformOptions } from './server.js';
export { TestPlatform } from './platform.js';
export type { PreparedLaunch } from './platform.js';
export { followAutoSubmit, launch, postLaunch, replay } from './driver.js';
export type { BrowsingOptions, DriverLaunchOptions, LaunchResult, PostLaunchOptions } from './driver.js';
export { CookieJar, isSecureUrl, parseSetCookie, siteOf } from './cookie-jar.js';
export type { Cookie, CookieContext, SameSite } from './cookie-jar.js';
export { decodeEntities, fieldValue, findAutoSubmitForm, parseForms } from './html-forms.js';
export type { HtmlForm } from './html-forms.js';
export type { TraceStep } from './browser.js';
export { ROLE, profileFor } from './flavour.js';
export type { DemoData } from './demo.js';
export type { StorageTamper } from './storage.js';
export { DATA_SERVICES_SCOPE, DATA_SERVICES_SCOPES, LIVE_EVENTS_PATHS } from './live-events.js';
export type { DataServiceSubscription, LiveEventInput, LiveEventSignOptions } from './live-events.js';
export { CLAIM, CLIENT_ASSERTION_TYPE, MEDIA, SCOPE, SERVICE_SCOPES } from './types.js';
export type {
  Course,
  CourseInput,
  CourseRole,
  DeepLinkResponseRecord,
  Enrolment,
  Flavour,
  GradeResult,
  IssuedIdToken,
  LaunchOptions,
  LineItemInput,
  MemberStatus,
  MessageType,
  PlatformRegistrationInfo,
  PlatformUser,
  PrivacyLevel,
  Refusal,
  RegistrationRecord,
  ScoreReceived,
  Tamper,
  ToolClient,
  UserInput,
} from './types.js';
