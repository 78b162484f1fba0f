import { Router, type RequestHandler, type Response } from 'express';
import type { Context } from '../../context.js';
import type { CourseDoc } from '../../db/models/course.js';
import type { PathwayDoc } from '../../db/models/pathway.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.js';
import { withLtik } from '../../lti/launch.js';
import { csrfHeaderFirst } from '../../lti/csrf.js';
import type { Launch } from '../../lti/session.js';
import { enrolCourseLearners, learnersPerStep } from '../../pathways/enrolments.js';
import {
  createPathway,
  deletePathway,
  editablePathway,
  pickableTemplates,
  staffPathwayFilter,
  updatePathway,
  type EditorScope,
} from '../../pathways/service.js';
import { imageOf } from '../course/instructor.js';
import { launchOf } from '../course/launchOf.js';
import { badgeFormBody, smallFormBody } from '../course/formBody.js';
import { pageLocals } from '../course/links.js';
import {
  applyBuilderEdit,
  builderEditOf,
  emptyForm,
  mergeProblems,
  pathwayInputOf,
  readPathwayForm,
  valuesOf,
  type FormErrors,
  type PathwayFormValues,
} from './form.js';
import { PATHWAY_PATHS } from './paths.js';

const scopeOf = (launch: Launch): EditorScope => ({
  platformId: launch.platformId,
  courseRef: launch.courseRef,
  admin: launch.kind === 'admin',
});
const actorOf = (launch: Launch) => ({
  type: launch.kind === 'admin' ? ('admin' as const) : ('instructor' as const),
  id: String(launch.personId),
  name: launch.personName,
});
const SERVICE = { local: '', credly: ' · Credly', accredible: ' · Accredible' } as const;

/** A pathway this launch may edit; any other is "not found", whatever the reason. */
async function own(ctx: Context, launch: Launch, id: string): Promise<PathwayDoc> {
  return editablePathway(ctx, scopeOf(launch), id);
}

/**
 * The pathway pages of instructors and LMS administrators, inside the LMS: the list with how many
 * learners are at each step, creating and editing a pathway (steps added, removed and moved without
 * a script), and enrolling the course's learners. Scoped by the launch's platform and course.
 */
