import { Router, type RequestHandler } from 'express';
import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { PathwayDoc } from '../../db/models/pathway.js';
import type { PathwayEnrolmentDoc } from '../../db/models/pathwayEnrolment.js';
import { NotFoundError } from '../../errors.js';
import { withLtik } from '../../lti/launch.js';
import { csrfHeaderFirst } from '../../lti/csrf.js';
import type { Launch } from '../../lti/session.js';
import { enrol, enrolmentOf, sharePathway, unsharePathway, unsubscribe } from '../../pathways/enrolments.js';
import { pathwayMapData, pathwaysOfPeople } from '../../pathways/read.js';
import { offeredPathwayFilter } from '../../pathways/service.js';
import { launchOf } from '../course/launchOf.js';
import { smallFormBody } from '../course/formBody.js';
import { pageLocals } from '../course/links.js';
import { PATHWAY_PATHS } from './paths.js';
import { presentPathwayMap, presentPathwaySummary } from './present.js';

/**
 * A pathway the learner of this launch may open: one offered in their course (the course's own or the
 * platform's), or one they follow. Anything else is "not found" alike.
 */
async function visiblePathway(ctx: Context, launch: Launch, id: string): Promise<PathwayDoc> {
  if (!/^[0-9a-f]{24}$/i.test(id)) throw new NotFoundError(`Pathway ${id}`);
  const _id = new Types.ObjectId(id);
  const offered = await ctx.models.pathways
    .findOne({ _id, ...offeredPathwayFilter({ platformId: launch.platformId, courseRef: launch.courseRef }) })
    .lean<PathwayDoc>();
  if (offered) return offered;
  const followed = await ctx.models.pathwayEnrolments.exists({ pathwayId: _id, personId: launch.personId });
  const pathway = followed
    ? await ctx.models.pathways.findOne({ _id, platformId: launch.platformId }).lean<PathwayDoc>()
    : null;
  if (!pathway) throw new NotFoundError(`Pathway ${id}`);
  return pathway;
}

/**
 * The learner's pathway pages inside the course: the pathways offered and followed, each one's map
 * with their progress, following one, and sharing it by a public link (and withdrawing the link).
 */
export function pathwayLearnerRouter(ctx: Context, session: RequestHandler, csrf: RequestHandler): Router {
  const router = Router();
  const small = [session, csrfHeaderFirst(), smallFormBody, csrf];
  const base = ctx.config.publicUrl;

  router.get(PATHWAY_PATHS.learnerList, session, async (_req, res) => {
    const launch = launchOf(res);
    const link = (p: string) => withLtik(p, launch.ltik);
    const [followed, offered] = await Promise.all([
      pathwaysOfPeople(ctx, [{ platformId: launch.platformId, personId: launch.personId }]),
      ctx.models.pathways
        .find(offeredPathwayFilter({ platformId: launch.platformId, courseRef: launch.courseRef }))
        .sort({ createdAt: -1 })
        .limit(100)
        .lean<PathwayDoc[]>(),
    ]);
    const mine = new Set(followed.map((f) => String(f.pathway._id)));
    res.render('pathways/learner-list', {
      ...pageLocals(launch),
      title: 'Pathways',
      followed: followed.map((f) => ({
        ...presentPathwaySummary(f.pathway, f.progress),
        link: link(PATHWAY_PATHS.learnerOne(String(f.pathway._id))),
      })),
      offered: offered
        .filter((p) => !mine.has(String(p._id)))
        .map((p) => ({
          name: p.name,
          description: p.description,
          steps: p.steps.length,
          link: link(PATHWAY_PATHS.learnerOne(String(p._id))),
        })),
    });
  });

  router.get(PATHWAY_PATHS.learnerOne(':id'), session, async (req, res) => {
    const launch = launchOf(res);
    const pathway = await visiblePathway(ctx, launch, String(req.params.id));
    const enrolment = await enrolmentOf(ctx, pathway, launch.personId);
    const data = await pathwayMapData(ctx, pathway, { personId: launch.personId, enrolment });
    const id = String(pathway._id);
    res.render('pathways/learner-map', {
      ...pageLocals(launch),
      title: `${pathway.name} · Pathways`,
      map: presentPathwayMap(data, { withProgress: enrolment !== null }),
      following: enrolment !== null,
      csrfToken: res.locals.csrfToken,
      actions: {
        subscribe: withLtik(PATHWAY_PATHS.subscribe(id), launch.ltik),
        share: withLtik(PATHWAY_PATHS.share(id), launch.ltik),
        unshare: withLtik(PATHWAY_PATHS.unshare(id), launch.ltik),
        leave: withLtik(PATHWAY_PATHS.leave(id), launch.ltik),
      },
      shareUrl: enrolment?.shareId ? `${base}${PATHWAY_PATHS.shared(enrolment.shareId)}` : null,
      listLink: withLtik(PATHWAY_PATHS.learnerList, launch.ltik),
    });
  });

  const followedBy = async (launch: Launch, id: string): Promise<PathwayEnrolmentDoc> => {
    const pathway = await visiblePathway(ctx, launch, id);
    const enrolment = await enrolmentOf(ctx, pathway, launch.personId);
    if (!enrolment) throw new NotFoundError('Your place on this pathway');
    return enrolment;
  };
  const back = (launch: Launch, id: string) => withLtik(PATHWAY_PATHS.learnerOne(id), launch.ltik);

  router.post(PATHWAY_PATHS.subscribe(':id'), ...small, async (req, res) => {
    const launch = launchOf(res);
    const pathway = await visiblePathway(ctx, launch, String(req.params.id));
    await enrol(ctx, pathway, [launch.personId], 'subscribed', {
      type: 'lms',
      id: String(launch.personId),
      name: launch.personName,
    });
    res.redirect(303, back(launch, String(pathway._id)));
  });

  router.post(PATHWAY_PATHS.share(':id'), ...small, async (req, res) => {
    const launch = launchOf(res);
    await sharePathway(ctx, await followedBy(launch, String(req.params.id)));
    res.redirect(303, `${back(launch, String(req.params.id))}#share`);
  });

  router.post(PATHWAY_PATHS.unshare(':id'), ...small, async (req, res) => {
    const launch = launchOf(res);
    await unsharePathway(ctx, await followedBy(launch, String(req.params.id)));
    res.redirect(303, `${back(launch, String(req.params.id))}#share`);
  });

  // Leaving drops the learner's record of the pathway (its shared link then answers 404).
  router.post(PATHWAY_PATHS.leave(':id'), ...small, async (req, res) => {
    const launch = launchOf(res);
    const enrolment = await followedBy(launch, String(req.params.id));
    await unsubscribe(ctx, { _id: enrolment.pathwayId }, launch.personId);
    res.redirect(303, withLtik(PATHWAY_PATHS.learnerList, launch.ltik));
  });

  return router;
}
