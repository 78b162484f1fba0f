import { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import type { IssuerProfileDoc } from '../db/models/issuerProfile.js';
import type { LearnerNoticeDoc } from '../db/models/learnerNotice.js';
import type { PersonDoc } from '../db/models/person.js';
import type { TemplateDoc } from '../db/models/template.js';
import { isDuplicateKey } from '../errors.js';
import type { Mailer } from './mailer.js';
import { awardMail, revocationMail } from './messages.js';
import { unsubscribeUrl } from './unsubscribe.js';

/**
 * The learner's notices of awards and revocations, sent by a recurring job that reads the
 * credentials after a cursor (an outbox read from the side): the award and issuing paths write
 * nothing for it. Each notice is claimed once by its unique id (`award:<credential>`), with a lease;
 * a crash while sending leaves the lease to run out and the notice is sent again (at least once).
 * A first run starts one day back, so turning SMTP_URL on later does not mail old awards.
 */
const BATCH = 200;
const LEASE_MS = 5 * 60_000;
const MAX_ATTEMPTS = 8;
const START_BACK_MS = 86_400_000;
/** An award still being issued after this long no longer holds the cursor back (it gets no notice). */
const WAIT_FOR_ISSUING_MS = 86_400_000;

export type NoticeRun = { claimed: number; sent: number; skipped: number; failed: number };

async function cursorOf(ctx: Context, kind: 'award' | 'revocation') {
  const start = new Date(ctx.now().getTime() - START_BACK_MS);
  const doc = await ctx.models.noticeCursors
    .findOneAndUpdate(
      { _id: kind },
      { $setOnInsert: { afterId: Types.ObjectId.createFromTime(start.getTime() / 1000), afterAt: start } },
      { upsert: true, returnDocument: 'after' },
    )
    .lean();
  return doc!;
}

async function claim(ctx: Context, kind: 'award' | 'revocation', c: CredentialDoc): Promise<boolean> {
  const now = ctx.now();
  try {
    await ctx.models.learnerNotices.create({
      _id: `${kind}:${String(c._id)}`,
      kind,
      credentialId: c._id,
      platformId: c.platformId,
      personId: c.personId,
      state: 'sending',
      leaseUntil: new Date(now.getTime() + LEASE_MS),
      createdAt: now,
    });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

const PROJECTION = { signed: 0, evidence: 0 } as const;

/** Claims notices for new awards (issued credentials after the cursor), moving the cursor over them. */
async function claimAwards(ctx: Context): Promise<string[]> {
  const cursor = await cursorOf(ctx, 'award');
  const credentials = await ctx.models.credentials
    .find({ _id: { $gt: cursor.afterId } }, PROJECTION)
    .sort({ _id: 1 })
    .limit(BATCH)
    .lean<CredentialDoc[]>();
  const claimed: string[] = [];
  let last: Types.ObjectId | null = null;
  const now = ctx.now().getTime();
  for (const c of credentials) {
    // Not issued yet: wait for it (a notice names a badge that can be opened), unless it is stuck.
    if (c.status === 'awarded' && now - c.awardedAt.getTime() < WAIT_FOR_ISSUING_MS) break;
    if (c.status === 'issued' && (await claim(ctx, 'award', c))) claimed.push(`award:${String(c._id)}`);
    last = c._id;
  }
  if (last) await ctx.models.noticeCursors.updateOne({ _id: 'award' }, { $set: { afterId: last } });
  return claimed;
}

/** Claims notices for revocations after the cursor (by revocation time). */
async function claimRevocations(ctx: Context): Promise<string[]> {
  const cursor = await cursorOf(ctx, 'revocation');
  const credentials = await ctx.models.credentials
    .find({ status: 'revoked', revokedAt: { $gte: cursor.afterAt } }, PROJECTION)
    .sort({ revokedAt: 1 })
    .limit(BATCH)
    .lean<CredentialDoc[]>();
  const claimed: string[] = [];
  let last: Date | null = null;
  for (const c of credentials) {
    if (await claim(ctx, 'revocation', c)) claimed.push(`revocation:${String(c._id)}`);
    last = c.revokedAt;
  }
  if (last) await ctx.models.noticeCursors.updateOne({ _id: 'revocation' }, { $set: { afterAt: last } });
  return claimed;
}

/** Notices whose lease ran out (a crash while sending, or a failed attempt waiting to retry). */
async function reclaimStale(ctx: Context): Promise<string[]> {
  const now = ctx.now();
  const stale = await ctx.models.learnerNotices
    .find({ state: 'sending', leaseUntil: { $lt: now } }, { _id: 1, leaseUntil: 1 })
    .limit(BATCH)
    .lean<Pick<LearnerNoticeDoc, '_id' | 'leaseUntil'>[]>();
  const taken: string[] = [];
  for (const n of stale) {
    const ok = await ctx.models.learnerNotices.updateOne(
      { _id: n._id, state: 'sending', leaseUntil: n.leaseUntil },
      { $set: { leaseUntil: new Date(now.getTime() + LEASE_MS) } },
    );
    if (ok.modifiedCount === 1) taken.push(n._id);
  }
  return taken;
}

async function deliver(ctx: Context, mailer: Mailer, id: string): Promise<'sent' | 'skipped'> {
  const notice = await ctx.models.learnerNotices.findById(id).lean<LearnerNoticeDoc>();
  if (!notice || notice.state !== 'sending') return 'skipped';
  const skip = async (why: string) => {
    await ctx.models.learnerNotices.updateOne(
      { _id: id },
      { $set: { state: 'skipped', leaseUntil: null, error: why } },
    );
    return 'skipped' as const;
  };
  const [credential, person] = await Promise.all([
    ctx.models.credentials.findById(notice.credentialId, PROJECTION).lean<CredentialDoc>(),
    ctx.models.people.findById(notice.personId, { email: 1, name: 1 }).lean<PersonDoc>(),
  ]);
  if (!credential || !person) return skip('the credential or the person is gone');
  const email = person.email;
  if (!email) return skip('the learner has no e-mail address');
  if (await ctx.models.mailOptOuts.exists({ _id: email })) return skip('the address unsubscribed');
  const [template, issuer, earlier] = await Promise.all([
    ctx.models.templates.findById(credential.templateId, { name: 1 }).lean<TemplateDoc>(),
    credential.issuerProfileId
      ? ctx.models.issuerProfiles.findById(credential.issuerProfileId, { name: 1 }).lean<IssuerProfileDoc>()
      : ctx.models.issuerProfiles
          .findOne({ platformId: credential.platformId }, { name: 1 })
          .lean<IssuerProfileDoc>(),
    ctx.models.learnerNotices.exists({
      platformId: notice.platformId,
      personId: notice.personId,
      kind: 'award',
      state: 'sent',
    }),
  ]);
  const base = ctx.config.publicUrl;
  const common = {
    to: email,
    learnerName: person.name ?? null,
    badgeName: template?.name ?? 'your badge',
    issuerName: issuer?.name ?? 'Your school',
    backpackUrl: `${base}/backpack`,
    unsubscribeUrl: unsubscribeUrl(ctx.config, email),
  };
  const mail =
    notice.kind === 'award'
      ? awardMail({
          ...common,
          badgeUrl: `${base}/backpack/badges/${String(credential._id)}`,
          first: !earlier,
        })
      : revocationMail({ ...common, reason: credential.revokedReason });
  await mailer.send(mail);
  await ctx.models.learnerNotices.updateOne(
    { _id: id },
    { $set: { state: 'sent', leaseUntil: null, sentAt: ctx.now(), error: null } },
  );
  return 'sent';
}

/** One run of the notice job: claim what is new, then send every claimed notice. */
export async function sendLearnerNotices(ctx: Context, mailer: Mailer | null): Promise<NoticeRun> {
  const run: NoticeRun = { claimed: 0, sent: 0, skipped: 0, failed: 0 };
  if (!mailer) return run;
  const ids = [...(await reclaimStale(ctx)), ...(await claimAwards(ctx)), ...(await claimRevocations(ctx))];
  run.claimed = ids.length;
  for (const id of ids) {
    try {
      run[await deliver(ctx, mailer, id)]++;
    } catch (err) {
      run.failed++;
      const notice = await ctx.models.learnerNotices.findById(id, { attempts: 1 }).lean();
      const attempts = (notice?.attempts ?? 0) + 1;
      const message = `sending failed: ${(err as Error).message}`;
      ctx.logger.warn(
        { notice: id, attempts, err: (err as Error).message },
        'a learner notice could not be sent',
      );
      // Backs off (1, 2, 4 … minutes) through its lease; gives up after MAX_ATTEMPTS.
      await ctx.models.learnerNotices.updateOne(
        { _id: id },
        attempts >= MAX_ATTEMPTS
          ? { $set: { state: 'skipped', leaseUntil: null, attempts, error: message } }
          : {
              $set: {
                attempts,
                error: message,
                leaseUntil: new Date(ctx.now().getTime() + 60_000 * 2 ** (attempts - 1)),
              },
            },
      );
    }
  }
  return run;
}
