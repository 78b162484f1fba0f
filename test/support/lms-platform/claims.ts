/**
 * Builds the id_token claims of a launch as each flavour sends them, including custom-parameter substitution
 * and the privacy level of the tool, and spoils them on request (tampering for refusal tests).
 */
import {
  absolute,
  lineItemUrl,
  lineItemsUrl,
  membershipsUrl,
  PATHS,
  type PlatformContext,
} from './context.js';
import { canvasGlobalId, sha1 } from './flavour.js';
import {
  AGS_SCOPES,
  CLAIM,
  SCOPE,
  type Course,
  type CourseRole,
  type PendingLaunch,
  type PlatformUser,
  type PrivacyLevel,
  type ResourceLink,
  type Tamper,
  type ToolClient,
} from './types.js';

export interface ClaimInputs {
  launch: PendingLaunch;
  client: ToolClient;
  course: Course;
  user: PlatformUser;
  courseRoles: CourseRole[];
  resourceLink?: ResourceLink;
  nonce?: string;
  /** Opaque `data` of a deep-linking request. */
  deepLinkData?: string;
  /** Seconds since the epoch. */
  now: number;
}

/** Values of the substitution variables both LMSs resolve in custom parameters. */
export function substitutionVariables(
  ctx: PlatformContext,
  i: ClaimInputs,
): Record<string, string | undefined> {
  const { user, course, resourceLink } = i;
  const canvas = ctx.profile.flavour === 'canvas';
  return {
    'User.id': user.lmsUserId,
    'User.username': user.username,
    'Person.name.full': user.name,
    'Person.name.given': user.givenName,
    'Person.name.family': user.familyName,
    'Person.email.primary': user.email,
    'Person.sourcedId': user.sourcedId,
    'Context.id': course.contextId,
    'Context.title': course.title,
    'Context.label': course.label,
    'CourseSection.sourcedId': course.sourcedId,
    'ResourceLink.id': resourceLink?.id,
    'ResourceLink.title': resourceLink?.title,
    ...(canvas
      ? {
          'Canvas.user.id': user.lmsUserId,
          'Canvas.user.globalId': canvasGlobalId(user.lmsUserId),
          'Canvas.user.loginId': user.username,
          'Canvas.course.id': course.id,
          'Canvas.course.name': course.title,
          'Canvas.api.domain': new URL(ctx.url).host,
        }
      : {}),
  };
}

/** `$Var.name` → its value; unknown variables (or ones without a value) stay as written, as both LMSs do. */
export function substitute(template: string, vars: Record<string, string | undefined>): string {
  if (!template.startsWith('$')) return template;
  return vars[template.slice(1)] ?? template;
}

function privacyAllows(level: PrivacyLevel, what: 'name' | 'email' | 'picture'): boolean {
  if (level === 'public') return true;
  if (what === 'name') return level === 'name_only';
  if (what === 'email') return level === 'email_only';
  return false;
}

function personClaims(user: PlatformUser, level: PrivacyLevel, canvas: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (privacyAllows(level, 'name')) {
    Object.assign(out, { name: user.name, given_name: user.givenName, family_name: user.familyName });
  }
  if (privacyAllows(level, 'email')) out.email = user.email;
  if (canvas && privacyAllows(level, 'picture')) {
    out.picture = user.picture ?? `https://canvas.example.edu/images/thumbnails/${user.lmsUserId}.png`;
  }
  return out;
}

