import type { Types } from 'mongoose';
import type { CourseDoc } from '../db/models/course.js';
import type { Models } from '../db/models/index.js';
import type { PersonDoc } from '../db/models/person.js';
import { isDuplicateKey } from '../errors.js';

/**
 * Identity as launches and rosters see it: the LTI context and `sub`, plus the LMS's own course and
 * user ids, which events use. Whatever was seen first (an event's LMS id, a roster, a launch), the
 * later sighting joins the same document and adds its ids, so events and launches meet.
 */

const present = (v: string | null | undefined): v is string => typeof v === 'string' && v.trim() !== '';
const distinct = (values: (string | null | undefined)[]) => [...new Set(values.filter(present))];

export type CourseSighting = {
  contextId: string;
  lmsCourseId?: string | null;
  title?: string | null;
  label?: string | null;
  /** The course's end date the LMS gave (null: it has none); undefined when the launch did not say. */
  endsAt?: Date | null;
};

/** The course of a launch, found by its context id or LMS course id (events may have made it), else created. */
export async function upsertLaunchCourse(
  models: Models,
  platformId: Types.ObjectId,
  sighting: CourseSighting,
): Promise<CourseDoc> {
  const ids = distinct([sighting.contextId, sighting.lmsCourseId]);
  const set: Record<string, unknown> = { contextId: sighting.contextId };
  if (present(sighting.lmsCourseId)) set.lmsCourseId = sighting.lmsCourseId;
  if (present(sighting.title)) set.title = sighting.title;
  if (present(sighting.label)) set.label = sighting.label;
  if (sighting.endsAt !== undefined) set.lmsEndsAt = sighting.endsAt;
  // Every launch but a course's first: the course holding this context id is the one the search
  // below would choose first, so it is updated straight away (one round trip instead of two).
  const known = await models.courses
    .findOneAndUpdate(
      { platformId, ids: sighting.contextId, contextId: sighting.contextId },
      { $set: set, $addToSet: { ids: { $each: ids } } },
      { returnDocument: 'after' },
    )
    .lean<CourseDoc>();
  if (known) return known;
  for (let attempt = 0; attempt < 3; attempt++) {
    const found = await models.courses
      .find({ platformId, ids: { $in: ids } })
      .limit(5)
      .lean<CourseDoc[]>();
    const target =
      found.find((c) => c.contextId === sighting.contextId) ??
      found.find((c) => present(sighting.lmsCourseId) && c.ids.includes(sighting.lmsCourseId)) ??
      found[0];
    if (target) {
      const updated = await models.courses
        .findOneAndUpdate(
          { _id: target._id },
          { $set: set, $addToSet: { ids: { $each: ids } } },
          { returnDocument: 'after' },
        )
        .lean<CourseDoc>();
      if (updated) return updated;
      continue;
    }
    try {
      const created = await models.courses.create({
        platformId,
        ids,
        ...set,
        // The same key an event naming the LMS course id would use, so a concurrent event and launch meet.
        createKey: `${platformId}:${present(sighting.lmsCourseId) ? sighting.lmsCourseId : sighting.contextId}`,
      });
      return created.toObject();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
  throw new Error(`course ${sighting.contextId} of platform ${platformId} could not be stored`);
}

export type PersonSighting = {
  /** The LTI `sub`; absent when only an LMS id is known. */
  sub?: string | null;
  /** The LMS's own user id (Canvas `$Canvas.user.id`, Moodle `$User.id`). */
  lmsUserId?: string | null;
  /** Further ids events may use for this person (e.g. a Canvas global user id). */
  otherIds?: (string | null | undefined)[];
  name?: string | null;
  email?: string | null;
  /** The person's context roles in one course, stored under that course's document id. */
  course?: { ref: Types.ObjectId; roles: string[] } | null;
};

/**
 * The person of a launch or roster entry, joined with whoever already holds one of their ids, or
 * (failing that) the one person of the platform with their e-mail and no other `sub`; else created.
 */
export async function upsertPerson(
  models: Models,
  platformId: Types.ObjectId,
  sighting: PersonSighting,
): Promise<PersonDoc> {
  const ids = distinct([sighting.sub, sighting.lmsUserId, ...(sighting.otherIds ?? [])]);
  if (ids.length === 0) throw new Error(`a person of platform ${platformId} needs a sub or an LMS user id`);
  const email = present(sighting.email) ? sighting.email.trim().toLowerCase() : null;
  const set: Record<string, unknown> = {};
  if (present(sighting.sub)) set.sub = sighting.sub;
  if (present(sighting.lmsUserId)) set.lmsUserId = sighting.lmsUserId;
  if (present(sighting.name)) set.name = sighting.name.trim();
  if (email) set.email = email;
  if (sighting.course) set[`roles.${String(sighting.course.ref)}`] = sighting.course.roles;

  // A person seen before under this `sub` (every launch but their first): the one the search below
  // would choose first, updated straight away (one round trip instead of two).
  if (present(sighting.sub)) {
    const known = await models.people
      .findOneAndUpdate(
        { platformId, ids: sighting.sub },
        { $set: set, $addToSet: { ids: { $each: ids } } },
        { returnDocument: 'after' },
      )
      .lean<PersonDoc>();
    if (known) return known;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const found = await models.people
      .find({ platformId, ids: { $in: ids } })
      .limit(5)
      .lean<PersonDoc[]>();
    let target =
      (present(sighting.sub) ? found.find((p) => p.ids.includes(sighting.sub!)) : undefined) ??
      (present(sighting.lmsUserId) ? found.find((p) => p.ids.includes(sighting.lmsUserId!)) : undefined) ??
      found[0];
    if (!target && email) {
      const byEmail = await models.people.find({ platformId, email }).limit(2).lean<PersonDoc[]>();
      const only = byEmail.length === 1 ? byEmail[0] : undefined;
      // A different `sub` is a different LMS account that happens to share the address.
      if (only && (!only.sub || !present(sighting.sub) || only.sub === sighting.sub)) target = only;
    }
    if (target) {
      const updated = await models.people
        .findOneAndUpdate(
          { _id: target._id },
          { $set: set, $addToSet: { ids: { $each: ids } } },
          { returnDocument: 'after' },
        )
        .lean<PersonDoc>();
      if (updated) return updated;
      continue;
    }
    try {
      const created = await models.people.create({
        platformId,
        ids,
        sub: sighting.sub ?? null,
        lmsUserId: sighting.lmsUserId ?? null,
        name: present(sighting.name) ? sighting.name.trim() : null,
        email,
        roles: sighting.course ? { [String(sighting.course.ref)]: sighting.course.roles } : {},
        // Keyed like resolvePerson keys an event's user, so a concurrent event and launch meet.
        createKey: `${platformId}:${present(sighting.lmsUserId) ? sighting.lmsUserId : ids[0]}`,
      });
      return created.toObject();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
  throw new Error(`person ${ids[0]} of platform ${platformId} could not be stored`);
}

/** Both at once, for a launch: the course (when the launch has a context) and the person with their roles there. */
export async function upsertLaunchIdentity(
  models: Models,
  platformId: Types.ObjectId,
  launch: { course: CourseSighting | null; person: Omit<PersonSighting, 'course'> & { roles: string[] } },
): Promise<{ course: CourseDoc | null; person: PersonDoc }> {
  const course = launch.course ? await upsertLaunchCourse(models, platformId, launch.course) : null;
  const { roles, ...person } = launch.person;
  const stored = await upsertPerson(models, platformId, {
    ...person,
    course: course ? { ref: course._id, roles } : null,
  });
  return { course, person: stored };
}
