import { createHash } from 'node:crypto';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Context } from '../../context.js';
import type { ImportedBadgeDoc } from '../../db/models/importedBadge.js';
import { HttpError, isDuplicateKey, notFound } from '../../errors.js';
import type { VerificationResult } from '../../issuers/openbadges/verify.js';
import { payloadOf, summaryOf, verifyPayload, type ImportInput } from '../../backpack/imports.js';
import { ofPeople } from '../../backpack/sessions.js';
import { sameToken } from '../../backpack/tokens.js';
import { defaultBadgeSvg } from '../../images/defaultBadge.js';
import { formatDate } from '../public/present.js';
import { rateLimit } from '../public/rateLimit.js';
import { BACKPACK, backpackOf, formBody, requireBackpackCsrf } from './session.js';

const MiB = 1024 * 1024;
const upload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: 2 * MiB, files: 1, fields: 5, fieldSize: 512 * 1024, parts: 6, headerPairs: 20 },
}).single('file');

/** The import form: multipart (a file) or urlencoded; bounded, read only after the session is known. */
const importBody: RequestHandler = (req, res, next) => {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > 3 * MiB) {
    res.set('Connection', 'close');
    return next(new HttpError(413, 'too_large', 'The form is too large: at most 3 MiB.'));
  }
  if (req.is('multipart/form-data'))
    return upload(req, res, (err?: unknown) => {
      if (!err) return next();
      const code = (err as { code?: string }).code;
      if (code === 'LIMIT_FILE_SIZE')
        return next(new HttpError(413, 'too_large', 'The file is larger than 2 MiB.'));
      next(
        new HttpError(
          400,
          'invalid_request',
          'The form could not be read: send one file and the fields of the form.',
        ),
      );
    });
  return formBody(req, res, next);
};

/** multer reads the whole (bounded) body, so the CSRF field is checked after it, before anything else. */
const csrfAfterUpload: RequestHandler = (req, res, next) => {
  if (!sameToken((req.body as Record<string, unknown> | undefined)?.csrf, backpackOf(res).csrf))
    return next(
      new HttpError(403, 'invalid_form', 'This form could not be accepted: reload the page and try again.'),
    );
  next();
};

const fields = z.object({
  json: z
    .string()
    .max(512 * 1024)
    .optional()
    .default(''),
  url: z.string().max(2000).optional().default(''),
});

function inputOf(req: Request): ImportInput {
  const parsed = fields.safeParse(req.body ?? {});
  if (!parsed.success)
    throw new HttpError(400, 'invalid_request', 'The pasted badge or the URL is too long.');
  const { json, url } = parsed.data;
  const given = [req.file ? 1 : 0, json.trim() ? 1 : 0, url.trim() ? 1 : 0].reduce((a, b) => a + b, 0);
  if (given !== 1)
    throw new HttpError(
      400,
      'invalid_request',
      'Give one badge: a baked PNG or SVG file, its JSON, or its URL.',
      [{ path: 'file', message: 'give exactly one of file, json or url' }],
    );
  if (req.file) return { source: 'file', bytes: req.file.buffer };
  if (url.trim()) {
    if (!/^https?:\/\/\S+$/.test(url.trim()))
      throw new HttpError(400, 'invalid_request', 'The URL must start with https:// (or http://).', [
        { path: 'url', message: 'is not an http(s) URL' },
      ]);
    return { source: 'url', url };
  }
  return { source: 'text', text: json };
}

const checksOf = (checks: VerificationResult['checks']) =>
  checks.map((c) => ({ ok: c.ok, check: c.check, message: c.message }));

function view(doc: ImportedBadgeDoc) {
  return {
    id: String(doc._id),
    name: doc.name,
    description: doc.description,
    issuerName: doc.issuerName,
    issuerUrl: doc.issuerUrl,
    imageUrl: doc.imageUrl,
    // Its own picture when it names one over https, else a default picture made from its name.
    picture: doc.imageUrl ?? `${BACKPACK}/imports/${String(doc._id)}/picture.svg`,
    format: doc.format,
    valid: doc.verification.valid,
    checks: checksOf(doc.verification.checks),
    checkedAt: formatDate(doc.verification.at),
    added: formatDate(doc.createdAt),
    link: `${BACKPACK}/imports/${String(doc._id)}`,
  };
}

