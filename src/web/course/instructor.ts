import { createHash, randomBytes } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { launchOf, needsCourse } from './launchOf.js';
import type { Context } from '../../context.js';
import type { CourseDoc } from '../../db/models/course.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { HttpError } from '../../errors.js';
import { COURSE_PATHS, withLtik } from '../../lti/launch.js';
import { refusal } from '../../lti/refusals.js';
import type { Launch } from '../../lti/session.js';
import { builderActivities, type KnownActivity } from '../../courses/activities.js';
import { courseBadgeOverview, describeContextFor } from '../../courses/overview.js';
import { courseEndView } from '../../courses/courseSettings.js';
import { COURSE_SETTINGS_PATH } from './courseSettings.js';
import { LEVEL_IMAGE_FIELDS } from './formBody.js';
import { visibleTemplateFilter, type CourseScope } from '../../courses/scope.js';
import { visibleTemplateIds } from '../../courses/visibility.js';
import { csrfHeaderFirst } from '../../lti/csrf.js';
import { recalculationStatus } from '../../courses/credentialState.js';
import { PROGRESS_SORTS, templateProgress, type ProgressSort } from '../../courses/templateProgress.js';
import { storeBadgeImage } from '../../images/store.js';
import { isBadgeRequirement, parseTemplateRules } from '../../rules/index.js';
import {
  activateTemplate,
  createTemplate,
  getTemplate,
  updateTemplate,
  withdrawTemplate,
} from '../../templates/service.js';
import { IMAGE_LIMITS } from '../../images/check.js';
import {
  applyBuilderEdit,
  badgeInputOf,
  builderEditOf,
  formValuesOf,
  readBadgeForm,
  type BadgeFormValues,
  type FieldErrors,
} from './badgeForm.js';
import { unconfirmedActivities } from './badgeFormChecks.js';
import { badgeFormLocals } from './badgeFormView.js';
import {
  badgeSummary,
  emptyLevelsValues,
  levelsFormLocals,
  levelsFormValuesOf,
  levelsInputOf,
  readLevelsForm,
  type LevelsFormValues,
} from './badgeFormLevels.js';
import { badgeFormBody, smallFormBody } from './formBody.js';
import { pageLocals } from './links.js';
import { DIGEST_PATH } from './digest.js';

const scopeOf = (launch: Launch): CourseScope => ({
  platformId: launch.platformId,
  courseRef: launch.courseRef,
});
const actorOf = (launch: Launch) => ({
  type: 'instructor' as const,
  id: String(launch.personId),
  name: launch.personName,
});

export const BADGE_PATHS = {
  create: `${COURSE_PATHS.instructor}/badges`,
  new: `${COURSE_PATHS.instructor}/badges/new`,
  summary: `${COURSE_PATHS.instructor}/rule-summary`,
  one: (id: string) => `${COURSE_PATHS.instructor}/badges/${id}`,
  state: (id: string) => `${COURSE_PATHS.instructor}/badges/${id}/state`,
  progress: (id: string) => `${COURSE_PATHS.instructor}/badges/${id}/progress`,
  /** Served by badgeCredentials.ts, with the dry run and the exports beside it. */
  credentials: (id: string) => `${COURSE_PATHS.instructor}/badges/${id}/credentials`,
  dryRun: (id: string) => `${COURSE_PATHS.instructor}/badges/${id}/dry-run`,
};

/** A badge of this launch's course; anything else is refused alike, so no URL reveals another course's badges. */
export async function scopedTemplate(
  ctx: Context,
  id: string,
  scope: { platformId: Launch['platformId']; courseRef?: Launch['courseRef'] },
) {
  try {
    return await getTemplate(ctx, id, scope);
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) throw refusal.notAllowed();
    throw err;
  }
}

const STATE_LABEL: Record<TemplateDoc['state'], string> = {
  draft: 'Draft',
  active: 'Active',
  inactive: 'Withdrawn',
};

