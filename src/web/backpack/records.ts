import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { CredentialDoc } from '../../db/models/credential.js';
import type { PersonDoc } from '../../db/models/person.js';
import type { PlatformDoc } from '../../db/models/platform.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { badRequest, notFound } from '../../errors.js';
import type { PersonRef } from '../../backpack/sessions.js';
import { holderKey } from '../../backpack/visibility.js';
import { recordCredentials, recordFilter, signedLearnerRecord } from '../../records/learnerRecord.js';
import {
  chooseIncluded,
  findOwnShare,
  sharedRecord,
  shareRecord,
  visibleChosen,
  withdrawRecord,
} from '../../records/shares.js';
import { imageOf } from '../course/instructor.js';
import { formatDate } from '../public/present.js';
import { rateLimit } from '../public/rateLimit.js';
import { BACKPACK, backpackOf, requireBackpackCsrf } from './session.js';

/** The learner record's pages under /backpack: download, choose what the public record shows, share. */
export const RECORD = `${BACKPACK}/record`;
export const SHARED_RECORDS = `${BACKPACK}/records`;

/** The choice form names one field per badge: up to the record's limit, so more than formBody's 20. */
const choiceBody: RequestHandler = express.urlencoded({
  extended: false,
  limit: 64 * 1024,
  parameterLimit: 600,
  inflate: false,
});

/** The session's person on a platform (`?platform=` or the form's `platform`), default the first. */
function ownerOf(res: Response, platform: unknown): PersonRef {
  const people = backpackOf(res).session.people;
  if (platform === undefined || platform === '') return people[0]!;
  const person = people.find((p) => String(p.platformId) === platform);
  if (!person) throw notFound(`Your record on platform ${String(platform).slice(0, 40)}`);
  return person;
}

const attachmentName = (name: string | null | undefined, at: Date) =>
  `learner-record-${(name ?? 'learner').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'learner'}-${at.toISOString().slice(0, 10)}.json`;

async function personOf(ctx: Context, owner: PersonRef): Promise<PersonDoc> {
  const person = await ctx.models.people
    .findOne({ _id: owner.personId, platformId: owner.platformId })
    .lean<PersonDoc>();
  if (!person) throw notFound('Your learner record');
  return person;
}

async function templatesOf(ctx: Context, credentials: CredentialDoc[]) {
  const templates = await ctx.models.templates
    .find(
      { _id: { $in: credentials.map((c) => c.templateId) } },
      { name: 1, imageId: 1, externalImageUrl: 1 },
    )
    .lean<TemplateDoc[]>();
  return new Map(templates.map((t) => [String(t._id), t]));
}

/**
 * The learner record (Comprehensive Learner Record 2.0) in the backpack: the signed download of
 * everything the learner holds, and a public page (with its own download) showing only the badges
 * the learner chose, never a hidden one; withdrawing its link makes it answer 410.
 */
