import { z } from 'zod';

const httpsUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' });

/** The body of POST /api/v1/platforms (and of the CLI's `platform add`). */
export const platformInputSchema = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  lms: z.enum(['moodle', 'canvas', 'other'], { error: 'must be moodle, canvas or other' }),
  issuer: z.string().trim().min(1, 'must not be empty').max(500),
  clientId: z.string().trim().min(1, 'must not be empty').max(500),
  authLoginUrl: httpsUrl,
  authTokenUrl: httpsUrl,
  jwksUrl: httpsUrl,
  deploymentIds: z.array(z.string().trim().min(1).max(500)).max(100).default([]),
});

export type PlatformInput = z.infer<typeof platformInputSchema>;
