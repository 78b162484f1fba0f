import { z } from 'zod';
import { safeText } from '../validation/text.js';

const httpsUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' });

/** Names and ids an LMS or an administrator gives: trimmed, bounded, no NUL, control characters or lone surrogates. */
const nonEmptyText = (max: number) => safeText(max).min(1, 'must not be empty');

/** The body of POST /api/v1/platforms (and of the CLI's `platform add`). */
export const platformInputSchema = z.strictObject({
  name: nonEmptyText(200),
  lms: z.enum(['moodle', 'canvas', 'other'], { error: 'must be moodle, canvas or other' }),
  issuer: nonEmptyText(500),
  clientId: nonEmptyText(500),
  authLoginUrl: httpsUrl,
  authTokenUrl: httpsUrl,
  jwksUrl: httpsUrl,
  deploymentIds: z.array(nonEmptyText(500)).max(100).default([]),
  /** Canvas: the key set that signs its Live Events (default: Instructure's). */
  liveEventsJwksUrl: httpsUrl.optional(),
  /** Canvas: the root account (`root_account_lti_guid`) whose Live Events are accepted. */
  liveEventsRootAccountGuid: nonEmptyText(500).optional(),
});

export type PlatformInput = z.infer<typeof platformInputSchema>;
