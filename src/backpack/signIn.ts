import type { Context } from '../context.js';
import { isDuplicateKey } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import { signInMail } from '../mail/messages.js';
import { openSession, peopleWithEmail } from './sessions.js';
import { hashToken, looksLikeToken, newToken } from './tokens.js';

/**
 * Sign-in outside the LMS by a one-time link sent by e-mail: the link works once, within
 * LINK_MINUTES; an address gets at most MAILS_PER_WINDOW links per window; and whoever asks gets the
 * same answer whether or not the address is known (the caller answers before this finishes).
 */
export const LINK_MINUTES = 15;
export const MAILS_PER_WINDOW = 3;
const WINDOW_MS = LINK_MINUTES * 60_000;

export const SIGN_IN_PATH = '/backpack/sign-in';

/** Counts one request for this address in the current window; true while under the budget. */
async function withinBudget(ctx: Context, email: string): Promise<boolean> {
  const now = ctx.now().getTime();
  const start = now - (now % WINDOW_MS);
  const key = `sign-in-mail:${hashToken(email)}:${start}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const doc = await ctx.models.rateWindows
        .findOneAndUpdate(
          { _id: key },
          { $inc: { count: 1 }, $setOnInsert: { expiresAt: new Date(start + WINDOW_MS) } },
          { upsert: true, returnDocument: 'after' },
        )
        .lean();
      return (doc?.count ?? 1) <= MAILS_PER_WINDOW;
    } catch (err) {
      if (!isDuplicateKey(err) || attempt > 0) throw err;
    }
  }
}

export type SignInRequestOutcome = 'sent' | 'unknown' | 'over-budget' | 'no-mail';

/** Sends a sign-in link to a known address (within its budget); what happened is for logs and tests only. */
export async function requestSignIn(
  ctx: Context,
  mailer: Mailer | null,
  email: string,
): Promise<SignInRequestOutcome> {
  if (!mailer) return 'no-mail';
  const address = email.trim().toLowerCase();
  if (!(await withinBudget(ctx, address))) return 'over-budget';
  const people = await peopleWithEmail(ctx, address);
  if (people.length === 0) return 'unknown';
  const token = newToken();
  const now = ctx.now();
  await ctx.models.signInLinks.create({
    _id: hashToken(token),
    email: address,
    createdAt: now,
    expiresAt: new Date(now.getTime() + LINK_MINUTES * 60_000),
    usedAt: null,
  });
  await mailer.send(signInMail(address, `${ctx.config.publicUrl}${SIGN_IN_PATH}/${token}`, LINK_MINUTES));
  return 'sent';
}

/**
 * Uses a sign-in link: one atomic update marks it used, so two clicks cannot both sign in. Answers
 * the new session's token, or null for a link that is unknown, used or expired.
 */
export async function consumeSignIn(ctx: Context, token: unknown): Promise<string | null> {
  if (!looksLikeToken(token)) return null;
  const now = ctx.now();
  const link = await ctx.models.signInLinks
    .findOneAndUpdate(
      { _id: hashToken(token), usedAt: null, expiresAt: { $gt: now } },
      { $set: { usedAt: now } },
      { returnDocument: 'after' },
    )
    .lean();
  if (!link) return null;
  const people = await peopleWithEmail(ctx, link.email);
  return openSession(ctx, { people, email: link.email, via: 'email' });
}
