import { Router, type RequestHandler } from 'express';
import { launchOf } from './launchOf.js';
import { Types } from 'mongoose';
import { recordAudit } from '../../audit/record.js';
import type { Context } from '../../context.js';
import type { CourseDoc } from '../../db/models/course.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { csrfTokenFor } from '../../lti/csrf.js';
import { COURSE_PATHS, withLtik } from '../../lti/launch.js';
import { refusal } from '../../lti/refusals.js';
import type { Launch } from '../../lti/session.js';
import { smallFormBody } from './formBody.js';
import { BADGE_PATHS } from './instructor.js';
import { pageLocals } from './links.js';

/**
 * Instructors pick a Credly or Accredible template (synced by src/providers/sync.ts into the
 * platform's catalogue: no course) for their course. Picking makes the course its own copy, a draft
 * with the service's name, description and id, which the usual badge form then gives requirements
 * and activates; the sync keeps every copy in step with the service.
 */

export const SERVICE_BADGES_PATH = `${COURSE_PATHS.instructor}/badges/from-service`;

const SERVICE_NAME = { credly: 'Credly', accredible: 'Accredible' } as const;

export function serviceBadgesRouter(ctx: Context, guard: RequestHandler[], csrf: RequestHandler): Router {
  const router = Router();
  const catalogue = (launch: Launch) =>
    ctx.models.templates
      .find({
        platformId: launch.platformId,
        source: { $in: ['credly', 'accredible'] },
        courseRef: null,
        externalState: 'active',
      })
      .sort({ name: 1 })
      .lean<TemplateDoc[]>();

  router.get(SERVICE_BADGES_PATH, ...guard, async (_req, res) => {
    const launch = launchOf(res);
    const entries = await catalogue(launch);
    const taken = await ctx.models.templates
      .find(
        {
          platformId: launch.platformId,
          courseRef: launch.courseRef,
          externalId: { $in: entries.map((e) => e.externalId) },
        },
        { _id: 1, source: 1, externalId: 1 },
      )
      .lean<Pick<TemplateDoc, '_id' | 'source' | 'externalId'>[]>();
    const copyOf = (e: TemplateDoc) =>
      taken.find((x) => x.source === e.source && x.externalId === e.externalId);
    res.render('course/service-badges', {
      ...pageLocals(launch),
      title: 'Badges from Credly or Accredible',
      courseTitle: launch.courseTitle,
      csrfToken: csrfTokenFor(launch),
      action: withLtik(SERVICE_BADGES_PATH, launch.ltik),
      entries: entries.map((e) => {
        const copy = copyOf(e);
        return {
          id: String(e._id),
          name: e.name,
          description: e.description,
          service: SERVICE_NAME[e.source as 'credly' | 'accredible'],
          externalUrl: e.externalUrl,
          editLink: copy ? withLtik(BADGE_PATHS.one(String(copy._id)), launch.ltik) : null,
        };
      }),
    });
  });

  router.post(SERVICE_BADGES_PATH, ...guard, smallFormBody, csrf, async (req, res) => {
    const launch = launchOf(res);
    const id = String((req.body as Record<string, unknown>).templateId ?? '');
    if (!Types.ObjectId.isValid(id)) throw refusal.notAllowed();
    const entry = (await catalogue(launch)).find((e) => String(e._id) === id);
    if (!entry) throw refusal.notAllowed();
    const existing = await ctx.models.templates
      .findOne({
        platformId: launch.platformId,
        courseRef: launch.courseRef,
        source: entry.source,
        externalId: entry.externalId,
      })
      .lean<TemplateDoc>();
    let copyId = existing?._id;
    if (!copyId) {
      const course = await ctx.models.courses.findById(launch.courseRef).lean<CourseDoc>();
      const copy = await ctx.models.templates.create({
        platformId: launch.platformId,
        courseRef: launch.courseRef,
        courseId: course?.lmsCourseId ?? course?.contextId ?? course?.ids[0] ?? null,
        source: entry.source,
        externalId: entry.externalId,
        externalUrl: entry.externalUrl ?? null,
        externalImageUrl: entry.externalImageUrl ?? null,
        externalState: entry.externalState ?? null,
        name: entry.name,
        description: entry.description,
        state: 'draft',
      });
      copyId = copy._id;
      await recordAudit(ctx.models, {
        actor: { type: 'instructor', id: String(launch.personId), name: launch.personName },
        action: 'template.created',
        platformId: launch.platformId,
        courseRef: launch.courseRef,
        target: { type: 'template', id: String(copyId) },
        details: { source: entry.source, externalId: entry.externalId },
      });
    }
    res.redirect(303, withLtik(BADGE_PATHS.one(String(copyId)), launch.ltik));
  });
  return router;
}
