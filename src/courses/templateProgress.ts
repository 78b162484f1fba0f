import { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { PersonDoc } from '../db/models/person.js';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import { describeRequirement, partialShares, progressFraction } from '../rules/index.js';
import { describeContextFor } from './overview.js';
import type { CourseScope } from './scope.js';

export type ProgressSort = 'name' | 'progress' | 'recent';
export const PROGRESS_SORTS: readonly ProgressSort[] = ['name', 'progress', 'recent'];
export const PROGRESS_PAGE_SIZE = 25;

export type LearnerProgressRow = {
  personId: string;
  name: string;
  email: string | null;
  percent: number;
  met: string[];
  earnedAt: Date | null;
  /** A Credly or Accredible badge's page at the service, once issued there. */
  externalUrl: string | null;
  updatedAt: Date | null;
};

const LEARNER_ROLE = /(^|#|\/)(Learner|Student)$/;

/**
 * One badge's learners in a course: everyone with progress or a live credential, and the course's
 * learners known from launches or the roster who have not started. Sorted and cut into pages here,
 * because the page needs every learner's percentage to sort by it.
 */
export async function templateProgress(
  ctx: Context,
  scope: CourseScope,
  template: TemplateDoc,
  /** `pageSize` Infinity: every learner on one page (the CSV export, the hand-award form). */
  options: { sort: ProgressSort; page: number; pageSize?: number },
): Promise<{
  rows: LearnerProgressRow[];
  total: number;
  page: number;
  pages: number;
  requirements: { id: string; text: string }[];
}> {
  const courseMatch = scope.courseRef ? { courseRef: scope.courseRef } : {};
  const [progress, credentials, names] = await Promise.all([
    ctx.models.progress.find({ templateId: template._id, ...courseMatch }).lean<ProgressDoc[]>(),
    ctx.models.credentials
      .find({ templateId: template._id, liveSlot: 'live', ...courseMatch })
      .lean<CredentialDoc[]>(),
    describeContextFor(ctx, scope),
  ]);
  const rosterFilter: Record<string, unknown> = { platformId: scope.platformId };
  if (scope.courseRef) rosterFilter[`roles.${String(scope.courseRef)}`] = { $exists: true };
  const roster = scope.courseRef
    ? await ctx.models.people.find(rosterFilter).limit(5000).lean<PersonDoc[]>()
    : [];
  const learners = roster.filter((p) => {
    const roles: string[] = (p.roles as unknown as Record<string, string[]>)[String(scope.courseRef)] ?? [];
    return roles.some((r) => LEARNER_ROLE.test(r));
  });
  const personIds = new Set([
    ...progress.map((p) => String(p.personId)),
    ...credentials.map((c) => String(c.personId)),
    ...learners.map((p) => String(p._id)),
  ]);
  const known = new Map(roster.map((p) => [String(p._id), p]));
  const missing = [...personIds].filter((id) => !known.has(id)).map((id) => new Types.ObjectId(id));
  if (missing.length)
    for (const p of await ctx.models.people.find({ _id: { $in: missing } }).lean<PersonDoc[]>())
      known.set(String(p._id), p);

  const progressOf = new Map(progress.map((p) => [String(p.personId), p]));
  const credentialOf = new Map(credentials.map((c) => [String(c.personId), c]));
  const rows: LearnerProgressRow[] = [...personIds].map((id) => {
    const person = known.get(id);
    const p = progressOf.get(id);
    const credential = credentialOf.get(id);
    const fulfilled = p?.fulfilled ?? [];
    return {
      personId: id,
      name: person?.name ?? person?.email ?? person?.ids[0] ?? 'Unknown learner',
      email: person?.email ?? null,
      percent: credential
        ? 100
        : Math.round(
            progressFraction(template.groups, fulfilled, partialShares(template.groups, p?.counted ?? {})) *
              100,
          ),
      met: fulfilled,
      earnedAt: credential?.awardedAt ?? null,
      externalUrl: credential?.externalUrl ?? null,
      updatedAt: p?.updatedAt ?? credential?.awardedAt ?? null,
    };
  });
  const byName = (a: LearnerProgressRow, b: LearnerProgressRow) => a.name.localeCompare(b.name);
  rows.sort(
    options.sort === 'progress'
      ? (a, b) => b.percent - a.percent || byName(a, b)
      : options.sort === 'recent'
        ? (a, b) => (b.updatedAt?.getTime() ?? 0) - (a.updatedAt?.getTime() ?? 0) || byName(a, b)
        : byName,
  );
  const size = options.pageSize ?? PROGRESS_PAGE_SIZE;
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const page = Math.min(Math.max(1, options.page), pages);
  return {
    rows: size === Infinity ? rows : rows.slice((page - 1) * size, page * size),
    total: rows.length,
    page,
    pages,
    requirements: template.groups.flatMap((g) =>
      g.requirements.map((r) => ({ id: r.id, text: describeRequirement(r, names) })),
    ),
  };
}