/** Posted rows that require another badge, with where they sit in the form. */
function badgeRows(values: BadgeFormValues) {
  return values.groups.flatMap((rows, g) =>
    rows
      .map((row, r) => ({ id: (row.templateId ?? '').trim(), g, r, kind: row.kind }))
      .filter((row) => row.kind === 'badge' && row.id !== ''),
  );
}

/**
 * A form may require only a badge this course may see (visibleTemplateFilter); another is refused
 * beside its field, as if it did not exist. Requirements kept from the stored badge come back as
 * "custom" rows and are not rows of this kind.
 */
async function refuseUnseenBadges(
  ctx: Context,
  scope: CourseScope,
  values: BadgeFormValues,
  errors: FieldErrors,
) {
  const rows = badgeRows(values);
  if (rows.length === 0) return;
  const visible = await visibleTemplateIds(
    ctx,
    scope,
    rows.map((row) => row.id),
  );
  for (const row of rows)
    if (/^[0-9a-f]{24}$/i.test(row.id) && !visible.has(row.id))
      errors[`groups.${row.g}.${row.r}.templateId`] ??= 'Choose a badge from the list.';
}

/** The badge requirements of a stored template that this course may see by name. */
const visibleRequirementsOf = (ctx: Context, scope: CourseScope, t: TemplateDoc) =>
  visibleTemplateIds(
    ctx,
    scope,
    t.groups.flatMap((g) => g.requirements.filter(isBadgeRequirement).map((r) => r.badge)),
  );

/**
 * The instructor's pages: the course's badges, creating and editing one with the requirement
 * builder, activation and withdrawal behind a confirmation, and each badge's learner progress.
 * Everything is scoped by the launch's platform and course; a badge of another course is "not found".
 */
/** Extra activities to offer in the builder (the LMS gradebook's columns, through the launch). */
export type LineItemSource = (res: Response) => Promise<KnownActivity[]>;

