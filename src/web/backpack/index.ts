import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Context } from '../../context.js';
import type { LtiDatabase } from '../../lti/database.js';
import { ltikOf, resolveLaunch } from '../../lti/session.js';
import type { Mailer } from '../../mail/mailer.js';
import { digestUnsubscribeId, unsubscribeAddress } from '../../mail/unsubscribe.js';
import { closeSession, openSession } from '../../backpack/sessions.js';
import { consumeSignIn, LINK_MINUTES, requestSignIn, SIGN_IN_PATH } from '../../backpack/signIn.js';
import { looksLikeToken } from '../../backpack/tokens.js';
import { rateLimit } from '../public/rateLimit.js';
import { badgePagesRouter } from './badges.js';
import { importsRouter } from './imports.js';
import { collectionsRouter } from './collections.js';
import { recordsRouter } from './records.js';
import { pathwayOutsideRouter } from '../pathways/outside.js';
import {
  BACKPACK,
  clearSessionCookie,
  cookieToken,
  formBody,
  optionalSession,
  requireBackpackCsrf,
  requireSession,
  setSessionCookie,
} from './session.js';

export type BackpackDeps = { ltiDb: LtiDatabase; mailer: Mailer | null };

const emailForm = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email()).pipe(z.string().max(254)),
});

/**
 * The learner's backpack under /backpack, outside the LMS. Signing in: from a course launch (the
 * course page's "My backpack" link opens /backpack/enter with the launch's ltik), or by a one-time
 * link e-mailed to an address an LMS gave for the learner. A session reaches the learner's record,
 * badges and sharing, never a course page. See docs/backpack.md.
 */
