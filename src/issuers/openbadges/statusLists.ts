import { randomInt } from 'node:crypto';
import { createCredential, createList } from '@digitalbazaar/vc-bitstring-status-list';
import type { Types } from 'mongoose';
import type { Context } from '../../context.js';
import { isDuplicateKey } from '../../errors.js';
import { JOBS } from '../../jobs/names.js';
import type { CredentialDoc } from '../../db/models/credential.js';
import type { IssuerProfileDoc } from '../../db/models/issuerProfile.js';
import type { StatusListDoc } from '../../db/models/statusList.js';
import { isoSeconds } from './build.js';
import type { DocumentLoader } from './documentLoader.js';
import { issuerSummary, signingKeyOf } from './issuerProfiles.js';
import { signCredential } from './sign.js';
import { openBadgeUrls } from './urls.js';

export const UPDATE_STATUS_LIST_JOB = JOBS.updateStatusList;

/** 131,072 entries (16 KiB): the minimum the Bitstring Status List spec sets, for herd privacy. */
export const STATUS_LIST_LENGTH = 131_072;

/** The bit that slot n of a list maps to: an affine permutation (odd multiplier, length a power of two). */
export function slotToIndex(
  list: Pick<StatusListDoc, 'multiplier' | 'offset' | 'length'>,
  slot: number,
): number {
  return Number((BigInt(list.multiplier) * BigInt(slot) + BigInt(list.offset)) % BigInt(list.length));
}

/**
 * Reserves one entry on the issuer's current revocation list, opening (and signing) a new list
 * when the current one is full. The slot counter moves with `$inc`, so concurrent callers never
 * get the same entry.
 */
export async function allocateStatusEntry(
  ctx: Context,
  profile: IssuerProfileDoc,
  documentLoader: DocumentLoader,
): Promise<{ list: StatusListDoc; index: number }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = await ctx.models.statusLists
      .findOneAndUpdate(
        {
          issuerProfileId: profile._id,
          purpose: 'revocation',
          $expr: { $lt: ['$nextSlot', '$length'] },
          signed: { $ne: null },
        },
        { $inc: { nextSlot: 1 } },
        { sort: { sequence: -1 }, returnDocument: 'before' },
      )
      .lean<StatusListDoc>();
    if (before) return { list: before, index: slotToIndex(before, before.nextSlot) };
    await openStatusList(ctx, profile, documentLoader);
  }
  throw new Error(`No status list entry could be reserved for issuer ${profile._id}`);
}

/**
 * Reserves `count` consecutive slots of the issuer's current list with one `$inc` (a batch of
 * credentials signed together); where the current list has less room, the rest one at a time.
 */
export async function allocateStatusEntries(
  ctx: Context,
  profile: IssuerProfileDoc,
  documentLoader: DocumentLoader,
  count: number,
): Promise<{ list: StatusListDoc; index: number }[]> {
  const out: { list: StatusListDoc; index: number }[] = [];
  for (let attempt = 0; out.length < count && attempt < count; attempt++) {
    const want = count - out.length;
    const before =
      want > 1
        ? await ctx.models.statusLists
            .findOneAndUpdate(
              {
                issuerProfileId: profile._id,
                purpose: 'revocation',
                $expr: { $lte: [{ $add: ['$nextSlot', want] }, '$length'] },
                signed: { $ne: null },
              },
              { $inc: { nextSlot: want } },
              { sort: { sequence: -1 }, returnDocument: 'before' },
            )
            .lean<StatusListDoc>()
        : null;
    if (before) {
      for (let k = 0; k < want; k++)
        out.push({ list: before, index: slotToIndex(before, before.nextSlot + k) });
      break;
    }
    // No list with room for all of them: one entry the careful way (it opens the next list), then again.
    out.push(await allocateStatusEntry(ctx, profile, documentLoader));
  }
  return out;
}