export function instructorRouter(
  ctx: Context,
  session: RequestHandler,
  staff: RequestHandler,
  csrf: RequestHandler,
  lineItems: LineItemSource = async () => [],
): Router {
  const router = Router();
  const guard = [session, staff, needsCourse];

  router.get(COURSE_PATHS.instructor, session, staff, async (_req, res) => {
    const launch = launchOf(res);
    // A page that changes nothing: the session's read of the course serves its ids and end dates.
    const summaries = launch.courseRef
      ? await courseBadgeOverview(ctx, { ...scopeOf(launch), course: launch.course })
      : [];
    const link = (p: string) => withLtik(p, launch.ltik);
    res.render('course/instructor', {
      ...pageLocals(launch),
      title: launch.courseTitle ? `Badges · ${launch.courseTitle}` : 'Badges',
      courseTitle: launch.courseTitle,
      hasCourse: launch.courseRef !== null,
      newLink: link(BADGE_PATHS.new),
      digestLink: launch.courseRef ? link(DIGEST_PATH) : null,
      courseSettingsLink: launch.courseRef ? link(COURSE_SETTINGS_PATH) : null,
      badges: summaries.map((s) => ({
        name: s.template.name,
        image: imageOf(s.template),
        state: s.template.state,
        stateLabel: STATE_LABEL[s.template.state],
        earned: s.earned,
        onTheWay: s.onTheWay,
        rule: s.rule,
        allCourses: s.template.courseRef === null,
        editLink: s.template.courseRef ? link(BADGE_PATHS.one(String(s.template._id))) : null,
        progressLink: link(BADGE_PATHS.progress(String(s.template._id))),
        credentialsLink: s.template.courseRef ? link(BADGE_PATHS.credentials(String(s.template._id))) : null,
        recalculation: recalculationStatus(s.template.recalculation),
      })),
    });
  });

  router.get(BADGE_PATHS.new, ...guard, async (_req, res) => {
    await renderForm(ctx, lineItems, res, {
      values: emptyValues(),
      errors: {},
      template: null,
      formKey: randomBytes(18).toString('base64url'),
    });
  });

  // The launch, its role and a CSRF header are checked before any body is read (formBody.ts).
  const form = [...guard, csrfHeaderFirst(), badgeFormBody, csrf];

  router.post(BADGE_PATHS.create, ...form, async (req, res) => {
    const launch = launchOf(res);
    const values = readBadgeForm(req.body ?? {});
    const formKey = formKeyOf(req.body);
    const edit = builderEditOf(req.body ?? {});
    if (edit)
      return renderForm(ctx, lineItems, res, {
        values: applyBuilderEdit(values, edit),
        errors: {},
        template: null,
        formKey,
        levelValues: readLevelsForm(req.body ?? {}),
      });
    const parsed = badgeInputOf(values, null);
    const errors: FieldErrors = 'errors' in parsed ? parsed.errors : {};
    const levelValues = readLevelsForm(req.body ?? {});
    const tiers = levelsInputOf(levelValues, null, await levelImagesFrom(ctx, req, errors));
    if ('errors' in tiers) Object.assign(errors, tiers.errors);
    await refuseUnseenBadges(ctx, scopeOf(launch), values, errors);
    const imageId = await imageFrom(ctx, req, errors);
    if ('errors' in parsed || 'errors' in tiers || Object.keys(errors).length)
      return renderForm(ctx, lineItems, res, { values, errors, template: null, formKey, levelValues }, 400);
    const unknown = await unconfirmedActivities(ctx, scopeOf(launch), req.body ?? {}, values, null, () =>
      lineItems(res),
    );
    if (unknown.length)
      return renderForm(
        ctx,
        lineItems,
        res,
        { values, errors, template: null, formKey, unknown, levelValues },
        400,
      );
    const course = await ctx.models.courses.findById(launch.courseRef).lean<CourseDoc>();
    const created = await createTemplate(
      ctx,
      {
        platformId: String(launch.platformId),
        courseId: course?.lmsCourseId ?? course?.contextId ?? course?.ids[0] ?? null,
        ...parsed.input,
        ...tiers.input,
        imageId: imageId ?? null,
        alignments: [],
        shared: false,
      },
      actorOf(launch),
      scopeOf(launch),
      // The key names this form and what it says: sent again as it was, the same badge; changed (the
      // browser's back button, then edits), a new one.
      formKey ? { createKey: `${formKey}.${digestOf({ ...parsed.input, ...tiers.input })}` } : {},
    );
    res.redirect(303, withLtik(BADGE_PATHS.one(String(created._id)), launch.ltik) + '&saved=1');
  });

  router.get(BADGE_PATHS.one(':id'), ...guard, async (req, res) => {
    const scope = scopeOf(launchOf(res));
    const template = await scopedTemplate(ctx, String(req.params.id), scope);
    await renderForm(ctx, lineItems, res, {
      values: formValuesOf(template, await visibleRequirementsOf(ctx, scope, template)),
      errors: {},
      template,
      saved: req.query.saved === '1',
    });
  });

  router.post(BADGE_PATHS.one(':id'), ...form, async (req, res) => {
    const launch = launchOf(res);
    const template = await scopedTemplate(ctx, String(req.params.id), scopeOf(launch));
    const values = readBadgeForm(req.body ?? {});
    const edit = builderEditOf(req.body ?? {});
    if (edit)
      return renderForm(ctx, lineItems, res, {
        values: applyBuilderEdit(values, edit),
        errors: {},
        template,
        levelValues: readLevelsForm(req.body ?? {}),
      });
    const parsed = badgeInputOf(values, template);
    const errors: FieldErrors = 'errors' in parsed ? parsed.errors : {};
    const levelValues = readLevelsForm(req.body ?? {});
    const tiers = levelsInputOf(levelValues, template, await levelImagesFrom(ctx, req, errors));
    if ('errors' in tiers) Object.assign(errors, tiers.errors);
    await refuseUnseenBadges(ctx, scopeOf(launch), values, errors);
    if (
      !('errors' in parsed) &&
      template.state === 'active' &&
      parsed.input.groups.length === 0 &&
      !('input' in tiers && tiers.input.levels)
    )
      errors['groups'] =
        'An active badge needs at least one condition (or levels); withdraw it first to remove them all.';
    const imageId = await imageFrom(ctx, req, errors);
    if ('errors' in parsed || 'errors' in tiers || Object.keys(errors).length)
      return renderForm(ctx, lineItems, res, { values, errors, template, levelValues }, 400);
    const unknown = await unconfirmedActivities(ctx, scopeOf(launch), req.body ?? {}, values, template, () =>
      lineItems(res),
    );
    if (unknown.length)
      return renderForm(ctx, lineItems, res, { values, errors, template, unknown, levelValues }, 400);
    await updateTemplate(
      ctx,
      String(template._id),
      { ...parsed.input, ...tiers.input, ...(imageId ? { imageId } : {}) },
      actorOf(launch),
      scopeOf(launch),
    );
    res.redirect(303, withLtik(BADGE_PATHS.one(String(template._id)), launch.ltik) + '&saved=1');
  });

  /** The live summary above the builder: the same words the pages show, computed by the server. */
  router.post(BADGE_PATHS.summary, ...form, async (req, res) => {
    const launch = launchOf(res);
    const values = readBadgeForm(req.body ?? {});
    const parsed = badgeInputOf({ ...values, name: values.name || 'x', expiry: 'none', penalties: [] }, null);
    const tiers = levelsInputOf(readLevelsForm(req.body ?? {}), null);
    if ('errors' in parsed || 'errors' in tiers) return void res.json({ summary: null, incomplete: true });
    const rules = parseTemplateRules({ groups: withTemporaryIds(parsed.input.groups), penalties: [] });
    const groups = rules.success ? rules.data.groups : [];
    const names = await describeContextFor(ctx, scopeOf(launch));
    res.json({ summary: badgeSummary(groups as never, tiers.input.levels, tiers.input.regrade, names) });
  });

  router.get(BADGE_PATHS.state(':id'), ...guard, async (req, res) => {
    const launch = launchOf(res);
    const template = await scopedTemplate(ctx, String(req.params.id), scopeOf(launch));
    const action = req.query.action === 'withdraw' ? 'withdraw' : 'activate';
    res.render('course/confirm-state', {
      ...pageLocals(launch),
      title: `${action === 'activate' ? 'Activate' : 'Withdraw'} “${template.name}”`,
      name: template.name,
      activate: action === 'activate',
      action,
      formAction: withLtik(BADGE_PATHS.state(String(template._id)), launch.ltik),
      backLink: withLtik(BADGE_PATHS.one(String(template._id)), launch.ltik),
      noGroups: template.groups.length === 0,
      dryRunLink: withLtik(BADGE_PATHS.dryRun(String(template._id)), launch.ltik),
      csrfToken: res.locals.csrfToken,
    });
  });

  router.post(
    BADGE_PATHS.state(':id'),
    ...guard,
    csrfHeaderFirst(),
    smallFormBody,
    csrf,
    async (req, res) => {
      const launch = launchOf(res);
      const id = String((await scopedTemplate(ctx, String(req.params.id), scopeOf(launch)))._id);
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (body.action === 'withdraw') await withdrawTemplate(ctx, id, actorOf(launch), scopeOf(launch));
      else if (body.action === 'activate') await activateTemplate(ctx, id, actorOf(launch), scopeOf(launch));
      else throw new HttpError(400, 'invalid_request', 'Choose to activate or to withdraw the badge.');
      res.redirect(303, withLtik(COURSE_PATHS.instructor, launch.ltik));
    },
  );

  router.get(BADGE_PATHS.progress(':id'), session, staff, needsCourse, async (req, res) => {
    const launch = launchOf(res);
    const scope = scopeOf(launch);
    const template = await scopedTemplate(ctx, String(req.params.id), { platformId: launch.platformId });
    if (template.courseRef && String(template.courseRef) !== String(launch.courseRef))
      throw refusal.notAllowed();
    const sort: ProgressSort = PROGRESS_SORTS.includes(req.query.sort as ProgressSort)
      ? (req.query.sort as ProgressSort)
      : 'name';
    const page = Math.max(1, Number.parseInt(String(req.query.page ?? '1'), 10) || 1);
    const result = await templateProgress(ctx, scope, template, { sort, page });
    const link = (p: string, extra: Record<string, string>) =>
      `${withLtik(p, launch.ltik)}&${new URLSearchParams(extra).toString()}`;
    const base = BADGE_PATHS.progress(String(template._id));
    res.render('course/progress', {
      ...pageLocals(launch),
      title: `Progress · ${template.name}`,
      name: template.name,
      image: imageOf(template),
      total: result.total,
      requirements: result.requirements,
      rows: result.rows.map((r) => ({
        ...r,
        earnedOn: r.earnedAt ? r.earnedAt.toISOString().slice(0, 10) : null,
        requirements: result.requirements.map((q) => ({ text: q.text, met: r.met.includes(q.id) })),
      })),
      sorts: PROGRESS_SORTS.map((s) => ({
        value: s,
        label: SORT_LABEL[s],
        current: s === sort,
        link: link(base, { sort: s }),
      })),
      page: result.page,
      pages: result.pages,
      prevLink: result.page > 1 ? link(base, { sort, page: String(result.page - 1) }) : null,
      nextLink: result.page < result.pages ? link(base, { sort, page: String(result.page + 1) }) : null,
      backLink: withLtik(COURSE_PATHS.instructor, launch.ltik),
    });
  });
  return router;
}

