import { Router, type RequestHandler, type Response } from 'express';
import { launchOf, needsCourse } from './launchOf.js';
import { Types } from 'mongoose';
import { z } from 'zod';
import { awardMany } from '../../awards/award.js';
import { credentialUrl } from '../../awards/credentials.js';
import { getCredential, revokeCredential } from '../../awards/revoke.js';
import type { Context } from '../../context.js';
import { credentialStateOf, recalculationStatus } from '../../courses/credentialState.js';
import { awardCandidates } from '../../courses/awardCandidates.js';
import type { CredentialDoc } from '../../db/models/credential.js';
import type { PersonDoc } from '../../db/models/person.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { HttpError } from '../../errors.js';
import { retryCredential } from '../../issuers/openbadges/issue.js';
import { csrfHeaderFirst } from '../../lti/csrf.js';
import { COURSE_PATHS, withLtik } from '../../lti/launch.js';
import { refusal } from '../../lti/refusals.js';
import type { Launch } from '../../lti/session.js';
import { recalculateTemplate } from '../../progress/recalculation.js';
import { requestRecalculation } from '../../progress/recalculationQueue.js';
import { actorName, credentialsCsv, peopleOf, progressCsv, sendCsv } from './credentialExports.js';
import { pickFormBody, smallFormBody } from './formBody.js';
import { BADGE_PATHS, imageOf, scopedTemplate } from './instructor.js';
import { pageLocals } from './links.js';

const base = (id: string) => `${COURSE_PATHS.instructor}/badges/${id}`;

export const CREDENTIAL_PATHS = {
  list: BADGE_PATHS.credentials,
  award: (id: string) => `${base(id)}/credentials/award`,
  revoke: (id: string, cid: string) => `${base(id)}/credentials/${cid}/revoke`,
  retry: (id: string, cid: string) => `${base(id)}/credentials/${cid}/retry`,
  credentialsCsv: (id: string) => `${base(id)}/credentials.csv`,
  progressCsv: (id: string) => `${base(id)}/progress.csv`,
  dryRun: BADGE_PATHS.dryRun,
  recalculate: (id: string) => `${base(id)}/recalculate`,
};

/** How many credentials the page lists (newest first); the CSV export has them all. */
const LIST_LIMIT = 500;

const scopeOf = (launch: Launch) => ({ platformId: launch.platformId, courseRef: launch.courseRef });
/** Every route here has checked that the launch has a course (needsCourse). */
const courseScope = (launch: Launch) => ({ platformId: launch.platformId, courseRef: launch.courseRef! });
const credentialScope = courseScope;
const actorOf = (launch: Launch) => ({
  type: 'instructor' as const,
  id: String(launch.personId),
  name: launch.personName,
});

const reasonField = z
  .string({ error: 'Say why.' })
  .trim()
  .min(1, 'Say why.')
  .max(1000, 'At most 1,000 characters.');

/** What the page says after an action, by code (never text taken from the URL). */
const NOTICES: Record<string, (n: number, m: number) => string> = {
  revoked: () => 'The credential was revoked. The learner’s progress on this badge starts again.',
  retried: () => 'The credential will be issued again in a moment.',
  awarded: (n, m) =>
    `${n} credential${n === 1 ? '' : 's'} awarded.${m ? ` ${m} learner${m === 1 ? '' : 's'} already held it or could not receive it.` : ''}`,
  recalculating: () => 'Laurel is recounting the results already received. This page shows how far it got.',
  'not-live': () => 'That credential is no longer live: nothing was changed.',
  'not-failed': () => 'That credential is not failed any more: nothing was changed.',
  'not-active': () => 'Only an active badge is recounted. Activate it first.',
};

function noticeOf(query: Record<string, unknown>): string | null {
  const make = NOTICES[String(query.done ?? '')];
  if (!make) return null;
  const int = (v: unknown) => Math.max(0, Number.parseInt(String(v ?? '0'), 10) || 0);
  return make(int(query.n), int(query.m));
}

