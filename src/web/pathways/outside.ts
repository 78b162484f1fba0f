import { Router, type RequestHandler } from 'express';
import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { PathwayDoc } from '../../db/models/pathway.js';
import type { PathwayEnrolmentDoc } from '../../db/models/pathwayEnrolment.js';
import { NotFoundError } from '../../errors.js';
import type { PersonRef } from '../../backpack/sessions.js';
import { ofPeople } from '../../backpack/sessions.js';
import { sharedEnrolment, sharePathway, unsharePathway } from '../../pathways/enrolments.js';
import { pathwayMapData, pathwaysOfPeople } from '../../pathways/read.js';
import { backpackOf, formBody, requireBackpackCsrf } from '../backpack/session.js';
import { rateLimit } from '../public/rateLimit.js';
import { PATHWAY_PATHS } from './paths.js';
import { presentPathwayMap, presentPathwaySummary } from './present.js';

/** The learner's pathways for My Record: each with its progress and its page in the backpack. */
export async function backpackPathwayCards(ctx: Context, people: PersonRef[]) {
  const list = await pathwaysOfPeople(ctx, people);
  return list.map((f) => ({
    ...presentPathwaySummary(f.pathway, f.progress),
    link: PATHWAY_PATHS.backpackOne(String(f.enrolment._id)),
  }));
}

/**
 * Pathways outside the LMS: a learner's pathway in their backpack (with sharing), and the public
 * page of a shared pathway, which shows the pathway and its owner's progress only while they share
 * it (a withdrawn link answers 410, an unknown one 404).
 */
export function pathwayOutsideRouter(ctx: Context, session: RequestHandler): Router {
  const router = Router();
  const base = ctx.config.publicUrl;
  const write = [session, formBody, requireBackpackCsrf];

  const own = async (people: PersonRef[], id: string) => {
    if (!/^[0-9a-f]{24}$/i.test(id)) throw new NotFoundError('Pathway');
    const e = await ctx.models.pathwayEnrolments
      .findOne({ _id: new Types.ObjectId(id), ...ofPeople(people) })
      .lean<PathwayEnrolmentDoc>();
    const pathway = e
      ? await ctx.models.pathways.findOne({ _id: e.pathwayId, platformId: e.platformId }).lean<PathwayDoc>()
      : null;
    if (!e || !pathway) throw new NotFoundError('Pathway');
    return { enrolment: e, pathway };
  };

  router.get(PATHWAY_PATHS.backpackOne(':id'), session, async (req, res) => {
    const bp = backpackOf(res);
    const { enrolment, pathway } = await own(bp.session.people, String(req.params.id));
    const data = await pathwayMapData(ctx, pathway, { personId: enrolment.personId, enrolment });
    const self = PATHWAY_PATHS.backpackOne(String(enrolment._id));
    res.render('pathways/backpack-map', {
      title: `${pathway.name} · My pathways`,
      csrf: bp.csrf,
      nav: { record: true },
      map: presentPathwayMap(data, { withProgress: true }),
      shareUrl: enrolment.shareId ? `${base}${PATHWAY_PATHS.shared(enrolment.shareId)}` : null,
      actions: { share: `${self}/share`, unshare: `${self}/unshare` },
    });
  });

  router.post(`${PATHWAY_PATHS.backpackOne(':id')}/share`, ...write, async (req, res) => {
    const { enrolment } = await own(backpackOf(res).session.people, String(req.params.id));
    await sharePathway(ctx, enrolment);
    res.redirect(303, `${PATHWAY_PATHS.backpackOne(String(enrolment._id))}#share`);
  });

  router.post(`${PATHWAY_PATHS.backpackOne(':id')}/unshare`, ...write, async (req, res) => {
    const { enrolment } = await own(backpackOf(res).session.people, String(req.params.id));
    await unsharePathway(ctx, enrolment);
    res.redirect(303, `${PATHWAY_PATHS.backpackOne(String(enrolment._id))}#share`);
  });

  const sharedLimit = rateLimit(ctx, { bucket: 'pathways', limit: 600, windowMs: 60_000 });
  router.get(PATHWAY_PATHS.shared(':shareId'), sharedLimit, async (req, res) => {
    const enrolment = await sharedEnrolment(ctx, String(req.params.shareId));
    const [pathway, person] = await Promise.all([
      ctx.models.pathways
        .findOne({ _id: enrolment.pathwayId, platformId: enrolment.platformId })
        .lean<PathwayDoc>(),
      ctx.models.people.findById(enrolment.personId, { name: 1 }).lean(),
    ]);
    if (!pathway) throw new NotFoundError('Shared pathway');
    const data = await pathwayMapData(ctx, pathway, { personId: enrolment.personId, enrolment });
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Robots-Tag', 'noindex');
    res.render('pathways/shared', {
      title: pathway.name,
      owner: person?.name?.trim() || 'A learner',
      map: presentPathwayMap(data, { withProgress: true }),
    });
  });
  return router;
}
