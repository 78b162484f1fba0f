import type { Context } from '../context.js';
import { tagsOf } from './activityTags.js';
import { knownCourseOf, type CourseScope } from './scope.js';

export type KnownActivity = { id: string; title: string | null; source: 'events' | 'gradebook' | 'lms' };

/**
 * The activities Laurel has seen in this course's events (an LMS plugin may send a title as
 * data.activityTitle or data.activityName), so the instructor picks from a list instead of typing ids.
 * Line items from the LMS gradebook (AGS) are merged in by the caller when a launch can reach them.
 */
export async function activitiesSeenInEvents(
  ctx: Context,
  scope: CourseScope,
  limit = 200,
): Promise<KnownActivity[]> {
  if (!scope.courseRef) return [];
  const rows = await ctx.models.events.aggregate<{ _id: string; title: string | null; name: string | null }>([
    {
      $match: {
        platformId: scope.platformId,
        courseRef: scope.courseRef,
        'data.activityId': { $type: 'string' },
      },
    },
    { $sort: { occurredAt: 1 } },
    {
      $group: {
        _id: '$data.activityId',
        title: { $last: '$data.activityTitle' },
        name: { $last: '$data.activityName' },
      },
    },
    { $sort: { _id: 1 } },
    { $limit: limit },
  ]);
  const seen = rows.map((r) => ({
    id: r._id,
    title: (typeof r.title === 'string' && r.title) || (typeof r.name === 'string' && r.name) || null,
    source: 'events' as const,
  }));
  // Activities the LMS described before any grade for them arrived (Canvas Live Events).
  const described = await activitiesFromLmsFeeds(ctx, scope, limit);
  return described.length ? mergeActivities(seen, described).slice(0, limit) : seen;
}

/**
 * The activities an LMS's own feed described for this course (Canvas Live Events' assignment events,
 * stored by src/lms/canvas/activities.ts under the LMS's course id), deleted ones left out. Merged into
 * activitiesSeenInEvents, so the badge builder offers them by name before any grade arrived.
 */
export async function activitiesFromLmsFeeds(
  ctx: Context,
  scope: CourseScope,
  limit = 200,
): Promise<KnownActivity[]> {
  if (!scope.courseRef) return [];
  const course = await courseIdsOf(ctx, scope);
  if (!course || course.ids.length === 0) return [];
  const rows = await ctx.models.lmsActivities
    .find(
      { platformId: scope.platformId, courseId: { $in: course.ids }, state: { $ne: 'deleted' } },
      { activityId: 1, name: 1 },
    )
    .sort({ activityId: 1 })
    .limit(limit)
    .lean();
  return rows.map((r) => ({ id: r.activityId, title: r.name ?? null, source: 'lms' as const }));
}

/** Merges activity lists, first title wins, sorted by what a person reads. */
export function mergeActivities(...lists: KnownActivity[][]): KnownActivity[] {
  const byId = new Map<string, KnownActivity>();
  for (const list of lists)
    for (const a of list) {
      const known = byId.get(a.id);
      if (!known) byId.set(a.id, a);
      else if (!known.title && a.title) byId.set(a.id, { ...known, title: a.title });
    }
  return [...byId.values()].sort((a, b) => (a.title ?? a.id).localeCompare(b.title ?? b.id));
}

/** One activity the badge builder offers: its LMS id, its name, its kind, and where Laurel learnt of it. */
export type ActivityOption = {
  id: string;
  title: string | null;
  /** A person's word for its kind ("Quiz", "Assignment", "Gradebook column"), when known. */
  kind: string | null;
  sources: KnownActivity['source'][];
  /** The LMS's own word for its kind (`assign`, `quiz`), which a count of activities by kind matches. */
  lmsKind?: string | null;
  /** Its tags (the LMS's and the instructor's), which a count of activities by tag matches. */
  tags?: string[];
};

const KIND_WORDS: Readonly<Record<string, string>> = {
  quiz: 'Quiz',
  assign: 'Assignment',
  assignment: 'Assignment',
  manual: 'Manual grade item',
  forum: 'Forum',
  lesson: 'Lesson',
  workshop: 'Workshop',
  scorm: 'SCORM package',
  h5pactivity: 'H5P',
  lti: 'External tool',
  discussion_topic: 'Discussion',
  online_quiz: 'Quiz',
};

/** The LMS's own kind ("assign", "online_quiz") in a person's words. */
export function kindWord(kind: string | null | undefined): string | null {
  if (!kind) return null;
  const k = kind.toLowerCase();
  if (Object.prototype.hasOwnProperty.call(KIND_WORDS, k)) return KIND_WORDS[k]!;
  return k.charAt(0).toUpperCase() + k.slice(1).replace(/_/g, ' ');
}

/**
 * Every activity of the course Laurel knows of, for the badge builder: what the LMS's own feed
 * described (the Moodle plugin's course structure, Canvas Live Events' assignments), the gradebook
 * columns the launch can read (AGS, given by the caller), and the activities named in stored events.
 * The LMS's name wins (it follows renames); sorted by name.
 */
