import { Router, type RequestHandler, type Response } from 'express';
import { launchOf } from './launchOf.js';
import { Types } from 'mongoose';
import { z } from 'zod';
import { recordAudit } from '../../audit/record.js';
import type { Context } from '../../context.js';
import type { AuditEntryDoc } from '../../db/models/auditEntry.js';
import { deploymentPolicyOf, type PlatformDoc } from '../../db/models/platform.js';
import {
  ensureIssuerProfile,
  issuerProfileChangeSchema,
  rotateIssuerKey,
  updateIssuerProfile,
} from '../../issuers/openbadges/issuerProfiles.js';
import { COURSE_PATHS, withLtik } from '../../lti/launch.js';
import { csrfHeaderFirst, csrfTokenFor } from '../../lti/csrf.js';
import { liveEventsDeliveryUrl } from '../../lms/canvas/subscription.js';
import { MOODLE_PLUGIN_PATH } from '../../lti/moodlePlugin.js';
import type { Launch } from '../../lti/session.js';
import { FAILURE_KINDS, listFailures, retryFailure, type FailureKind } from '../../platforms/failures.js';
import {
  changeDeployment,
  getPlatform,
  rotateWebhookSecret,
  updatePlatformSettings,
} from '../../platforms/service.js';
import { formatIssues } from '../../rules/index.js';
import { safeText } from '../../validation/text.js';
import { smallFormBody } from './formBody.js';
import { pageLocals } from './links.js';
import { parseOr400 } from '../validation.js';

/**
 * The LMS administrator's page inside the LMS (a launch with an administrator role): this platform's
 * registration and deployments, its webhook secret, connecting the LMS's event feed, the issuer
 * profile and signing key, work that failed, and the audit log. Everything acts on the launch's own
 * platform (from the signed ltik), never on one named in the URL or the form.
 */
export const LMS_ADMIN_PATHS = {
  page: COURSE_PATHS.admin,
  deployments: `${COURSE_PATHS.admin}/deployments`,
  policy: `${COURSE_PATHS.admin}/deployment-policy`,
  secret: `${COURSE_PATHS.admin}/webhook-secret`,
  issuer: `${COURSE_PATHS.admin}/issuer`,
  rotateKey: `${COURSE_PATHS.admin}/issuer/rotate-key`,
  retry: `${COURSE_PATHS.admin}/failures/retry`,
} as const;

const AUDIT_PAGE = 25;
const LMS_LABEL = { moodle: 'Moodle', canvas: 'Canvas', other: 'LMS' } as const;

const actorOf = (launch: Launch) => ({
  type: 'admin' as const,
  id: String(launch.personId),
  name: launch.personName ?? 'LMS administrator',
});
const when = (d: Date | null | undefined) =>
  d ? new Date(d).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '';

const deploymentForm = z.strictObject({
  csrf: z.string(),
  action: z.enum(['approve', 'remove'], { error: 'choose to approve or to remove the deployment' }),
  deploymentId: safeText(255).min(1, 'must not be empty'),
});
const policyForm = z.strictObject({
  csrf: z.string(),
  deploymentPolicy: z.enum(['auto', 'approve'], {
    error: 'choose whether new deployments launch at once or wait for approval',
  }),
});
const issuerForm = z.strictObject({
  csrf: z.string(),
  name: z.string(),
  url: z.string(),
  email: z.string(),
  description: z.string(),
});
const retryForm = z.strictObject({
  csrf: z.string(),
  kind: z.enum(FAILURE_KINDS, { error: 'not a kind of failure Laurel retries' }),
  id: z.string().regex(/^[0-9a-f]{24}$/i, 'not the id of a failure'),
});
const auditQuery = z.object({
  action: z.string().trim().max(100).optional(),
  target: z.string().trim().max(100).optional(),
  before: z
    .string()
    .regex(/^[0-9a-f]{24}$/i)
    .optional(),
});

/** An empty field of the issuer form clears the value (null), except the name, which must stay. */
const orNull = (v: string) => (v.trim() === '' ? null : v.trim());

