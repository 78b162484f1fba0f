import { randomBytes } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Context } from '../../context.js';
import type { BadgeCollectionDoc, CollectionItem } from '../../db/models/badgeCollection.js';
import type { CredentialDoc } from '../../db/models/credential.js';
import type { ImportedBadgeDoc } from '../../db/models/importedBadge.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { badRequest, conflict, HttpError, notFound } from '../../errors.js';
import { itemKey, MAX_ITEMS, moved, parseItemKey } from '../../backpack/collections.js';
import { earnedBadges } from '../../backpack/record.js';
import { ofPeople } from '../../backpack/sessions.js';
import { holderKey } from '../../backpack/visibility.js';
import { setFrameAncestors } from '../framing.js';
import { imageOf } from '../course/instructor.js';
import { rateLimit } from '../public/rateLimit.js';
import { BACKPACK, backpackOf, formBody, requireBackpackCsrf } from './session.js';

const details = z.object({
  name: z.string().trim().min(1, 'Give the collection a name.').max(120, 'At most 120 characters.'),
  description: z.string().trim().max(2000, 'At most 2,000 characters.').optional().default(''),
});

const escapeAttribute = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );

type Shown = { key: string; name: string; image: string | null; issuer: string | null; url: string | null };

/** The items of a collection as shown: only what still exists and belongs to its owner, in order. */
async function itemsOf(ctx: Context, c: BadgeCollectionDoc, forPublic: boolean): Promise<Shown[]> {
  const owner = { platformId: c.platformId, personId: c.personId };
  const credentialIds = c.items.filter((i) => i.kind === 'credential').map((i) => i.id);
  const importedIds = c.items.filter((i) => i.kind === 'imported').map((i) => i.id);
  const [credentials, imported, sharings] = await Promise.all([
    ctx.models.credentials
      .find({ _id: { $in: credentialIds }, ...owner }, { signed: 0, evidence: 0 })
      .lean<CredentialDoc[]>(),
    ctx.models.importedBadges
      .find({ _id: { $in: importedIds }, ...owner }, { payload: 0 })
      .lean<ImportedBadgeDoc[]>(),
    ctx.models.badgeSharings.find({ _id: { $in: credentialIds } }).lean(),
  ]);
  const templates = await ctx.models.templates
    .find({ _id: { $in: credentials.map((x) => x.templateId) } }, { name: 1, imageId: 1 })
    .lean<TemplateDoc[]>();
  const templateOf = new Map(templates.map((t) => [String(t._id), t]));
  const sharingOf = new Map(sharings.map((s) => [String(s._id), s]));
  const credentialOf = new Map(credentials.map((x) => [String(x._id), x]));
  const importedOf = new Map(imported.map((x) => [String(x._id), x]));
  const base = ctx.config.publicUrl;
  return c.items.flatMap((item): Shown[] => {
    const key = itemKey(item);
    if (item.kind === 'imported') {
      const b = importedOf.get(String(item.id));
      if (!b) return [];
      return [
        {
          key,
          name: b.name,
          image: b.imageUrl,
          issuer: b.issuerName,
          url: forPublic ? null : `${BACKPACK}/imports/${String(b._id)}`,
        },
      ];
    }
    const x = credentialOf.get(String(item.id));
    const t = x && templateOf.get(String(x.templateId));
    if (!x || !t) return [];
    const sharing = sharingOf.get(String(x._id));
    // A shared collection shows no hidden badge; a link-only one through its holder's link.
    if (forPublic && sharing?.visibility === 'hidden') return [];
    const key2 = sharing?.visibility === 'link' ? `?key=${holderKey(ctx.config, x._id)}` : '';
    return [
      {
        key,
        name: t.name,
        image: imageOf(t),
        issuer: null,
        url: forPublic
          ? `${base}/credentials/${String(x._id)}${key2}`
          : `${BACKPACK}/badges/${String(x._id)}`,
      },
    ];
  });
}