export function pathwayStaffRouter(
  ctx: Context,
  session: RequestHandler,
  staff: RequestHandler,
  csrf: RequestHandler,
): Router {
  const router = Router();
  const form = [session, staff, csrfHeaderFirst(), badgeFormBody, csrf];
  const small = [session, staff, csrfHeaderFirst(), smallFormBody, csrf];

  router.get(PATHWAY_PATHS.staffList, session, staff, async (req, res) => {
    const launch = launchOf(res);
    const scope = scopeOf(launch);
    const pathways = await ctx.models.pathways
      .find(staffPathwayFilter(scope))
      .sort({ createdAt: -1 })
      .limit(200)
      .lean<PathwayDoc[]>();
    const link = (p: string) => withLtik(p, launch.ltik);
    const rows = await Promise.all(
      pathways.map(async (p) => {
        const counts = await learnersPerStep(ctx, p);
        const editable =
          scope.admin || (p.courseRef !== null && p.courseRef.equals(launch.courseRef ?? undefined));
        return {
          name: p.name,
          description: p.description,
          everyCourse: p.courseRef === null,
          total: counts.total,
          finished: counts.finished,
          steps: p.steps.map((s, i) => ({
            number: i + 1,
            name: s.name,
            optional: s.optional,
            learners: counts.perStep.get(s.id) ?? 0,
            percent: counts.total ? Math.round((100 * (counts.perStep.get(s.id) ?? 0)) / counts.total) : 0,
          })),
          editLink: editable ? link(PATHWAY_PATHS.edit(String(p._id))) : null,
          enrolAction: launch.courseRef ? link(PATHWAY_PATHS.enrol(String(p._id))) : null,
          learnerLink: link(PATHWAY_PATHS.learnerOne(String(p._id))),
        };
      }),
    );
    res.render('pathways/staff-list', {
      ...pageLocals(launch),
      title: 'Pathways',
      courseTitle: launch.courseTitle,
      isAdmin: scope.admin,
      newLink: launch.courseRef || scope.admin ? link(PATHWAY_PATHS.new) : null,
      notice: typeof req.query.notice === 'string' ? req.query.notice.slice(0, 200) : null,
      pathways: rows,
    });
  });

  async function renderForm(
    res: Response,
    state: { values: PathwayFormValues; errors: FormErrors; pathway: PathwayDoc | null; saved?: boolean },
    status = 200,
  ) {
    const launch = launchOf(res);
    const scope = scopeOf(launch);
    const templates = await pickableTemplates(ctx, scope);
    const courseRefs = [...new Set(templates.flatMap((t) => (t.courseRef ? [String(t.courseRef)] : [])))];
    const courses = await ctx.models.courses
      .find({ _id: { $in: courseRefs }, platformId: scope.platformId }, { title: 1 })
      .lean<CourseDoc[]>();
    const titleOf = new Map(courses.map((c) => [String(c._id), c.title ?? 'a course']));
    const options = templates.map((t) => ({
      id: String(t._id),
      label: `${t.name} (${t.courseRef ? (titleOf.get(String(t.courseRef)) ?? 'a course') : 'every course'}${SERVICE[t.source]}${t.state === 'active' ? '' : t.state === 'draft' ? ', draft' : ', withdrawn'})`,
      image: imageOf(t),
      active: t.state === 'active',
    }));
    const { values, errors } = state;
    const summary = Object.entries(errors).map(([path, message]) => ({
      path,
      message,
      anchor: anchorOf(path),
    }));
    res.status(status).render('pathways/form', {
      ...pageLocals(launch),
      title: state.pathway ? `Edit ${state.pathway.name} · Pathways` : 'New pathway · Pathways',
      heading: state.pathway ? `Edit the pathway “${state.pathway.name}”` : 'New pathway',
      deleteAction: state.pathway
        ? withLtik(PATHWAY_PATHS.remove(String(state.pathway._id)), launch.ltik)
        : null,
      action: withLtik(
        state.pathway ? PATHWAY_PATHS.edit(String(state.pathway._id)) : PATHWAY_PATHS.staffList,
        launch.ltik,
      ),
      backLink: withLtik(PATHWAY_PATHS.staffList, launch.ltik),
      csrfToken: res.locals.csrfToken,
      saved: state.saved ?? false,
      isAdmin: scope.admin,
      hasTemplates: options.length > 0,
      errorSummary: summary,
      errors: {
        name: errors.name,
        description: errors.description,
        badgeTemplateId: errors.badgeTemplateId,
        steps: errors.steps,
        confirm: errors.confirm,
      },
      values,
      badgeOptions: [
        { id: '', label: 'No badge', selected: values.badgeTemplateId === '' },
        ...options
          .filter((o) => o.active || o.id === values.badgeTemplateId)
          .map((o) => ({ ...o, selected: o.id === values.badgeTemplateId })),
      ],
      steps: values.steps.map((s, i) => ({
        ...s,
        index: i,
        number: i + 1,
        first: i === 0,
        last: i === values.steps.length - 1,
        some: s.need === 'some',
        badges: options.map((o) => ({ ...o, checked: s.badges.includes(o.id) })),
        earlier: values.steps.slice(0, i).map((e, j) => ({
          id: e.id,
          label: e.name.trim() || `Step ${j + 1}`,
          checked: s.prereqs.includes(e.id),
        })),
        errors: {
          name: errors[`steps.${i}.name`],
          description: errors[`steps.${i}.description`],
          templateIds: errors[`steps.${i}.templateIds`],
          atLeast: errors[`steps.${i}.atLeast`],
          prerequisites: errors[`steps.${i}.prerequisites`],
        },
      })),
    });
  }

  router.get(PATHWAY_PATHS.new, session, staff, async (_req, res) => {
    const launch = launchOf(res);
    if (!launch.courseRef && launch.kind !== 'admin') throw new NotFoundError('A course for this pathway');
    await renderForm(res, { values: emptyForm(), errors: {}, pathway: null });
  });

  /** Saves (or, for a step button, re-renders) the form; problems come back beside their fields. */
  async function submit(res: Response, body: Record<string, unknown>, pathway: PathwayDoc | null) {
    const launch = launchOf(res);
    const values = readPathwayForm(body);
    const edit = builderEditOf(body);
    if (edit) return renderForm(res, { values: applyBuilderEdit(values, edit), errors: {}, pathway });
    const { input, errors } = pathwayInputOf(values);
    if (Object.keys(errors).length) return renderForm(res, { values, errors, pathway }, 400);
    try {
      const saved = pathway
        ? await updatePathway(
            ctx,
            scopeOf(launch),
            String(pathway._id),
            Number(values.version),
            input,
            actorOf(launch),
          )
        : await createPathway(ctx, scopeOf(launch), input, actorOf(launch), {
            everyCourse: values.everyCourse,
          });
      res.redirect(303, withLtik(PATHWAY_PATHS.edit(String(saved._id)), launch.ltik) + '&saved=1');
    } catch (err) {
      if (err instanceof InvalidInputError)
        return renderForm(res, { values, errors: mergeProblems({}, err.details), pathway }, 400);
      if (err instanceof ConflictError)
        return renderForm(res, { values, errors: { name: err.message }, pathway }, 409);
      throw err;
    }
  }

  router.post(PATHWAY_PATHS.staffList, ...form, async (req, res) => {
    const launch = launchOf(res);
    if (!launch.courseRef && launch.kind !== 'admin') throw new NotFoundError('A course for this pathway');
    await submit(res, (req.body ?? {}) as Record<string, unknown>, null);
  });

  router.get(PATHWAY_PATHS.edit(':id'), session, staff, async (req, res) => {
    const pathway = await own(ctx, launchOf(res), String(req.params.id));
    await renderForm(res, { values: valuesOf(pathway), errors: {}, pathway, saved: req.query.saved === '1' });
  });

  router.post(PATHWAY_PATHS.edit(':id'), ...form, async (req, res) => {
    const pathway = await own(ctx, launchOf(res), String(req.params.id));
    await submit(res, (req.body ?? {}) as Record<string, unknown>, pathway);
  });

  // Deleting needs the box ticked: the followers' records of it go with it.
  router.post(PATHWAY_PATHS.remove(':id'), ...small, async (req, res) => {
    const launch = launchOf(res);
    const pathway = await own(ctx, launch, String(req.params.id));
    if ((req.body as Record<string, unknown>).confirm !== '1')
      return renderForm(
        res,
        { values: valuesOf(pathway), errors: { confirm: 'Tick the box to confirm the deletion.' }, pathway },
        400,
      );
    await deletePathway(ctx, scopeOf(launch), String(pathway._id), actorOf(launch));
    const notice = `The pathway “${pathway.name}” was deleted.`;
    res.redirect(
      303,
      `${withLtik(PATHWAY_PATHS.staffList, launch.ltik)}&notice=${encodeURIComponent(notice)}`,
    );
  });

  router.post(PATHWAY_PATHS.enrol(':id'), ...small, async (req, res) => {
    const launch = launchOf(res);
    if (!launch.courseRef) throw new NotFoundError('A course to enrol learners from');
    // Any pathway offered in this course: the course's own, or the platform's.
    const pathway = await ctx.models.pathways
      .findOne({
        _id: /^[0-9a-f]{24}$/i.test(String(req.params.id)) ? String(req.params.id) : null,
        ...staffPathwayFilter(scopeOf(launch)),
      })
      .lean<PathwayDoc>();
    if (!pathway) throw new NotFoundError(`Pathway ${String(req.params.id)}`);
    const { added, learners } = await enrolCourseLearners(ctx, pathway, launch.courseRef, actorOf(launch));
    const notice =
      learners === 0
        ? 'No learner of this course is known to Laurel yet: learners appear once they open Laurel or the LMS sends their results.'
        : `${added} learner${added === 1 ? '' : 's'} enrolled in “${pathway.name}” (${learners - added} already followed it).`;
    res.redirect(
      303,
      `${withLtik(PATHWAY_PATHS.staffList, launch.ltik)}&notice=${encodeURIComponent(notice)}`,
    );
  });

  return router;
}

/** The id of the field a problem belongs to, for the error summary's links. */
function anchorOf(path: string): string {
  const m = /^steps\.(\d+)\.(\w+)/.exec(path);
  if (m)
    return `step-${m[1]}-${m[2] === 'templateIds' ? 'badges' : m[2] === 'prerequisites' ? 'prereqs' : m[2]}`;
  if (path === 'steps') return 'steps';
  if (path === 'confirm') return 'pathway-confirm';
  return `pathway-${path || 'name'}`;
}
