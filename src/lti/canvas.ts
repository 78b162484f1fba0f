import { CUSTOM_PARAMETERS, SCOPES } from './claims.js';

export const LAUREL_DESCRIPTION =
  'Digital badges for your courses: define what earns a badge, and learners receive Open Badges 3.0 ' +
  'credentials they can share and verify anywhere.';

/**
 * The Canvas developer key configuration ("Enter URL" / "Paste JSON" of an LTI 1.3 key): course
 * navigation opens Laurel, link and assignment selection place it through Deep Linking, and the
 * custom fields carry Canvas's own course and user ids, which Canvas's events use.
 */
export function canvasConfiguration(publicUrl: string): Record<string, unknown> {
  const launch = `${publicUrl}/lti/launch`;
  return {
    title: 'Laurel',
    description: LAUREL_DESCRIPTION,
    oidc_initiation_url: `${publicUrl}/lti/login`,
    target_link_uri: launch,
    public_jwk_url: `${publicUrl}/lti/keys`,
    scopes: [SCOPES.nrps, SCOPES.lineItem, SCOPES.lineItemReadonly, SCOPES.resultReadonly, SCOPES.score],
    extensions: [
      {
        domain: new URL(publicUrl).host,
        tool_id: 'laurel',
        platform: 'canvas.instructure.com',
        privacy_level: 'public',
        settings: {
          text: 'Badges',
          placements: [
            {
              placement: 'course_navigation',
              message_type: 'LtiResourceLinkRequest',
              target_link_uri: launch,
              text: 'Badges',
              default: 'enabled',
            },
            {
              placement: 'link_selection',
              message_type: 'LtiDeepLinkingRequest',
              target_link_uri: launch,
              text: 'Badges',
            },
            {
              placement: 'assignment_selection',
              message_type: 'LtiDeepLinkingRequest',
              target_link_uri: launch,
              text: 'Badges',
            },
          ],
        },
      },
    ],
    custom_fields: { ...CUSTOM_PARAMETERS.canvas },
  };
}