const SORT_LABEL: Record<ProgressSort, string> = {
  name: 'Name',
  progress: 'Progress',
  recent: 'Latest activity',
};

/**
 * A badge's picture: its stored image, else the picture of a template synced from Credly or
 * Accredible (served by the service over HTTPS, which the pages' CSP allows), else the default.
 */
export function imageOf(t: Pick<TemplateDoc, '_id' | 'imageId' | 'externalImageUrl'>): string {
  if (t.imageId) return `/images/${t.imageId}`;
  if (t.externalImageUrl && /^https:\/\//i.test(t.externalImageUrl)) return t.externalImageUrl;
  return `/images/default/${t._id}.svg`;
}

const emptyValues = (): BadgeFormValues => ({
  name: '',
  description: '',
  criteria: '',
  tags: '',
  expiry: 'none',
  expiresAfterDays: '',
  expiresAt: '',
  allowReEarn: false,
  groups: [],
  penalties: [],
});

const withTemporaryIds = (groups: { requirements: object[] }[]) =>
  groups.map((g, i) => ({ requirements: g.requirements.map((r, j) => ({ id: `t${i}x${j}`, ...r })) }));

/** The posted file of one field (multer's `fields()` gives lists by field name). */
function fileOf(req: Request, field: string): Express.Multer.File | undefined {
  const files = (req as Request & { files?: Record<string, Express.Multer.File[]> }).files;
  return files && Object.prototype.hasOwnProperty.call(files, field) ? files[field]![0] : undefined;
}

/**
 * The picture posted in `field`, checked and stored as a badge picture is (src/images/check.ts: PNG or
 * SVG, square, bounded; an SVG sanitised), or null without one; a refused one puts its message under
 * `errorKey`.
 */
async function imageFrom(
  ctx: Context,
  req: Request,
  errors: FieldErrors,
  field = 'image',
  errorKey = 'image',
): Promise<string | null> {
  const file = fileOf(req, field);
  if (!file || file.size === 0) return null;
  try {
    return (await storeBadgeImage(ctx, { bytes: file.buffer, declaredType: file.mimetype })).id;
  } catch (err) {
    if (err instanceof HttpError && err.status < 500) {
      errors[errorKey] = err.message;
      return null;
    }
    throw err;
  }
}

/** The levels' own pictures posted with the form, by level row (stored; errors beside each row). */
async function levelImagesFrom(
  ctx: Context,
  req: Request,
  errors: FieldErrors,
): Promise<Map<number, string>> {
  const images = new Map<number, string>();
  for (const [index, field] of LEVEL_IMAGE_FIELDS.entries()) {
    const id = await imageFrom(ctx, req, errors, field, `levels.${index}.image`);
    if (id) images.set(index, id);
  }
  return images;
}

/** A short fingerprint of what a form says. */
const digestOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('base64url');

/**
 * The create form's key, made when the empty form is shown and sent with it: a form sent again
 * (its first answer lost, or a double click) names the badge it already made (templates' createKey).
 */
function formKeyOf(body: unknown): string | null {
  const key = (body as { formKey?: unknown } | null)?.formKey;
  return typeof key === 'string' && /^[A-Za-z0-9_-]{24}$/.test(key) ? key : null;
}

async function renderForm(
  ctx: Context,
  lineItems: LineItemSource,
  res: Response,
  state: {
    values: BadgeFormValues;
    errors: FieldErrors;
    template: TemplateDoc | null;
    saved?: boolean;
    /** Activity ids no source names, to confirm before saving. */
    unknown?: string[];
    /** The levels and regrade fields as posted (else the template's, or none for a new badge). */
    levelValues?: LevelsFormValues;
    /** A new badge's form key (formKeyOf): the same badge however often the form is sent. */
    formKey?: string | null;
  },
  status = 200,
) {
  const launch = launchOf(res);
  const scope = scopeOf(launch);
  const [activities, badges, names, courseEnd] = await Promise.all([
    lineItems(res).then((columns) => builderActivities(ctx, scope, columns)),
    // Only badges this course may see are offered (never another course's unshared badge).
    ctx.models.templates
      .find(
        { ...visibleTemplateFilter(scope), ...(state.template ? { _id: { $ne: state.template._id } } : {}) },
        { name: 1 },
      )
      .sort({ name: 1 })
      .limit(500)
      .lean(),
    describeContextFor(ctx, scope),
    courseEndView(ctx, scope),
  ]);
  const t = state.template;
  res.status(status).render('course/badge-form', {
    ...pageLocals(launch),
    ...badgeFormLocals(state.values, state.errors, {
      activities,
      badges: badges.map((b) => ({ id: String(b._id), name: b.name })),
      template: t,
      unknownActivities: state.unknown,
      courseEnd: {
        endsAt: courseEnd.endsAt,
        source: courseEnd.source,
        settingsLink: launch.courseRef ? withLtik(COURSE_SETTINGS_PATH, launch.ltik) : null,
      },
    }),
    title: t ? `Edit “${t.name}”` : 'Create a badge',
    editing: Boolean(t),
    formKey: t ? null : (state.formKey ?? null),
    saved: Boolean(state.saved),
    // The ltik travels in the action: the launch is checked before the body is read.
    formAction: withLtik(t ? BADGE_PATHS.one(String(t._id)) : BADGE_PATHS.create, launch.ltik),
    summaryAction: withLtik(BADGE_PATHS.summary, launch.ltik),
    summary: t ? badgeSummary(t.groups, t.levels, t.regrade, names) : 'No conditions yet.',
    ...levelsFormLocals(
      state.levelValues ?? (t ? levelsFormValuesOf(t) : emptyLevelsValues()),
      state.errors,
      t,
    ),
    image: t ? imageOf(t) : null,
    state: t?.state ?? null,
    stateLabel: t ? STATE_LABEL[t.state] : null,
    activateLink:
      t && t.state !== 'active'
        ? withLtik(BADGE_PATHS.state(String(t._id)), launch.ltik) + '&action=activate'
        : null,
    withdrawLink:
      t && t.state === 'active'
        ? withLtik(BADGE_PATHS.state(String(t._id)), launch.ltik) + '&action=withdraw'
        : null,
    progressLink: t ? withLtik(BADGE_PATHS.progress(String(t._id)), launch.ltik) : null,
    backLink: withLtik(COURSE_PATHS.instructor, launch.ltik),
    errorCount: Object.keys(state.errors).length,
    csrfToken: res.locals.csrfToken,
    maxImageKiB: Math.round(IMAGE_LIMITS.maxBytes / 1024),
  });
}
