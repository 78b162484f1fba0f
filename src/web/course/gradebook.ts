import type { LtiIdToken } from 'ltijs';
import type { KnownActivity } from '../../courses/activities.js';
import type { Lti } from '../../lti/index.js';
import { agsTargetOf, listLineItems } from '../../lti/ags.js';
import type { Logger } from '../../logger.js';

const AGS_TIMEOUT_MS = 3000;

/**
 * The course's gradebook columns that Laurel can see through AGS, as activities to pick in the
 * requirement builder. The LMS may be slow or refuse: the form must still open, so a failure or a
 * slow answer gives an empty list (and a log line), never an error page.
 */
export async function gradebookColumns(
  lti: Lti,
  token: LtiIdToken | undefined,
  logger: Logger,
): Promise<KnownActivity[]> {
  const target = token ? agsTargetOf(token) : null;
  if (!target) return [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const items = await Promise.race([
      listLineItems(lti.provider.Grade, target),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('AGS did not answer in time')), AGS_TIMEOUT_MS);
      }),
    ]);
    return items.map((item) => ({
      id: String(item.resourceId || item.tag || item.id),
      title: item.label ?? null,
      source: 'gradebook' as const,
    }));
  } catch (err) {
    logger.warn(
      { err: (err as Error).message, issuer: target.issuer },
      'gradebook columns could not be read',
    );
    return [];
  } finally {
    clearTimeout(timer);
  }
}