export function buildLaunchClaims(ctx: PlatformContext, i: ClaimInputs): Record<string, unknown> {
  const { launch, client, course, user, resourceLink } = i;
  const canvas = ctx.profile.flavour === 'canvas';
  const locale = launch.options.locale ?? 'en';
  const vars = substitutionVariables(ctx, i);
  const custom: Record<string, string> = {};
  const templates = { ...client.custom, ...(resourceLink?.custom ?? {}) };
  for (const [key, template] of Object.entries(templates)) custom[key] = substitute(template, vars);
  if (!canvas && client.scopes.includes(SCOPE.nrps)) {
    custom.context_memberships_url = membershipsUrl(ctx, course.id);
  }
  Object.assign(custom, launch.options.custom ?? {});

  const namePrivate = !privacyAllows(client.privacy, 'name');
  const lis: Record<string, unknown> = {};
  if (canvas) {
    if (user.sourcedId !== undefined && !namePrivate) lis.person_sourcedid = user.sourcedId;
    if (course.sourcedId !== undefined) lis.course_offering_sourcedid = course.sourcedId;
  } else {
    if (!namePrivate) lis.person_sourcedid = user.sourcedId ?? '';
    lis.course_section_sourcedid = course.sourcedId ?? '';
  }

  const presentation = launch.options.presentation ?? 'iframe';
  const returnUrl = canvas
    ? `${ctx.url}/courses/${course.id}/external_content/success/external_tool_redirect`
    : `${ctx.url}/mod/lti/return.php?course=${course.id}&launch_container=${presentation === 'iframe' ? 3 : 4}` +
      `&instanceid=${resourceLink?.id ?? ''}&sesskey=demo`;

  const claims: Record<string, unknown> = {
    iss: ctx.issuer,
    aud: client.clientId,
    azp: client.clientId,
    sub: user.sub,
    nonce: i.nonce,
    iat: i.now,
    exp: i.now + (canvas ? 3600 : 60),
    ...personClaims(user, client.privacy, canvas),
    ...(canvas ? { locale } : {}),
    [CLAIM.messageType]: launch.messageType,
    [CLAIM.version]: '1.3.0',
    [CLAIM.deploymentId]: launch.deploymentId,
    [CLAIM.targetLinkUri]: launch.targetLinkUri,
    [CLAIM.roles]: launch.options.roles ?? ctx.profile.launchRoles(i.courseRoles, user.admin),
    [CLAIM.context]: {
      id: course.contextId,
      label: course.label,
      title: course.title,
      type: ctx.profile.contextType,
    },
    [CLAIM.toolPlatform]: canvas
      ? {
          guid: `${sha1(ctx.url)}:canvas-lms`,
          name: ctx.name,
          version: ctx.profile.version,
          product_family_code: 'canvas',
        }
      : {
          guid: new URL(ctx.url).hostname,
          name: ctx.name,
          description: ctx.name,
          version: ctx.profile.version,
          product_family_code: 'moodle',
        },
    [CLAIM.launchPresentation]: {
      document_target: presentation,
      return_url: returnUrl,
      locale,
      ...(canvas ? { height: 600, width: 800 } : {}),
    },
    [CLAIM.custom]: custom,
    ...(Object.keys(lis).length > 0 ? { [CLAIM.lis]: lis } : {}),
  };

  if (resourceLink && launch.messageType === 'LtiResourceLinkRequest') {
    claims[CLAIM.resourceLink] = {
      id: resourceLink.id,
      title: resourceLink.title,
      description: resourceLink.description ?? '',
    };
  }
  if (client.scopes.includes(SCOPE.nrps)) {
    claims[CLAIM.nrps] = {
      context_memberships_url: membershipsUrl(ctx, course.id),
      service_versions: ctx.profile.nrpsVersions,
    };
  }
  const agsScopes = client.scopes.filter((s) => AGS_SCOPES.includes(s));
  if (agsScopes.length > 0) {
    const lineItemId = launch.messageType === 'LtiResourceLinkRequest' ? resourceLink?.lineItemId : undefined;
    claims[CLAIM.ags] = {
      scope: agsScopes,
      lineitems: lineItemsUrl(ctx, course.id),
      ...(lineItemId ? { lineitem: lineItemUrl(ctx, course.id, lineItemId) } : {}),
    };
  }
  if (launch.messageType === 'LtiDeepLinkingRequest') {
    claims[CLAIM.dlSettings] = {
      deep_link_return_url: absolute(ctx, PATHS.deepLinkReturn),
      accept_types: ['ltiResourceLink'],
      accept_presentation_document_targets: canvas ? ['iframe', 'window'] : ['frame', 'iframe', 'window'],
      accept_multiple: true,
      // Both make the gradebook column of a resource link that carries a lineItem (deep-linking.ts).
      accept_lineitem: true,
      auto_create: canvas,
      title: canvas ? 'Badges' : '',
      text: '',
      data: i.deepLinkData,
    };
  }
  Object.assign(claims, canvas ? canvasExtras(i) : moodleExtras(ctx, i));
  return applyOverrides(claims, launch.options.claims);
}

function canvasExtras(i: ClaimInputs): Record<string, unknown> {
  const legacyId = sha1(`lti11-${i.user.lmsUserId}`);
  return {
    [CLAIM.lti11LegacyUserId]: legacyId,
    [CLAIM.lti1p1]: { user_id: legacyId },
    [CLAIM.canvasPlacement]:
      i.launch.messageType === 'LtiDeepLinkingRequest' ? 'link_selection' : 'course_navigation',
  };
}

function moodleExtras(ctx: PlatformContext, i: ClaimInputs): Record<string, unknown> {
  const out: Record<string, unknown> = {
    [CLAIM.ext]: { user_username: i.user.username, lms: 'moodle-2' },
  };
  if (i.resourceLink?.lineItemId && i.launch.messageType === 'LtiResourceLinkRequest') {
    out[CLAIM.basicOutcome] = {
      lis_result_sourcedid: JSON.stringify({
        data: { instanceid: i.resourceLink.id, userid: i.user.lmsUserId, typeid: i.launch.deploymentId },
      }),
      lis_outcome_service_url: `${ctx.url}/mod/lti/service.php`,
    };
  }
  return out;
}

function applyOverrides(claims: Record<string, unknown>, overrides?: Record<string, unknown>) {
  if (claims.nonce === undefined) delete claims.nonce;
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) delete claims[key];
    else claims[key] = value;
  }
  return claims;
}

/** Spoils claims for a tamper mode; 'bad-signature' is applied when signing instead. */
export function tamperClaims(claims: Record<string, unknown>, tamper: Tamper | undefined, now: number) {
  switch (tamper) {
    case 'wrong-audience':
      claims.aud = `not-${String(claims.aud)}`;
      claims.azp = claims.aud;
      break;
    case 'unknown-deployment':
      claims[CLAIM.deploymentId] = 'unknown-deployment';
      break;
    case 'expired':
      claims.iat = now - 7200;
      claims.exp = now - 3600;
      break;
    case 'no-nonce':
      delete claims.nonce;
      break;
    default:
      break;
  }
  return claims;
}