/** Collections of the session's badges: create, edit, order, share by link and embed, withdraw. */
export function collectionsRouter(ctx: Context, session: RequestHandler): Router {
  const router = Router();
  const base = ctx.config.publicUrl;
  const write = [session, formBody, requireBackpackCsrf];

  const own = async (res: Response, id: string) => {
    if (!/^[0-9a-f]{24}$/.test(id)) throw notFound(`Collection ${id}`);
    const c = await ctx.models.badgeCollections
      .findOne({ _id: new Types.ObjectId(id), ...ofPeople(backpackOf(res).session.people) })
      .lean<BadgeCollectionDoc>();
    if (!c) throw notFound(`Collection ${id}`);
    return c;
  };
  /** Writes `set` only if nobody changed the collection since it was read (else 409). */
  const save = async (c: BadgeCollectionDoc, set: Partial<BadgeCollectionDoc>) => {
    const done = await ctx.models.badgeCollections.updateOne(
      { _id: c._id, updatedAt: c.updatedAt },
      { $set: { ...set, updatedAt: new Date(Math.max(ctx.now().getTime(), c.updatedAt.getTime() + 1)) } },
    );
    if (done.matchedCount === 0)
      throw conflict('The collection changed in another window: reload the page and try again.');
  };
  const back = (res: Response, c: BadgeCollectionDoc) =>
    res.redirect(303, `${BACKPACK}/collections/${String(c._id)}`);

  router.get(`${BACKPACK}/collections`, session, async (_req, res) => {
    const bp = backpackOf(res);
    const list = await ctx.models.badgeCollections
      .find(ofPeople(bp.session.people), { name: 1, items: 1, shareId: 1 })
      .sort({ createdAt: -1 })
      .limit(200)
      .lean<BadgeCollectionDoc[]>();
    res.render('backpack/collections', {
      title: 'My collections',
      csrf: bp.csrf,
      nav: { collections: true },
      collections: list.map((c) => ({
        name: c.name,
        count: c.items.length,
        shared: Boolean(c.shareId),
        link: `${BACKPACK}/collections/${String(c._id)}`,
      })),
    });
  });

  const parseDetails = (req: Request) => {
    const parsed = details.safeParse(req.body ?? {});
    if (!parsed.success)
      throw badRequest(
        parsed.error.issues[0]!.message,
        parsed.error.issues.map((i) => ({ path: String(i.path[0] ?? 'name'), message: i.message })),
      );
    return parsed.data;
  };

  router.post(`${BACKPACK}/collections`, ...write, async (req, res) => {
    const { name, description } = parseDetails(req);
    const owner = backpackOf(res).session.people[0]!;
    const now = ctx.now();
    const c = await ctx.models.badgeCollections.create({
      platformId: owner.platformId,
      personId: owner.personId,
      name,
      description,
      items: [],
      createdAt: now,
      updatedAt: now,
    });
    res.redirect(303, `${BACKPACK}/collections/${String(c._id)}`);
  });

  router.get(`${BACKPACK}/collections/:id`, session, async (req, res) => {
    const bp = backpackOf(res);
    const c = await own(res, req.params.id as string);
    const [items, earned, imported] = await Promise.all([
      itemsOf(ctx, c, false),
      earnedBadges(ctx, [{ platformId: c.platformId, personId: c.personId }]),
      ctx.models.importedBadges
        .find({ platformId: c.platformId, personId: c.personId }, { name: 1 })
        .limit(500)
        .lean<ImportedBadgeDoc[]>(),
    ]);
    const inIt = new Set(c.items.map(itemKey));
    const candidates = [
      ...earned.map((e) => ({
        key: itemKey({ kind: 'credential', id: e.credential._id }),
        name: e.template.name,
      })),
      ...imported.map((b) => ({
        key: itemKey({ kind: 'imported', id: b._id }),
        name: `${b.name} (earned elsewhere)`,
      })),
    ].filter((x) => !inIt.has(x.key));
    const shareUrl = c.shareId ? `${base}${BACKPACK}/shared/${c.shareId}` : null;
    res.render('backpack/collection', {
      title: c.name,
      csrf: bp.csrf,
      nav: { collections: true },
      id: String(c._id),
      name: c.name,
      description: c.description,
      items: items.map((item, index) => ({
        ...item,
        index,
        first: index === 0,
        last: index === items.length - 1,
      })),
      candidates,
      share: shareUrl
        ? {
            url: shareUrl,
            embedHtml: `<iframe src="${shareUrl}/embed" title="${escapeAttribute(`Badges: ${c.name}`)}" style="width:100%;max-width:640px;height:480px;border:0" loading="lazy"></iframe>`,
          }
        : null,
    });
  });

  router.post(`${BACKPACK}/collections/:id`, ...write, async (req, res) => {
    const c = await own(res, req.params.id as string);
    await save(c, parseDetails(req));
    back(res, c);
  });

  router.post(`${BACKPACK}/collections/:id/items`, ...write, async (req, res) => {
    const c = await own(res, req.params.id as string);
    const ref = parseItemKey((req.body as Record<string, unknown>).item);
    if (!ref)
      throw badRequest('Choose a badge to add.', [{ path: 'item', message: 'is not one of your badges' }]);
    const owner = { _id: new Types.ObjectId(ref.id), platformId: c.platformId, personId: c.personId };
    const exists =
      ref.kind === 'credential'
        ? await ctx.models.credentials.exists(owner)
        : await ctx.models.importedBadges.exists(owner);
    if (!exists)
      throw badRequest('Choose a badge to add.', [{ path: 'item', message: 'is not one of your badges' }]);
    const item: CollectionItem = { kind: ref.kind, id: owner._id };
    if (c.items.some((i) => itemKey(i) === itemKey(item)))
      throw conflict('That badge is in the collection already.');
    if (c.items.length >= MAX_ITEMS) throw badRequest(`A collection holds at most ${MAX_ITEMS} badges.`);
    await save(c, { items: [...c.items, item] });
    back(res, c);
  });

  router.post(`${BACKPACK}/collections/:id/items/:index`, ...write, async (req, res) => {
    const c = await own(res, req.params.id as string);
    const index = Number(req.params.index);
    if (!Number.isInteger(index) || index < 0 || index >= c.items.length)
      throw new HttpError(404, 'not_found', 'That badge is no longer in the collection: reload the page.');
    const action = (req.body as Record<string, unknown>).action;
    if (action === 'remove') await save(c, { items: c.items.filter((_, i) => i !== index) });
    else if (action === 'up' || action === 'down') await save(c, { items: moved(c.items, index, action) });
    else
      throw badRequest('Choose up, down or remove.', [{ path: 'action', message: 'is up, down or remove' }]);
    back(res, c);
  });

  router.post(`${BACKPACK}/collections/:id/share`, ...write, async (req, res) => {
    const c = await own(res, req.params.id as string);
    if (!c.shareId) await save(c, { shareId: randomBytes(16).toString('base64url') });
    back(res, c);
  });

  router.post(`${BACKPACK}/collections/:id/unshare`, ...write, async (req, res) => {
    const c = await own(res, req.params.id as string);
    if (c.shareId) await save(c, { shareId: null, withdrawnShareIds: [...c.withdrawnShareIds, c.shareId] });
    back(res, c);
  });

  router.post(`${BACKPACK}/collections/:id/delete`, ...write, async (req, res) => {
    const c = await own(res, req.params.id as string);
    await ctx.models.badgeCollections.deleteOne({ _id: c._id });
    res.redirect(303, `${BACKPACK}/collections`);
  });

  // The shared page and its embed: public, no session; a withdrawn link answers 410.
  const sharedLimit = rateLimit(ctx, { bucket: 'collections', limit: 600, windowMs: 60_000 });
  const shared = async (id: string) => {
    if (!/^[A-Za-z0-9_-]{22}$/.test(id)) throw notFound('Collection');
    const c = await ctx.models.badgeCollections.findOne({ shareId: id }).lean<BadgeCollectionDoc>();
    if (c) return c;
    if (await ctx.models.badgeCollections.exists({ withdrawnShareIds: id }))
      throw new HttpError(410, 'gone', 'Its owner no longer shares this collection.');
    throw notFound('Collection');
  };
  const renderShared = (embed: boolean) => async (req: Request, res: Response) => {
    const c = await shared(req.params.shareId as string);
    const [items, person] = await Promise.all([
      itemsOf(ctx, c, true),
      ctx.models.people.findById(c.personId, { name: 1 }).lean(),
    ]);
    res.setHeader('Cache-Control', 'no-store');
    if (embed) setFrameAncestors(res, ['*']);
    res.render('backpack/shared', {
      ...(embed ? { layout: false } : {}),
      embed,
      title: c.name,
      name: c.name,
      description: c.description,
      owner: person?.name?.trim() || 'A learner',
      items,
    });
  };
  router.get(`${BACKPACK}/shared/:shareId`, sharedLimit, renderShared(false));
  router.get(`${BACKPACK}/shared/:shareId/embed`, sharedLimit, renderShared(true));
  return router;
}