/** Badges earned elsewhere: add (verified first), show (verified again), remove. */
export function importsRouter(ctx: Context, session: RequestHandler): Router {
  const router = Router();
  // Each import may fetch other issuers' documents: a few a minute per client network.
  const importLimit = rateLimit(ctx, { bucket: 'backpack-import', limit: 20, windowMs: 60_000 });

  const own = async (res: Response, id: string) => {
    if (!/^[0-9a-f]{24}$/.test(id)) throw notFound(`Badge ${id}`);
    const doc = await ctx.models.importedBadges
      .findOne({ _id: new Types.ObjectId(id), ...ofPeople(backpackOf(res).session.people) })
      .lean<ImportedBadgeDoc>();
    if (!doc) throw notFound(`Badge ${id}`);
    return doc;
  };

  router.get(`${BACKPACK}/imports/new`, session, (_req, res) => {
    res.render('backpack/import', {
      title: 'Add a badge earned elsewhere',
      csrf: backpackOf(res).csrf,
      nav: { badges: true },
    });
  });

  router.post(
    `${BACKPACK}/imports`,
    session,
    importLimit,
    importBody,
    csrfAfterUpload,
    async (req, res, next: NextFunction) => {
      const bp = backpackOf(res);
      const input = inputOf(req);
      const { payload, encoding } = payloadOf(input);
      const result = await verifyPayload(ctx, payload, encoding);
      if (!result.valid) {
        res.status(422).render('backpack/import', {
          title: 'Add a badge earned elsewhere',
          csrf: bp.csrf,
          nav: { badges: true },
          refused: { checks: checksOf(result.checks).filter((c) => !c.ok) },
          url: input.source === 'url' ? input.url : '',
          json: input.source === 'text' ? input.text : '',
        });
        return;
      }
      const summary = summaryOf(result);
      const owner = bp.session.people[0]!;
      try {
        const doc = await ctx.models.importedBadges.create({
          platformId: owner.platformId,
          personId: owner.personId,
          source: input.source,
          payload,
          payloadEncoding: encoding,
          format: result.format,
          badgeId: summary.badgeId ?? `sha256:${createHash('sha256').update(payload).digest('hex')}`,
          name: summary.name,
          description: summary.description,
          issuerName: summary.issuerName,
          issuerUrl: summary.issuerUrl,
          imageUrl: summary.imageUrl,
          verification: { valid: true, checks: result.checks, at: ctx.now() },
          createdAt: ctx.now(),
        });
        res.redirect(303, `${BACKPACK}/imports/${String(doc._id)}`);
      } catch (err) {
        if (!isDuplicateKey(err)) return next(err);
        throw new HttpError(409, 'conflict', 'This badge is in your backpack already.');
      }
    },
  );

  router.get(`${BACKPACK}/imports/:id`, session, async (req, res) => {
    const doc = await own(res, req.params.id as string);
    // Verified again when shown: the issuer may have revoked it since.
    const result = await verifyPayload(ctx, doc.payload, doc.payloadEncoding);
    const verification = { valid: result.valid, checks: result.checks, at: ctx.now() };
    await ctx.models.importedBadges.updateOne({ _id: doc._id }, { $set: { verification } });
    res.render('backpack/imported', {
      title: doc.name,
      csrf: backpackOf(res).csrf,
      nav: { badges: true },
      badge: view({ ...doc, verification }),
    });
  });

  router.get(`${BACKPACK}/imports/:id/picture.svg`, session, async (req, res) => {
    const doc = await own(res, req.params.id as string);
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    res.type('image/svg+xml').send(defaultBadgeSvg(doc.name, String(doc._id)));
  });

  router.post(`${BACKPACK}/imports/:id/delete`, session, formBody, requireBackpackCsrf, async (req, res) => {
    const doc = await own(res, req.params.id as string);
    await ctx.models.importedBadges.deleteOne({ _id: doc._id });
    res.redirect(303, `${BACKPACK}/badges`);
  });
  return router;
}

/** The session's imported badges, newest first (for My Badges). */
export async function importedBadges(ctx: Context, res: Response) {
  const docs = await ctx.models.importedBadges
    .find(ofPeople(backpackOf(res).session.people), { payload: 0 })
    .sort({ createdAt: -1 })
    .limit(500)
    .lean<ImportedBadgeDoc[]>();
  return docs.map(view);
}