export function recordsRouter(ctx: Context, session: RequestHandler): Router {
  const router = Router();
  const base = ctx.config.publicUrl;
  const write = [session, choiceBody, requireBackpackCsrf];
  const back = (res: Response, owner: PersonRef, saved = '') =>
    res.redirect(303, `${RECORD}/share?platform=${String(owner.platformId)}${saved}`);

  router.get(`${RECORD}/clr.json`, session, async (req, res) => {
    const person = await personOf(ctx, ownerOf(res, req.query.platform));
    const record = await signedLearnerRecord(ctx, person);
    res.set('Content-Disposition', `attachment; filename="${attachmentName(person.name, ctx.now())}"`);
    res.type('application/ld+json').send(JSON.stringify(record, null, 2));
  });

  router.get(`${RECORD}/share`, session, async (req, res) => {
    const bp = backpackOf(res);
    const owner = ownerOf(res, req.query.platform);
    const [credentials, share, sharings, platform] = await Promise.all([
      recordCredentials(ctx, { _id: owner.personId, platformId: owner.platformId }),
      findOwnShare(ctx, owner),
      ctx.models.badgeSharings.find({ platformId: owner.platformId, personId: owner.personId }).lean(),
      ctx.models.platforms.findById(owner.platformId, { name: 1 }).lean<PlatformDoc>(),
    ]);
    const templateOf = await templatesOf(ctx, credentials);
    const hidden = new Set(sharings.filter((s) => s.visibility === 'hidden').map((s) => String(s._id)));
    const chosen = new Set((share?.credentialIds ?? []).map(String));
    res.render('backpack/record-share', {
      title: 'Share my learner record',
      csrf: bp.csrf,
      nav: { record: true },
      platform: String(owner.platformId),
      platformName: bp.session.people.length > 1 ? (platform?.name ?? null) : null,
      saved: req.query.saved === '1',
      badges: credentials.flatMap((c) => {
        const t = templateOf.get(String(c.templateId));
        if (!t) return [];
        const id = String(c._id);
        return [
          {
            id,
            name: t.name,
            image: imageOf(t),
            on: formatDate(c.awardedAt),
            hidden: hidden.has(id),
            checked: chosen.has(id) && !hidden.has(id),
          },
        ];
      }),
      share: share?.shareId ? { url: `${base}${SHARED_RECORDS}/${share.shareId}` } : null,
    });
  });

  router.post(`${RECORD}/share/choose`, ...write, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const owner = ownerOf(res, body.platform);
    const include = body.include === undefined ? [] : [body.include].flat();
    if (include.some((v) => typeof v !== 'string'))
      throw badRequest('Choose badges from the list.', [
        { path: 'include', message: 'is not a list of badges' },
      ]);
    await chooseIncluded(ctx, owner, include as string[]);
    back(res, owner, '&saved=1');
  });

  router.post(`${RECORD}/share/link`, ...write, async (req, res) => {
    const owner = ownerOf(res, (req.body as Record<string, unknown>).platform);
    await shareRecord(ctx, owner);
    back(res, owner);
  });

  router.post(`${RECORD}/share/withdraw`, ...write, async (req, res) => {
    const owner = ownerOf(res, (req.body as Record<string, unknown>).platform);
    await withdrawRecord(ctx, owner);
    back(res, owner);
  });

  // The public record and its download: no session; an unknown link is 404, a withdrawn one 410.
  const sharedLimit = rateLimit(ctx, { bucket: 'learner-records', limit: 300, windowMs: 60_000 });
  // Each download signs a record (about a second of work for dozens of badges): far fewer of those.
  const downloadLimit = rateLimit(ctx, { bucket: 'learner-record-downloads', limit: 20, windowMs: 60_000 });
  const noStore: RequestHandler = (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  };

  router.get(`${SHARED_RECORDS}/:shareId`, sharedLimit, noStore, async (req: Request, res: Response) => {
    const share = await sharedRecord(ctx, req.params.shareId as string);
    const [credentials, person] = await Promise.all([
      visibleChosen(ctx, share),
      ctx.models.people.findById(share.personId, { name: 1 }).lean<PersonDoc>(),
    ]);
    const templateOf = await templatesOf(ctx, credentials);
    const sharings = await ctx.models.badgeSharings
      .find({ _id: { $in: credentials.map((c) => c._id) }, visibility: 'link' }, { _id: 1 })
      .lean<{ _id: Types.ObjectId }[]>();
    const linkOnly = new Set(sharings.map((s) => String(s._id)));
    res.render('backpack/record-shared', {
      title: 'Learner record',
      owner: person?.name?.trim() || 'A learner',
      badges: credentials.flatMap((c) => {
        const t = templateOf.get(String(c.templateId));
        if (!t) return [];
        const key = linkOnly.has(String(c._id)) ? `?key=${holderKey(ctx.config, c._id)}` : '';
        return [
          {
            name: t.name,
            image: imageOf(t),
            on: formatDate(c.awardedAt),
            url: `${base}/credentials/${String(c._id)}${key}`,
          },
        ];
      }),
      download: `${SHARED_RECORDS}/${share.shareId}/clr.json`,
    });
  });

  router.get(`${SHARED_RECORDS}/:shareId/clr.json`, downloadLimit, noStore, async (req, res) => {
    const share = await sharedRecord(ctx, req.params.shareId as string);
    const credentials = await visibleChosen(ctx, share);
    if (credentials.length === 0) throw notFound('A badge in this learner record');
    const person = await ctx.models.people.findById(share.personId).lean<PersonDoc>();
    if (!person) throw notFound('Learner record');
    const record = await signedLearnerRecord(ctx, person, { only: credentials.map((c) => c._id) });
    res.set('Content-Disposition', `attachment; filename="${attachmentName(person.name, ctx.now())}"`);
    res.type('application/ld+json').send(JSON.stringify(record, null, 2));
  });

  return router;
}

/** The My Record page's links to the learner record: one per platform where the learner holds a badge. */
export async function recordLinks(ctx: Context, people: readonly PersonRef[]) {
  const found = await Promise.all(
    people.map(async (p) => {
      const [held, platform] = await Promise.all([
        ctx.models.credentials.countDocuments(
          recordFilter(ctx, { _id: p.personId, platformId: p.platformId }),
        ),
        people.length > 1
          ? ctx.models.platforms.findById(p.platformId, { name: 1 }).lean<PlatformDoc>()
          : Promise.resolve(null),
      ]);
      if (held === 0) return null;
      const id = String(p.platformId);
      return {
        platformName: platform?.name ?? null,
        download: `${RECORD}/clr.json?platform=${id}`,
        share: `${RECORD}/share?platform=${id}`,
      };
    }),
  );
  return found.filter((r) => r !== null);
}