/**
 * A badge's credentials for its course's instructors: who holds it and in which state, revoking
 * with a reason, retrying a failed issuance, awarding by hand, the CSV exports, the dry run and the
 * recount of the results already received. Only badges of the launch's own course; everything is
 * scoped by the launch's platform and course, and every action needs the page's CSRF token.
 */
export function badgeCredentialsRouter(
  ctx: Context,
  session: RequestHandler,
  staff: RequestHandler,
  csrf: RequestHandler,
): Router {
  const router = Router();
  const guard = [session, staff, needsCourse];
  const small = [...guard, csrfHeaderFirst(), smallFormBody, csrf];
  const ownBadge = (res: Response, id: unknown) => scopedTemplate(ctx, String(id), scopeOf(launchOf(res)));
  const back = (res: Response, t: TemplateDoc, done: string, extra: Record<string, number> = {}) => {
    const launch = launchOf(res);
    const params = new URLSearchParams({
      done,
      ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])),
    });
    res.redirect(303, `${withLtik(CREDENTIAL_PATHS.list(String(t._id)), launch.ltik)}&${params}`);
  };

  /** A credential of this badge in this course, or the same refusal as for anything else. */
  const ownCredential = async (res: Response, t: TemplateDoc, cid: unknown): Promise<CredentialDoc> => {
    try {
      const c = await getCredential(ctx, String(cid), credentialScope(launchOf(res)));
      if (String(c.templateId) !== String(t._id)) throw refusal.notAllowed();
      return c;
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) throw refusal.notAllowed();
      throw err;
    }
  };

  router.get(CREDENTIAL_PATHS.list(':id'), ...guard, async (req, res) => {
    const template = await ownBadge(res, req.params.id);
    await renderList(ctx, res, template, { notice: noticeOf(req.query), errors: {}, note: '', chosen: [] });
  });

  router.post(
    CREDENTIAL_PATHS.award(':id'),
    ...guard,
    csrfHeaderFirst(),
    pickFormBody,
    csrf,
    async (req, res) => {
      const launch = launchOf(res);
      const template = await ownBadge(res, req.params.id);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const chosen = [body.people ?? []].flat().map(String);
      const note = reasonField.safeParse(body.note);
      const errors: Record<string, string> = {};
      if (!note.success) errors.note = note.error.issues[0]?.message ?? 'Say why.';
      const candidates = await awardCandidates(ctx, courseScope(launch), template);
      const picked = chosen.filter((id) => candidates.some((c) => c.personId === id));
      if (picked.length === 0 || picked.length !== chosen.length)
        errors.people = 'Choose one or more learners from the list.';
      if (template.state === 'draft')
        errors.people = 'This badge is a draft: activate it before awarding it.';
      if (Object.keys(errors).length)
        return renderList(
          ctx,
          res,
          template,
          { notice: null, errors, note: String(body.note ?? ''), chosen },
          400,
        );
      const people = await ctx.models.people
        .find({ _id: { $in: picked.map((id) => new Types.ObjectId(id)) }, platformId: launch.platformId })
        .lean<PersonDoc[]>();
      const outcomes = await awardMany(
        ctx,
        people.map((p) => ({
          template,
          personId: p._id,
          userId: p.lmsUserId ?? p.sub ?? p.ids[0] ?? String(p._id),
          courseRef: template.courseRef,
          courseId: template.courseId,
          evidence: [],
          actor: actorOf(launch),
          reason: note.data!,
          overrideReEarn: true,
        })),
      );
      const n = outcomes.filter((o) => o.awarded).length;
      back(res, template, 'awarded', { n, m: picked.length - n });
    },
  );

  router.get(CREDENTIAL_PATHS.revoke(':id', ':cid'), ...guard, async (req, res) => {
    const template = await ownBadge(res, req.params.id);
    const credential = await ownCredential(res, template, req.params.cid);
    await renderRevoke(ctx, res, template, credential, { reason: '', error: null });
  });

  router.post(CREDENTIAL_PATHS.revoke(':id', ':cid'), ...small, async (req, res) => {
    const launch = launchOf(res);
    const template = await ownBadge(res, req.params.id);
    const credential = await ownCredential(res, template, req.params.cid);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const reason = reasonField.safeParse(body.reason);
    if (!reason.success)
      return renderRevoke(
        ctx,
        res,
        template,
        credential,
        { reason: String(body.reason ?? ''), error: reason.error.issues[0]?.message ?? 'Say why.' },
        400,
      );
    try {
      await revokeCredential(
        ctx,
        String(credential._id),
        reason.data,
        actorOf(launch),
        credentialScope(launch),
      );
    } catch (err) {
      if (err instanceof HttpError && err.status === 409) return back(res, template, 'not-live');
      throw err;
    }
    back(res, template, 'revoked');
  });

  router.post(CREDENTIAL_PATHS.retry(':id', ':cid'), ...small, async (req, res) => {
    const template = await ownBadge(res, req.params.id);
    const credential = await ownCredential(res, template, req.params.cid);
    try {
      await retryCredential(ctx, credential, actorOf(launchOf(res)));
    } catch (err) {
      if (err instanceof HttpError && err.status === 409) return back(res, template, 'not-failed');
      throw err;
    }
    back(res, template, 'retried');
  });

  router.post(CREDENTIAL_PATHS.recalculate(':id'), ...small, async (req, res) => {
    const template = await ownBadge(res, req.params.id);
    if (template.state !== 'active') return back(res, template, 'not-active');
    await requestRecalculation(ctx, template._id);
    back(res, template, 'recalculating');
  });

  router.get(CREDENTIAL_PATHS.dryRun(':id'), ...guard, async (req, res) => {
    const launch = launchOf(res);
    const template = await ownBadge(res, req.params.id);
    const summary = await recalculateTemplate(ctx, template, { dryRun: true });
    const id = String(template._id);
    res.render('course/dry-run', {
      ...pageLocals(launch),
      title: `Dry run · ${template.name}`,
      name: template.name,
      image: imageOf(template),
      active: template.state === 'active',
      noGroups: template.groups.length === 0,
      learners: summary.learners,
      wouldEarn: summary.wouldEarn,
      close: summary.close,
      blocked: summary.blocked,
      activateLink:
        template.state !== 'active' && template.groups.length
          ? withLtik(BADGE_PATHS.state(id), launch.ltik) + '&action=activate'
          : null,
      credentialsLink: withLtik(CREDENTIAL_PATHS.list(id), launch.ltik),
      backLink: withLtik(COURSE_PATHS.instructor, launch.ltik),
    });
  });

  router.get(CREDENTIAL_PATHS.credentialsCsv(':id'), ...guard, async (req, res) => {
    sendCsv(res, await credentialsCsv(ctx, await ownBadge(res, req.params.id)));
  });

  router.get(CREDENTIAL_PATHS.progressCsv(':id'), ...guard, async (req, res) => {
    const template = await ownBadge(res, req.params.id);
    sendCsv(res, await progressCsv(ctx, scopeOf(launchOf(res)), template));
  });

  return router;
}