export function lmsAdminRouter(
  ctx: Context,
  session: RequestHandler,
  admin: RequestHandler,
  csrf: RequestHandler,
): Router {
  const router = Router();
  const form = [session, admin, csrfHeaderFirst(), smallFormBody, csrf];

  const platformOf = async (launch: Launch) => getPlatform(ctx, String(launch.platformId));
  const back = (launch: Launch, notice?: string) =>
    withLtik(LMS_ADMIN_PATHS.page, launch.ltik) + (notice ? `&notice=${encodeURIComponent(notice)}` : '');

  async function render(
    res: Response,
    query: Record<string, unknown>,
    extra: { errors?: Record<string, string>; values?: Record<string, string> } = {},
    status = 200,
  ) {
    const launch = launchOf(res);
    const platform = await platformOf(launch);
    const filters = auditQuery.safeParse(query);
    const audit = filters.success ? filters.data : {};
    const [profile, failures, entries, actions] = await Promise.all([
      ensureIssuerProfile(ctx, platform._id),
      listFailures(ctx, platform._id, 20),
      auditEntries(ctx, platform._id, audit),
      ctx.models.audit.distinct('action', { platformId: platform._id }) as Promise<string[]>,
    ]);
    const current = profile.keys.find((k) => !k.retiredAt);
    const page = entries.slice(0, AUDIT_PAGE);
    const link = (path: string) => withLtik(path, launch.ltik);
    const token = csrfTokenFor(launch);
    const notice = typeof query.notice === 'string' ? query.notice.slice(0, 300) : null;
    res
      .status(status)
      .set('Cache-Control', 'no-store')
      .render('course/admin', {
        ...pageLocals(launch),
        title: `Laurel · ${launch.platformName}`,
        platformName: launch.platformName,
        hasCourse: launch.courseRef !== null,
        publicUrl: ctx.config.publicUrl,
        csrfToken: token,
        notice,
        errors: extra.errors ?? {},
        errorList: Object.values(extra.errors ?? {}),
        actions: {
          deployments: link(LMS_ADMIN_PATHS.deployments),
          policy: link(LMS_ADMIN_PATHS.policy),
          secret: link(LMS_ADMIN_PATHS.secret),
          issuer: link(LMS_ADMIN_PATHS.issuer),
          rotateKey: link(LMS_ADMIN_PATHS.rotateKey),
          retry: link(LMS_ADMIN_PATHS.retry),
          audit: LMS_ADMIN_PATHS.page,
        },
        platform: platformView(ctx, platform),
        issuer: {
          name: extra.values?.name ?? profile.name,
          url: extra.values?.url ?? profile.url ?? '',
          email: extra.values?.email ?? profile.email ?? '',
          description: extra.values?.description ?? profile.description ?? '',
          key: current?.publicKeyMultibase ?? null,
          keySince: when(current?.createdAt),
          retiredKeys: profile.keys.filter((k) => k.retiredAt).length,
          publicUrl: `${ctx.config.publicUrl}/issuers/${String(profile._id)}`,
        },
        failures: failures.map((f) => ({ ...f, at: when(f.at), label: FAILURE_LABEL[f.kind] })),
        audit: {
          actions: actions.sort().map((a) => ({ value: a, selected: a === audit.action })),
          target: audit.target ?? '',
          invalid: !filters.success,
          entries: page.map((e) => ({
            at: when(e.at),
            action: e.action,
            actor: e.actor.name ?? (e.actor.type === 'system' ? 'Laurel' : e.actor.type),
            target: `${e.target.type} ${e.target.id}`,
            reason: e.reason,
          })),
          ltik: launch.ltik,
          older:
            entries.length > AUDIT_PAGE
              ? link(LMS_ADMIN_PATHS.page) +
                `&${new URLSearchParams({
                  ...(audit.action ? { action: audit.action } : {}),
                  ...(audit.target ? { target: audit.target } : {}),
                  before: String(page[page.length - 1]!._id),
                })}`
              : null,
        },
      });
  }

  router.get(LMS_ADMIN_PATHS.page, session, admin, async (req, res) => {
    await render(res, req.query as Record<string, unknown>);
  });

  router.post(LMS_ADMIN_PATHS.deployments, ...form, async (req, res) => {
    const launch = launchOf(res);
    const input = parseOr400(deploymentForm, req.body ?? {}, 'form');
    const change = input.action === 'approve' ? { add: input.deploymentId } : { remove: input.deploymentId };
    await changeDeployment(ctx, String(launch.platformId), change, actorOf(launch));
    res.redirect(
      303,
      back(
        launch,
        input.action === 'approve'
          ? `Deployment ${input.deploymentId} may launch Laurel now.`
          : `Deployment ${input.deploymentId} was removed: its launches are refused.`,
      ),
    );
  });

  router.post(LMS_ADMIN_PATHS.policy, ...form, async (req, res) => {
    const launch = launchOf(res);
    const input = parseOr400(policyForm, req.body ?? {}, 'form');
    await updatePlatformSettings(
      ctx,
      String(launch.platformId),
      { deploymentPolicy: input.deploymentPolicy },
      actorOf(launch),
    );
    res.redirect(303, back(launch, 'The policy for new deployments was saved.'));
  });

  router.post(LMS_ADMIN_PATHS.secret, ...form, async (req, res) => {
    const launch = launchOf(res);
    parseOr400(z.strictObject({ csrf: z.string() }), req.body ?? {}, 'form');
    const platform = await platformOf(launch);
    const webhookSecret = await rotateWebhookSecret(ctx, String(platform._id), actorOf(launch));
    res.set('Cache-Control', 'no-store').render('course/admin-secret', {
      ...pageLocals(launch),
      title: 'New webhook secret',
      platformName: launch.platformName,
      platform: platformView(ctx, platform),
      webhookSecret,
      backLink: withLtik(LMS_ADMIN_PATHS.page, launch.ltik),
    });
  });

  router.post(LMS_ADMIN_PATHS.issuer, ...form, async (req, res) => {
    const launch = launchOf(res);
    const input = parseOr400(issuerForm, req.body ?? {}, 'form');
    const change = {
      name: input.name.trim(),
      url: orNull(input.url),
      email: orNull(input.email),
      description: orNull(input.description),
    };
    const checked = issuerProfileChangeSchema.safeParse(change);
    if (!checked.success) {
      const errors = Object.fromEntries(
        formatIssues(checked.error).map((d) => [`issuer.${d.path}`, d.message]),
      );
      return render(res, {}, { errors, values: input }, 400);
    }
    const updated = await updateIssuerProfile(ctx, launch.platformId, checked.data);
    await recordAudit(ctx.models, {
      actor: actorOf(launch),
      action: 'issuer.updated',
      platformId: launch.platformId,
      target: { type: 'issuer', id: String(updated._id) },
      details: { fields: Object.keys(change) },
    });
    res.redirect(303, back(launch, 'The issuer profile was saved; new badges show it.'));
  });

  router.post(LMS_ADMIN_PATHS.rotateKey, ...form, async (req, res) => {
    const launch = launchOf(res);
    parseOr400(z.strictObject({ csrf: z.string() }), req.body ?? {}, 'form');
    const rotated = await rotateIssuerKey(ctx, launch.platformId);
    await recordAudit(ctx.models, {
      actor: actorOf(launch),
      action: 'issuer.key.rotated',
      platformId: launch.platformId,
      target: { type: 'issuer', id: String(rotated._id) },
    });
    res.redirect(
      303,
      back(launch, 'New badges are signed with a new key; badges signed before still verify.'),
    );
  });

  router.post(LMS_ADMIN_PATHS.retry, ...form, async (req, res) => {
    const launch = launchOf(res);
    const input = parseOr400(retryForm, req.body ?? {}, 'form');
    await retryFailure(ctx, launch.platformId, input.kind as FailureKind, input.id, actorOf(launch));
    res.redirect(303, back(launch, `The ${FAILURE_LABEL[input.kind as FailureKind]} is being tried again.`));
  });

  return router;
}