async function openStatusList(ctx: Context, profile: IssuerProfileDoc, documentLoader: DocumentLoader) {
  const last = await ctx.models.statusLists
    .findOne({ issuerProfileId: profile._id, purpose: 'revocation' })
    .sort({ sequence: -1 })
    .lean<StatusListDoc>();
  if (last && (last.nextSlot < last.length || !last.signed)) {
    // Not full: another worker opened it and has not signed it yet, or it has room after all.
    if (!last.signed) await refreshStatusList(ctx, last._id, documentLoader);
    return;
  }
  try {
    const created = await ctx.models.statusLists.create({
      issuerProfileId: profile._id,
      platformId: profile.platformId,
      purpose: 'revocation',
      sequence: (last?.sequence ?? 0) + 1,
      length: STATUS_LIST_LENGTH,
      nextSlot: 0,
      multiplier: 2 * randomInt(STATUS_LIST_LENGTH / 2) + 1,
      offset: randomInt(STATUS_LIST_LENGTH),
      revision: 0,
      signedRevision: -1,
      signed: null,
    });
    await refreshStatusList(ctx, created._id, documentLoader);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/**
 * Rebuilds a list's bits from its revoked credentials and publishes them signed. The revision is
 * read before the credentials, and the write only lands if no newer build did: a revocation that
 * happens meanwhile bumps the revision and queues another run, so no bit is ever lost.
 */
export async function refreshStatusList(
  ctx: Context,
  listId: Types.ObjectId,
  documentLoader: DocumentLoader,
): Promise<{ changed: boolean; revoked: number }> {
  const list = await ctx.models.statusLists.findById(listId).lean<StatusListDoc>();
  if (!list) throw new Error(`Status list ${listId} does not exist`);
  if (list.signed && list.signedRevision >= list.revision) return { changed: false, revoked: 0 };
  const profile = await ctx.models.issuerProfiles.findById(list.issuerProfileId).lean<IssuerProfileDoc>();
  if (!profile) throw new Error(`The issuer of status list ${listId} does not exist`);
  const revoked = await ctx.models.credentials
    .find({ statusListId: list._id, status: 'revoked' }, { statusListIndex: 1 })
    .lean<Pick<CredentialDoc, 'statusListIndex'>[]>();
  const bits = await createList({ length: list.length });
  for (const c of revoked) if (typeof c.statusListIndex === 'number') bits.setStatus(c.statusListIndex, true);

  const urls = openBadgeUrls(ctx.config.publicUrl);
  const unsigned = await createCredential({
    id: urls.statusList(list._id),
    list: bits,
    statusPurpose: 'revocation',
  });
  const issuer = issuerSummary(ctx, profile);
  const credential = {
    ...unsigned,
    name: `Revocation list ${list.sequence} of ${issuer.name}`,
    issuer: issuer.id,
    validFrom: isoSeconds(ctx.now()),
  };
  const signed = await signCredential({ credential, key: await signingKeyOf(ctx, profile), documentLoader });
  const written = await ctx.models.statusLists.updateOne(
    { _id: list._id, signedRevision: { $lt: list.revision } },
    { $set: { signed, signedRevision: list.revision } },
  );
  return { changed: written.modifiedCount === 1, revoked: revoked.length };
}

/**
 * Marks a credential's list for a rebuild (revision past signedRevision). A revocation calls this
 * before it changes the credential: a crash between the two leaves a list rebuilt for nothing,
 * never a revoked credential on a list that does not know it. A credential without an entry
 * needs nothing.
 */
export async function markStatusListStale(
  ctx: Context,
  credential: Pick<CredentialDoc, 'statusListId'>,
): Promise<void> {
  if (!credential.statusListId) return;
  await ctx.models.statusLists.updateOne({ _id: credential.statusListId }, { $inc: { revision: 1 } });
}

/** Queues the job that re-signs a list; at most one waits per list. */
export async function queueStatusListRefresh(
  ctx: Context,
  credential: Pick<CredentialDoc, 'statusListId'>,
): Promise<void> {
  if (!credential.statusListId) return;
  const statusListId = String(credential.statusListId);
  await ctx.jobs.agenda
    .create(UPDATE_STATUS_LIST_JOB, { statusListId })
    .unique({ 'data.statusListId': statusListId, lockedAt: null }, { insertOnly: true })
    .schedule(ctx.now())
    .save();
}

/** Marks the list stale and queues its rebuild (a revocation whose order is already safe). */
export async function queueStatusListUpdate(
  ctx: Context,
  credential: Pick<CredentialDoc, 'statusListId'>,
): Promise<void> {
  await markStatusListStale(ctx, credential);
  await queueStatusListRefresh(ctx, credential);
}

/**
 * The recovery sweep's half for revocations: every list whose revision is past its signed one
 * (a crash after the revocation, before or during the rebuild) is rebuilt now.
 */
export async function refreshStaleStatusLists(ctx: Context, documentLoader: DocumentLoader): Promise<number> {
  const stale = await ctx.models.statusLists
    .find({ $expr: { $gt: ['$revision', '$signedRevision'] } }, { _id: 1 })
    .limit(100)
    .lean();
  let refreshed = 0;
  for (const list of stale) if ((await refreshStatusList(ctx, list._id, documentLoader)).changed) refreshed++;
  return refreshed;
}
