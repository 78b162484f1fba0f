import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { LearnerRecordShareDoc } from '../db/models/learnerRecordShare.js';
import type { PersonDoc } from '../db/models/person.js';
import { DomainError, InvalidInputError, isDuplicateKey, NotFoundError } from '../errors.js';
import type { PersonRef } from '../backpack/sessions.js';
import { MAX_RECORD_CREDENTIALS, recordCredentials } from './learnerRecord.js';

/**
 * What a learner shows of their learner record in public: the badges they chose, minus any they
 * have since hidden, revoked or let expire (decided when the page is read, not when the choice
 * was saved), behind a link they can withdraw.
 */

/** The share link was withdrawn by its owner: gone for good. */
export class WithdrawnRecordError extends DomainError {
  constructor() {
    super(410, 'gone', 'Its owner no longer shares this learner record.');
  }
}

export const SHARE_ID = /^[A-Za-z0-9_-]{22}$/;

/** The owner's share document, made (unshared, nothing chosen) on first use. */
async function ensureShare(ctx: Context, owner: PersonRef): Promise<void> {
  try {
    await ctx.models.learnerRecordShares.updateOne(
      { platformId: owner.platformId, personId: owner.personId },
      { $setOnInsert: { credentialIds: [], shareId: null, withdrawnShareIds: [], updatedAt: ctx.now() } },
      { upsert: true },
    );
  } catch (err) {
    // Two first uses at once: the other one made it.
    if (!isDuplicateKey(err)) throw err;
  }
}

export function findOwnShare(ctx: Context, owner: PersonRef) {
  return ctx.models.learnerRecordShares
    .findOne({ platformId: owner.platformId, personId: owner.personId })
    .lean<LearnerRecordShareDoc>();
}

/** Saves which credentials the public record includes; only the owner's issued ones are kept. */
export async function chooseIncluded(
  ctx: Context,
  owner: PersonRef,
  ids: readonly string[],
): Promise<Types.ObjectId[]> {
  const bad = ids.find((id) => !/^[0-9a-f]{24}$/.test(id));
  if (bad !== undefined)
    throw new InvalidInputError('Choose badges from the list.', [
      { path: 'include', message: `${bad.slice(0, 40)} is not one of your badges` },
    ]);
  if (ids.length > MAX_RECORD_CREDENTIALS)
    throw new InvalidInputError(`A record shows at most ${MAX_RECORD_CREDENTIALS} badges.`, [
      { path: 'include', message: `at most ${MAX_RECORD_CREDENTIALS}` },
    ]);
  const owned = await recordCredentials(
    ctx,
    { _id: owner.personId, platformId: owner.platformId },
    ids.map((id) => new Types.ObjectId(id)),
  );
  if (owned.length !== new Set(ids).size)
    throw new InvalidInputError('Choose badges from the list: one of them is not an issued badge of yours.', [
      { path: 'include', message: 'names a badge that is not one of your issued badges' },
    ]);
  const chosen = owned.map((c) => c._id);
  await ensureShare(ctx, owner);
  await ctx.models.learnerRecordShares.updateOne(
    { platformId: owner.platformId, personId: owner.personId },
    { $set: { credentialIds: chosen, updatedAt: ctx.now() } },
  );
  return chosen;
}

/** Gives the record a share link (the one it has, or a new one). */
export async function shareRecord(ctx: Context, owner: PersonRef): Promise<string> {
  await ensureShare(ctx, owner);
  // Only where none is yet: two clicks at once share one link.
  await ctx.models.learnerRecordShares.updateOne(
    { platformId: owner.platformId, personId: owner.personId, shareId: null },
    { $set: { shareId: randomBytes(16).toString('base64url'), updatedAt: ctx.now() } },
  );
  const shared = await findOwnShare(ctx, owner);
  if (!shared?.shareId) throw new Error(`The learner record of person ${owner.personId} could not be shared`);
  return shared.shareId;
}

/** Withdraws the share link: it answers 410 from now on. */
export async function withdrawRecord(ctx: Context, owner: PersonRef): Promise<void> {
  const current = await findOwnShare(ctx, owner);
  if (!current?.shareId) return;
  await ctx.models.learnerRecordShares.updateOne(
    { _id: current._id, shareId: current.shareId },
    {
      $set: {
        shareId: null,
        withdrawnShareIds: [...current.withdrawnShareIds, current.shareId],
        updatedAt: ctx.now(),
      },
    },
  );
}

/** The shared record of a link: 404 for an unknown link, 410 for a withdrawn one. */
export async function sharedRecord(ctx: Context, shareId: string): Promise<LearnerRecordShareDoc> {
  if (!SHARE_ID.test(shareId)) throw new NotFoundError('Learner record');
  const share = await ctx.models.learnerRecordShares.findOne({ shareId }).lean<LearnerRecordShareDoc>();
  if (share) return share;
  if (await ctx.models.learnerRecordShares.exists({ withdrawnShareIds: shareId }))
    throw new WithdrawnRecordError();
  throw new NotFoundError('Learner record');
}

/**
 * The credentials a shared record shows now: chosen, still issued, and not hidden by their holder
 * (a badge hidden after it was chosen disappears from the record at once).
 */
export async function visibleChosen(ctx: Context, share: LearnerRecordShareDoc): Promise<CredentialDoc[]> {
  if (share.credentialIds.length === 0) return [];
  const owner = { _id: share.personId, platformId: share.platformId } as Pick<
    PersonDoc,
    '_id' | 'platformId'
  >;
  const [credentials, hidden] = await Promise.all([
    recordCredentials(ctx, owner, share.credentialIds),
    ctx.models.badgeSharings
      .find({ _id: { $in: share.credentialIds }, visibility: 'hidden' }, { _id: 1 })
      .lean<{ _id: Types.ObjectId }[]>(),
  ]);
  const hiddenIds = new Set(hidden.map((h) => String(h._id)));
  return credentials.filter((c) => !hiddenIds.has(String(c._id)));
}
