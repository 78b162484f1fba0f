import { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { PersonDoc } from '../db/models/person.js';
import type { TemplateDoc } from '../db/models/template.js';
import type { CourseScope } from './scope.js';
import { templateProgress } from './templateProgress.js';

/**
 * The course's people who hold no live credential of the badge, who may be given it by hand: its
 * learners (launches, the roster), anyone with progress on it, and anyone the LMS sent a result of
 * this course for.
 */
export async function awardCandidates(
  ctx: Context,
  scope: CourseScope & { courseRef: Types.ObjectId },
  template: TemplateDoc,
): Promise<{ personId: string; name: string; email: string | null; percent: number }[]> {
  const [result, seen] = await Promise.all([
    templateProgress(ctx, scope, template, { sort: 'name', page: 1, pageSize: Infinity }),
    ctx.models.events.distinct('personRef', {
      platformId: scope.platformId,
      courseRef: scope.courseRef,
      personRef: { $ne: null },
    }) as Promise<Types.ObjectId[]>,
  ]);
  const rows = result.rows.map((r) => ({
    personId: r.personId,
    name: r.name,
    email: r.email,
    percent: r.percent,
    holds: r.earnedAt !== null,
  }));
  const listed = new Set(rows.map((r) => r.personId));
  const others = seen.filter((id) => !listed.has(String(id))).slice(0, 5000);
  if (others.length) {
    const people = await ctx.models.people
      .find({ _id: { $in: others }, platformId: scope.platformId }, { name: 1, email: 1, ids: 1 })
      .lean<PersonDoc[]>();
    for (const p of people)
      rows.push({
        personId: String(p._id),
        name: p.name ?? p.email ?? p.ids[0] ?? 'Unknown learner',
        email: p.email ?? null,
        percent: 0,
        holds: false,
      });
  }
  return rows
    .filter((r) => !r.holds)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(({ holds: _holds, ...r }) => r);
}
