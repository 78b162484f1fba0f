import { Router, type RequestHandler } from 'express';
import type { Context } from '../../context.js';
import { HttpError } from '../../errors.js';
import { COURSE_PATHS, withLtik } from '../../lti/launch.js';
import { csrfHeaderFirst } from '../../lti/csrf.js';
import { digestSubscriptionOf, subscribeToDigest, unsubscribeFromDigest } from '../../mail/digest.js';
import { formatDate } from '../public/present.js';
import { smallFormBody } from './formBody.js';
import { launchOf, needsCourse } from './launchOf.js';
import { pageLocals } from './links.js';

export const DIGEST_PATH = `${COURSE_PATHS.instructor}/digest`;

/**
 * The instructor's weekly e-mail digest of this course (src/mail/digest.ts): a page to opt in or
 * out, for the launch's own person and course only. `mailOn` says whether Laurel sends mail at all.
 */
export function courseDigestRouter(
  ctx: Context,
  guard: RequestHandler[],
  csrf: RequestHandler,
  mailOn: boolean,
): Router {
  const router = Router();
  const ownerOf = (res: Parameters<typeof launchOf>[0]) => {
    const launch = launchOf(res);
    return { platformId: launch.platformId, courseRef: launch.courseRef!, personId: launch.personId };
  };

  router.get(DIGEST_PATH, ...guard, needsCourse, async (req, res) => {
    const launch = launchOf(res);
    const who = ownerOf(res);
    const [subscription, person] = await Promise.all([
      digestSubscriptionOf(ctx, who),
      ctx.models.people.findOne({ _id: who.personId, platformId: who.platformId }, { email: 1 }).lean(),
    ]);
    const email = person?.email ?? null;
    const optedOut = email ? Boolean(await ctx.models.mailOptOuts.exists({ _id: email })) : false;
    res.render('course/digest', {
      ...pageLocals(launch),
      title: launch.courseTitle ? `Weekly digest · ${launch.courseTitle}` : 'Weekly digest',
      courseTitle: launch.courseTitle,
      mailOn,
      email,
      optedOut,
      on: Boolean(subscription),
      next: subscription ? formatDate(subscription.nextDueAt) : null,
      saved: req.query.saved === '1',
      formAction: withLtik(DIGEST_PATH, launch.ltik),
      backLink: withLtik(COURSE_PATHS.instructor, launch.ltik),
      csrfToken: res.locals.csrfToken,
    });
  });

  router.post(
    DIGEST_PATH,
    ...guard,
    needsCourse,
    csrfHeaderFirst(),
    smallFormBody,
    csrf,
    async (req, res) => {
      const launch = launchOf(res);
      const choice = (req.body as Record<string, unknown> | undefined)?.digest;
      if (choice === 'on') await subscribeToDigest(ctx, ownerOf(res));
      else if (choice === 'off') await unsubscribeFromDigest(ctx, ownerOf(res));
      else
        throw new HttpError(
          400,
          'invalid_request',
          'Choose to receive the weekly digest or not (digest=on or off).',
        );
      res.redirect(303, `${withLtik(DIGEST_PATH, launch.ltik)}&saved=1`);
    },
  );
  return router;
}
