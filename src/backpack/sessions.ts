import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { BackpackSessionDoc } from '../db/models/backpackSession.js';
import type { PersonDoc } from '../db/models/person.js';
import { hashToken, looksLikeToken, newToken } from './tokens.js';

/** A backpack session lasts this long from its sign-in; then the learner signs in again. */
export const SESSION_DAYS = 30;

export type PersonRef = { platformId: Types.ObjectId; personId: Types.ObjectId };

/** Opens a session for these people; answers the token for the cookie (only its hash is stored). */
export async function openSession(
  ctx: Context,
  input: { people: PersonRef[]; email: string | null; via: BackpackSessionDoc['via'] },
): Promise<string> {
  const token = newToken();
  const now = ctx.now();
  await ctx.models.backpackSessions.create({
    _id: hashToken(token),
    people: input.people,
    email: input.email,
    via: input.via,
    createdAt: now,
    expiresAt: new Date(now.getTime() + SESSION_DAYS * 86_400_000),
  });
  return token;
}

/** The live session of a cookie's token, or null (unknown, malformed or expired). */
export async function findSession(ctx: Context, token: unknown): Promise<BackpackSessionDoc | null> {
  if (!looksLikeToken(token)) return null;
  const session = await ctx.models.backpackSessions
    .findOne({ _id: hashToken(token), expiresAt: { $gt: ctx.now() } })
    .lean<BackpackSessionDoc>();
  return session ?? null;
}

export async function closeSession(ctx: Context, token: unknown): Promise<void> {
  if (looksLikeToken(token)) await ctx.models.backpackSessions.deleteOne({ _id: hashToken(token) });
}

/**
 * Every person known by this address, on every platform (the LMSs give their people's addresses;
 * an address proved by an e-mailed link links them). Queried per platform, so the (platform, email)
 * index answers it.
 */
export async function peopleWithEmail(ctx: Context, email: string): Promise<PersonRef[]> {
  const platforms = await ctx.models.platforms.find({}, { _id: 1 }).limit(10_000).lean();
  if (platforms.length === 0) return [];
  const people = await ctx.models.people
    .find({ platformId: { $in: platforms.map((p) => p._id) }, email: email.toLowerCase() }, { platformId: 1 })
    .limit(100)
    .lean<Pick<PersonDoc, '_id' | 'platformId'>[]>();
  return people.map((p) => ({ platformId: p.platformId, personId: p._id }));
}

/** A query filter matching documents of the session's people (`personField` names the person). */
export function ofPeople(people: PersonRef[], personField = 'personId'): Record<string, unknown> {
  if (people.length === 0) return { _id: { $in: [] } };
  return { $or: people.map((p) => ({ platformId: p.platformId, [personField]: p.personId })) };
}