export async function builderActivities(
  ctx: Context,
  scope: CourseScope,
  columns: KnownActivity[],
  limit = 500,
): Promise<ActivityOption[]> {
  if (!scope.courseRef) return [];
  const course = await courseIdsOf(ctx, scope);
  const [lms, seen] = await Promise.all([
    course && course.ids.length
      ? ctx.models.lmsActivities
          .find(
            { platformId: scope.platformId, courseId: { $in: course.ids }, state: { $ne: 'deleted' } },
            { activityId: 1, name: 1, kind: 1, tags: 1, instructorTags: 1 },
          )
          .sort({ activityId: 1 })
          .limit(limit)
          .lean()
      : [],
    activitiesSeenInEvents(ctx, scope, limit),
  ]);
  const byId = new Map<string, ActivityOption>();
  const add = (id: string, title: string | null, kind: string | null, source: KnownActivity['source']) => {
    const known = byId.get(id);
    if (!known) return void byId.set(id, { id, title, kind, sources: [source] });
    known.title ??= title;
    known.kind ??= kind;
    if (!known.sources.includes(source)) known.sources.push(source);
  };
  for (const a of lms) {
    add(a.activityId, a.name ?? null, kindWord(a.kind), 'lms');
    if (a.kind) byId.get(a.activityId)!.lmsKind = a.kind;
    const tags = tagsOf(a);
    if (tags.length) byId.get(a.activityId)!.tags = tags;
  }
  for (const a of seen) add(a.id, a.title, null, a.source);
  // A column known only by its line item URL (no resourceId or tag; Laurel's own column is one) is
  // named by no event, so a condition on it could never be met: not offered.
  for (const a of columns) if (!/^https?:\/\//i.test(a.id)) add(a.id, a.title, null, 'gradebook');
  for (const a of byId.values()) if (!a.kind && a.sources.includes('gradebook')) a.kind = 'Gradebook column';
  return [...byId.values()].sort((a, b) => (a.title ?? a.id).localeCompare(b.title ?? b.id)).slice(0, limit);
}

/** The ids the LMS knows the launch's course by (its activities are stored under them). */
const courseIdsOf = async (ctx: Context, scope: CourseScope) =>
  knownCourseOf(scope) ??
  ctx.models.courses.findOne({ _id: scope.courseRef, platformId: scope.platformId }, { ids: 1 }).lean();

/**
 * The ids among `ids` that no source names for this course: not described by the LMS (deleted ones
 * count as known: rules naming them still read), never in an event of the course, and not a
 * gradebook column. `columns` is asked for only when the database does not know them all.
 */
export async function unknownActivityIds(
  ctx: Context,
  scope: CourseScope,
  ids: string[],
  columns: () => Promise<KnownActivity[]>,
): Promise<string[]> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0 || !scope.courseRef) return wanted;
  const course = await courseIdsOf(ctx, scope);
  const [lms, seen] = await Promise.all([
    course && course.ids.length
      ? ctx.models.lmsActivities
          .find(
            { platformId: scope.platformId, courseId: { $in: course.ids }, activityId: { $in: wanted } },
            { activityId: 1 },
          )
          .lean()
      : [],
    ctx.models.events.aggregate<{ _id: string }>([
      {
        $match: {
          platformId: scope.platformId,
          courseRef: scope.courseRef,
          'data.activityId': { $in: wanted },
        },
      },
      { $group: { _id: '$data.activityId' } },
    ]),
  ]);
  const known = new Set<string>([...lms.map((a) => a.activityId), ...seen.map((e) => e._id)]);
  let unknown = wanted.filter((id) => !known.has(id));
  if (unknown.length) {
    const fromGradebook = new Set((await columns()).map((c) => c.id));
    unknown = unknown.filter((id) => !fromGradebook.has(id));
  }
  return unknown;
}

/**
 * The course's activities with what a count of activities matches on: each one's name (the LMS's
 * feed first, else the latest an event gave) and the LMS's own kind, when known.
 */
export async function courseActivityCatalogue(
  ctx: Context,
  scope: CourseScope,
  limit = 500,
): Promise<{ id: string; name: string | null; kind: string | null; tags: string[] }[]> {
  if (!scope.courseRef) return [];
  const course = await courseIdsOf(ctx, scope);
  const [lms, seen] = await Promise.all([
    course && course.ids.length
      ? ctx.models.lmsActivities
          .find(
            { platformId: scope.platformId, courseId: { $in: course.ids }, state: { $ne: 'deleted' } },
            { activityId: 1, name: 1, kind: 1, tags: 1, instructorTags: 1 },
          )
          .limit(limit)
          .lean()
      : [],
    activitiesSeenInEvents(ctx, scope, limit),
  ]);
  const byId = new Map<string, { id: string; name: string | null; kind: string | null; tags: string[] }>();
  for (const a of lms)
    byId.set(a.activityId, { id: a.activityId, name: a.name ?? null, kind: a.kind ?? null, tags: tagsOf(a) });
  for (const a of seen)
    if (!byId.has(a.id)) byId.set(a.id, { id: a.id, name: a.title, kind: null, tags: [] });
  return [...byId.values()];
}