async function renderList(
  ctx: Context,
  res: Response,
  template: TemplateDoc,
  form: { notice: string | null; errors: Record<string, string>; note: string; chosen: string[] },
  status = 200,
) {
  const launch = launchOf(res);
  const id = String(template._id);
  const [credentials, total, candidates] = await Promise.all([
    ctx.models.credentials
      .find({ templateId: template._id, platformId: template.platformId, courseRef: template.courseRef })
      .sort({ awardedAt: -1, _id: -1 })
      .limit(LIST_LIMIT)
      .lean<CredentialDoc[]>(),
    ctx.models.credentials.countDocuments({
      templateId: template._id,
      platformId: template.platformId,
      courseRef: template.courseRef,
    }),
    awardCandidates(ctx, courseScope(launch), template),
  ]);
  const people = await peopleOf(ctx, credentials);
  const now = ctx.now();
  const link = (p: string) => withLtik(p, launch.ltik);
  const recalculation = recalculationStatus(template.recalculation);
  res.status(status).render('course/credentials', {
    ...pageLocals(launch),
    title: `Credentials · ${template.name}`,
    name: template.name,
    image: imageOf(template),
    state: template.state,
    active: template.state === 'active',
    draft: template.state === 'draft',
    notice: form.notice,
    recalculation,
    csrfToken: res.locals.csrfToken,
    shown: credentials.length,
    total,
    more: total > credentials.length,
    rows: credentials.map((c) => {
      const p = people.get(String(c.personId));
      const state = credentialStateOf(c, now);
      const cid = String(c._id);
      return {
        id: cid,
        name: p?.name ?? p?.email ?? c.userId,
        email: p?.email ?? null,
        awardedOn: c.awardedAt.toISOString().slice(0, 10),
        awardedIso: c.awardedAt.toISOString(),
        byHand: c.awardedBy?.type !== 'system',
        by: actorName(c.awardedBy),
        note: c.awardReason,
        state: state.state,
        // A badge with levels: which level, before the state ("Gold · Issued").
        stateLabel: levelLabel(template, c.level)
          ? `${levelLabel(template, c.level)} · ${state.label}`
          : state.label,
        detail:
          c.regradeRevokeAt && c.liveSlot === 'live'
            ? `A regrade took it back: revoked on ${c.regradeRevokeAt.toISOString().slice(0, 10)} unless the grade comes back.`
            : state.detail,
        live: c.liveSlot === 'live',
        failed: c.status === 'failed',
        publicUrl: credentialUrl(ctx, c._id),
        revokeLink: c.liveSlot === 'live' ? link(CREDENTIAL_PATHS.revoke(id, cid)) : null,
        retryAction: c.status === 'failed' ? link(CREDENTIAL_PATHS.retry(id, cid)) : null,
      };
    }),
    candidates: candidates.map((c) => ({ ...c, checked: form.chosen.includes(c.personId) })),
    errors: form.errors,
    note: form.note,
    awardAction: link(CREDENTIAL_PATHS.award(id)),
    recalculateAction: link(CREDENTIAL_PATHS.recalculate(id)),
    dryRunLink: link(CREDENTIAL_PATHS.dryRun(id)),
    credentialsCsv: link(CREDENTIAL_PATHS.credentialsCsv(id)),
    progressCsv: link(CREDENTIAL_PATHS.progressCsv(id)),
    progressLink: link(BADGE_PATHS.progress(id)),
    refreshLink: link(CREDENTIAL_PATHS.list(id)),
    backLink: link(COURSE_PATHS.instructor),
  });
}

async function renderRevoke(
  ctx: Context,
  res: Response,
  template: TemplateDoc,
  credential: CredentialDoc,
  form: { reason: string; error: string | null },
  status = 200,
) {
  const launch = launchOf(res);
  const person = await ctx.models.people.findById(credential.personId).lean<PersonDoc>();
  const id = String(template._id);
  res.status(status).render('course/revoke', {
    ...pageLocals(launch),
    title: `Revoke “${template.name}”`,
    name: template.name,
    learner: person?.name ?? person?.email ?? credential.userId,
    live: credential.liveSlot === 'live',
    reason: form.reason,
    error: form.error,
    formAction: withLtik(CREDENTIAL_PATHS.revoke(id, String(credential._id)), launch.ltik),
    backLink: withLtik(CREDENTIAL_PATHS.list(id), launch.ltik),
    csrfToken: res.locals.csrfToken,
  });
}

/** The name of a credential's level on its badge's ladder, or null. */
function levelLabel(template: TemplateDoc, level: string | null | undefined): string | null {
  return (level && template.levels?.steps.find((s) => s.id === level)?.name) || null;
}