export function backpackRouter(ctx: Context, deps: BackpackDeps): Router {
  const router = Router();
  const session = requireSession(ctx);
  // Per client network: sign-in requests and link uses are cheap to send and costly to answer.
  const signInLimit = rateLimit(ctx, { bucket: 'sign-in', limit: 10, windowMs: 60_000 });
  const linkLimit = rateLimit(ctx, { bucket: 'sign-in-link', limit: 20, windowMs: 60_000 });
  const noStore = (_req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    next();
  };

  router.get(`${BACKPACK}/enter`, noStore, async (req, res) => {
    const { launch } = await resolveLaunch(ctx, deps.ltiDb, ltikOf(req));
    const person = await ctx.models.people.findById(launch.personId, { email: 1 }).lean();
    const token = await openSession(ctx, {
      people: [{ platformId: launch.platformId, personId: launch.personId }],
      email: person?.email ?? null,
      via: 'launch',
    });
    setSessionCookie(ctx, res, token);
    res.redirect(303, BACKPACK);
  });

  router.get(SIGN_IN_PATH, noStore, async (req, res) => {
    if (await optionalSession(ctx, req)) {
      res.redirect(303, BACKPACK);
      return;
    }
    res.render('backpack/sign-in', { title: 'Sign in to your backpack', mailEnabled: deps.mailer !== null });
  });

  router.post(SIGN_IN_PATH, noStore, signInLimit, formBody, (req, res) => {
    const parsed = emailForm.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).render('backpack/sign-in', {
        title: 'Sign in to your backpack',
        mailEnabled: deps.mailer !== null,
        error: 'Give your e-mail address, such as ada@example.edu.',
        email: typeof req.body?.email === 'string' ? req.body.email.slice(0, 254) : '',
      });
      return;
    }
    // Answered before the lookup and the mail, the same for a known and an unknown address.
    void requestSignIn(ctx, deps.mailer, parsed.data.email).then(
      (outcome) => req.log?.info({ outcome }, 'backpack sign-in link requested'),
      (err: unknown) => req.log?.warn({ err }, 'backpack sign-in link could not be sent'),
    );
    res.render('backpack/check-mail', { title: 'Check your e-mail', minutes: LINK_MINUTES });
  });

  // Opening the link shows a button: mail scanners that follow links must not use it up.
  router.get(`${SIGN_IN_PATH}/:token`, noStore, (req, res) => {
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.render('backpack/confirm-sign-in', {
      title: 'Sign in to your backpack',
      action: `${SIGN_IN_PATH}/${looksLikeToken(req.params.token) ? req.params.token : 'invalid'}`,
    });
  });

  router.post(`${SIGN_IN_PATH}/:token`, noStore, linkLimit, async (req, res) => {
    const token = await consumeSignIn(ctx, req.params.token);
    if (!token) {
      res
        .status(410)
        .render('backpack/link-refused', { title: 'This link no longer works', minutes: LINK_MINUTES });
      return;
    }
    setSessionCookie(ctx, res, token);
    res.redirect(303, BACKPACK);
  });

  router.post(`${BACKPACK}/sign-out`, session, formBody, requireBackpackCsrf, async (req, res) => {
    await closeSession(ctx, cookieToken(req));
    clearSessionCookie(ctx, res);
    res.redirect(303, SIGN_IN_PATH);
  });

  // Unsubscribing needs no session: the link's signature names the address (RFC 8058 one-click
  // unsubscribe posts to the same URL).
  router.get(`${BACKPACK}/unsubscribe`, noStore, async (req, res, next) => {
    if (req.query.d !== undefined) return next();
    const email = unsubscribeAddress(ctx.config, req.query.e, req.query.s);
    if (!email) {
      res.status(404).render('backpack/unsubscribe', { title: 'Unsubscribe', invalid: true });
      return;
    }
    const done = Boolean(await ctx.models.mailOptOuts.exists({ _id: email }));
    res.render('backpack/unsubscribe', { title: 'Unsubscribe', email, done, action: req.originalUrl });
  });
  router.post(`${BACKPACK}/unsubscribe`, noStore, linkLimit, formBody, async (req, res, next) => {
    if (req.query.d !== undefined) return next();
    const email = unsubscribeAddress(ctx.config, req.query.e, req.query.s);
    if (!email) {
      res.status(404).render('backpack/unsubscribe', { title: 'Unsubscribe', invalid: true });
      return;
    }
    await ctx.models.mailOptOuts.updateOne(
      { _id: email },
      { $setOnInsert: { at: ctx.now() } },
      { upsert: true },
    );
    res.render('backpack/unsubscribe', { title: 'Unsubscribe', email, done: true, justNow: true });
  });

  // An instructor's weekly digest of a course has its own link (`d`, the subscription): it stops
  // that digest only.
  const digestOf = async (req: Request) => {
    const id = digestUnsubscribeId(ctx.config, req.query.d, req.query.s);
    if (!id) return null;
    const sub = await ctx.models.digestSubscriptions.findById(id, { courseRef: 1, platformId: 1 }).lean();
    const course = sub
      ? await ctx.models.courses
          .findOne({ _id: sub.courseRef, platformId: sub.platformId }, { title: 1 })
          .lean()
      : null;
    return { id, active: Boolean(sub), courseTitle: course?.title ?? 'your course' };
  };
  router.get(`${BACKPACK}/unsubscribe`, noStore, async (req, res) => {
    const digest = await digestOf(req);
    if (!digest) {
      res.status(404).render('backpack/unsubscribe', { title: 'Unsubscribe', invalid: true });
      return;
    }
    res.render('backpack/unsubscribe', {
      title: 'Unsubscribe',
      digest,
      done: !digest.active,
      action: req.originalUrl,
    });
  });
  router.post(`${BACKPACK}/unsubscribe`, noStore, linkLimit, formBody, async (req, res) => {
    const digest = await digestOf(req);
    if (!digest) {
      res.status(404).render('backpack/unsubscribe', { title: 'Unsubscribe', invalid: true });
      return;
    }
    await ctx.models.digestSubscriptions.deleteOne({ _id: digest.id });
    res.render('backpack/unsubscribe', { title: 'Unsubscribe', digest, done: true });
  });

  router.use(badgePagesRouter(ctx, session));
  router.use(importsRouter(ctx, session));
  router.use(collectionsRouter(ctx, session));
  router.use(recordsRouter(ctx, session));
  // A learner's pathways in the backpack, and the public page of a shared one (src/web/pathways).
  router.use(pathwayOutsideRouter(ctx, session));
  return router;
}
