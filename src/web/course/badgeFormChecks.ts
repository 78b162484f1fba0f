import type { Context } from '../../context.js';
import { unknownActivityIds, type KnownActivity } from '../../courses/activities.js';
import type { CourseScope } from '../../courses/scope.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { activityIdsOf, confirmedActivityIds, storedActivityIds, type BadgeFormValues } from './badgeForm.js';

/**
 * The activity ids of a posted badge form that Laurel has never heard of in this course (no LMS
 * feed, event or gradebook column names them) and that the instructor has not confirmed yet. A
 * condition on such an id may never be met (a typed "Quiz 3" where the LMS sends "42"), so the form
 * comes back with a warning first. Ids the stored badge already names are not asked about again.
 */
export async function unconfirmedActivities(
  ctx: Context,
  scope: CourseScope,
  body: Record<string, unknown>,
  values: BadgeFormValues,
  template: TemplateDoc | null,
  columns: () => Promise<KnownActivity[]>,
): Promise<string[]> {
  const stored = storedActivityIds(template);
  const confirmed = confirmedActivityIds(body);
  const ids = activityIdsOf(values).filter((id) => !stored.has(id) && !confirmed.has(id));
  if (ids.length === 0) return [];
  return unknownActivityIds(ctx, scope, ids, columns);
}