const FAILURE_LABEL: Record<FailureKind, string> = {
  event: 'learning event',
  credential: 'badge issuance',
  gradebook: 'gradebook reading',
};

function platformView(ctx: Context, p: PlatformDoc) {
  const id = String(p._id);
  return {
    id,
    name: p.name,
    lms: LMS_LABEL[p.lms],
    isMoodle: p.lms === 'moodle',
    isCanvas: p.lms === 'canvas',
    issuer: p.issuer,
    clientId: p.clientId,
    registeredBy: p.registeredBy,
    registeredAt: when(p.createdAt),
    deploymentIds: p.deploymentIds,
    deploymentPolicy: deploymentPolicyOf(p),
    policyAuto: deploymentPolicyOf(p) === 'auto',
    pendingDeployments: (p.pendingDeployments ?? []).map((d) => ({
      deploymentId: d.deploymentId,
      firstSeenAt: when(d.firstSeenAt),
      lastSeenAt: when(d.lastSeenAt),
    })),
    eventsUrl: `${ctx.config.publicUrl}/api/v1/events`,
    moodleWebhookUrl: `${ctx.config.publicUrl}/api/v1/webhooks/moodle/${id}`,
    canvasDeliveryUrl: p.lms === 'canvas' ? liveEventsDeliveryUrl(ctx.config.publicUrl, p) : null,
    moodlePluginUrl: MOODLE_PLUGIN_PATH,
    laurelUrl: ctx.config.publicUrl,
  };
}

/** The platform's audit entries, newest first, filtered by action and target id; one extra for paging. */
function auditEntries(
  ctx: Context,
  platformId: Types.ObjectId,
  q: { action?: string; target?: string; before?: string },
): Promise<AuditEntryDoc[]> {
  const filter: Record<string, unknown> = { platformId };
  if (q.action) filter.action = q.action;
  if (q.target) filter['target.id'] = q.target;
  if (q.before) filter._id = { $lt: new Types.ObjectId(q.before) };
  return ctx.models.audit
    .find(filter)
    .sort({ _id: -1 })
    .limit(AUDIT_PAGE + 1)
    .lean<AuditEntryDoc[]>();
}
