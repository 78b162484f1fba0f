import type { Types } from 'mongoose';
import type { Models } from '../db/models/index.js';
import type { CourseDoc } from '../db/models/course.js';
import type { PersonDoc } from '../db/models/person.js';
import { isDuplicateKey } from '../errors.js';

/**
 * The course a platform calls `id` (its LTI context id or its own course id), created on first
 * sight. Concurrent first sightings create one document: the loser of the unique createKey
 * race reads the winner's.
 */
export async function resolveCourse(
  models: Models,
  platformId: Types.ObjectId,
  course: { id: string; title?: string | null },
): Promise<CourseDoc> {
  const found = await models.courses.findOne({ platformId, ids: course.id }).lean<CourseDoc>();
  if (found) return found;
  try {
    const created = await models.courses.create({
      platformId,
      ids: [course.id],
      title: course.title ?? null,
      createKey: `${platformId}:${course.id}`,
    });
    return created.toObject();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const winner = await models.courses.findOne({ platformId, ids: course.id }).lean<CourseDoc>();
    if (!winner) throw err;
    return winner;
  }
}

/** A person a platform calls `id` (LMS user id or LTI sub), created on first sight. */
export async function resolvePerson(
  models: Models,
  platformId: Types.ObjectId,
  user: { id: string; email?: string | null; name?: string | null },
): Promise<PersonDoc> {
  const email = user.email?.trim().toLowerCase() || null;
  const found = await models.people.findOne({ platformId, ids: user.id }).lean<PersonDoc>();
  if (found) {
    // Fill what was unknown; never overwrite what a launch (the authoritative source) said.
    const fill: Record<string, string> = {};
    if (!found.email && email) fill.email = email;
    if (!found.name && user.name) fill.name = user.name;
    if (Object.keys(fill).length) await models.people.updateOne({ _id: found._id }, { $set: fill });
    return { ...found, ...fill };
  }
  if (email) {
    // Someone known by e-mail (from a launch or the roster) is the same person under a new id.
    const byEmail = await models.people.find({ platformId, email }).limit(2).lean<PersonDoc[]>();
    if (byEmail.length === 1) {
      const joined = await models.people
        .findOneAndUpdate(
          { _id: byEmail[0]!._id },
          { $addToSet: { ids: user.id } },
          { returnDocument: 'after' },
        )
        .lean<PersonDoc>();
      if (joined) return joined;
    }
  }
  try {
    const created = await models.people.create({
      platformId,
      ids: [user.id],
      lmsUserId: user.id,
      email,
      name: user.name ?? null,
      createKey: `${platformId}:${user.id}`,
    });
    return created.toObject();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const winner = await models.people.findOne({ platformId, ids: user.id }).lean<PersonDoc>();
    if (!winner) throw err;
    return winner;
  }
}

/** A course by any of its ids, without creating it. */
export function findCourse(models: Models, platformId: Types.ObjectId, id: string) {
  return models.courses.findOne({ platformId, ids: id }).lean<CourseDoc>();
}

/** A person by any of their ids, without creating them. */
export function findPerson(models: Models, platformId: Types.ObjectId, id: string) {
  return models.people.findOne({ platformId, ids: id }).lean<PersonDoc>();
}

/** The document ids of everyone known by `userId` (any of their ids), on one platform or all. */
export async function personIdsFor(models: Models, userId: string, platformId?: Types.ObjectId) {
  const filter: Record<string, unknown> = { ids: userId };
  if (platformId) filter.platformId = platformId;
  return (await models.people.find(filter, { _id: 1 }).lean()).map((p) => p._id);
}
