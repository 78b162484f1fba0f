import type { Types } from 'mongoose';
import { SYSTEM, recordAudit } from '../audit/record.js';
import type { Context } from '../context.js';
import type { ProviderName, ProviderSettingsDoc } from '../db/models/providerSettings.js';
import type { TemplateDoc } from '../db/models/template.js';
import type { AccredibleGroup } from './accredible.js';
import type { CredlyTemplate } from './credly.js';
import type { ProviderDeps } from './http.js';
import { storedClient } from './settings.js';

/**
 * Template sync: every template of the service becomes (or updates) a badge template of the
 * platform with `source` and `externalId`. A new one is a draft for every course of the platform,
 * which instructors give requirements and activate like a local one. One that is no longer active
 * upstream (archived, draft, or gone from the listing) becomes `inactive` here; none is ever deleted,
 * so credentials keep pointing at their template.
 */

/** What Laurel keeps of a service's template. */
export type UpstreamTemplate = {
  externalId: string;
  name: string;
  description: string;
  externalUrl: string | null;
  externalImageUrl: string | null;
  /** The state there: `active` issues; anything else cannot. */
  externalState: string;
};

export const fromCredly = (t: CredlyTemplate): UpstreamTemplate => ({
  externalId: t.id,
  name: (t.name ?? '').trim().slice(0, 200) || t.id,
  description: (t.description ?? '').slice(0, 5000),
  externalUrl: t.url ?? null,
  externalImageUrl: t.image_url ?? null,
  externalState: t.state,
});

export const fromAccredible = (g: AccredibleGroup, image: string | null): UpstreamTemplate => ({
  externalId: String(g.id),
  // course_name is what recipients see; name is the issuer's internal label.
  name: ((g.course_name ?? '').trim() || g.name).slice(0, 200),
  description: (g.course_description ?? '').slice(0, 5000),
  externalUrl: g.course_link ?? null,
  externalImageUrl: image,
  externalState: 'active',
});

/**
 * Creates or updates one synced template; answers whether something changed. The platform-wide
 * entry (no course) is the catalogue instructors pick from; each course that picked it holds its own
 * copy with its own requirements, and every copy follows the service's changes. An upstream state
 * other than `active` withdraws them all (no new awards); none is reactivated by a sync, since only
 * an instructor decides that a badge is awarded.
 */
export async function upsertUpstreamTemplate(
  ctx: Context,
  platformId: Types.ObjectId,
  source: ProviderName,
  up: UpstreamTemplate,
): Promise<'created' | 'updated' | 'unchanged'> {
  const copies = await ctx.models.templates
    .find({ platformId, source, externalId: up.externalId })
    .lean<TemplateDoc[]>();
  const usable = up.externalState === 'active';
  if (copies.length === 0) {
    await ctx.models.templates.create({
      platformId,
      courseId: null,
      courseRef: null,
      source,
      externalId: up.externalId,
      externalUrl: up.externalUrl,
      externalImageUrl: up.externalImageUrl,
      externalState: up.externalState,
      name: up.name,
      description: up.description,
      state: usable ? 'draft' : 'inactive',
    });
    return 'created';
  }
  let changed = false;
  for (const current of copies) {
    const set: Record<string, unknown> = {};
    for (const key of ['name', 'description', 'externalUrl', 'externalImageUrl', 'externalState'] as const)
      if ((current[key] ?? null) !== (up[key] ?? null)) set[key] = up[key];
    if (!usable && current.state !== 'inactive') set.state = 'inactive';
    if (Object.keys(set).length === 0) continue;
    changed = true;
    await ctx.models.templates.updateOne({ _id: current._id }, { $set: set, $inc: { version: 1 } });
    if (set.state === 'inactive')
      await recordAudit(ctx.models, {
        actor: SYSTEM,
        action: 'template.withdrawn',
        platformId,
        courseRef: current.courseRef,
        target: { type: 'template', id: String(current._id) },
        reason: `${source === 'credly' ? 'Credly' : 'Accredible'} template is ${up.externalState}`,
        details: { from: current.state, to: 'inactive' },
      });
  }
  return changed ? 'updated' : 'unchanged';
}

/** How long one worker may hold a service's sync before another may take it over. */
const SYNC_LEASE_MS = 10 * 60_000;

export type SyncResult = { templates: number; created: number; updated: number; vanished: number };

/**
 * Syncs all of a service's templates for one platform. Held by a lease on the settings, so two
 * workers (or the button and the recurring job) never sync the same service at once. Answers null
 * when another sync holds the lease.
 */
export async function syncTemplates(
  ctx: Context,
  platformId: Types.ObjectId,
  provider: ProviderName,
  deps?: ProviderDeps,
): Promise<SyncResult | null> {
  const now = ctx.now();
  const settings = await ctx.models.providerSettings
    .findOneAndUpdate(
      { platformId, provider, $or: [{ syncingUntil: null }, { syncingUntil: { $lte: now } }] },
      { $set: { syncingUntil: new Date(now.getTime() + SYNC_LEASE_MS) } },
      { returnDocument: 'after' },
    )
    .lean<ProviderSettingsDoc>();
  if (!settings) return null;
  try {
    const upstream = await fetchUpstream(ctx, settings, deps);
    const result: SyncResult = { templates: upstream.length, created: 0, updated: 0, vanished: 0 };
    for (const up of upstream) {
      const outcome = await upsertUpstreamTemplate(ctx, platformId, provider, up);
      if (outcome === 'created') result.created++;
      if (outcome === 'updated') result.updated++;
    }
    // Gone from the listing: withdrawn and marked, never deleted.
    const seen = upstream.map((u) => u.externalId);
    const vanished = await ctx.models.templates.updateMany(
      { platformId, source: provider, externalId: { $nin: seen }, externalState: { $ne: 'missing' } },
      { $set: { state: 'inactive', externalState: 'missing' }, $inc: { version: 1 } },
    );
    result.vanished = vanished.modifiedCount;
    await ctx.models.providerSettings.updateOne(
      { _id: settings._id },
      {
        $set: {
          syncingUntil: null,
          lastSync: {
            at: ctx.now(),
            ok: true,
            templates: result.templates,
            message: `${result.templates} template(s): ${result.created} new, ${result.updated} changed, ${result.vanished} gone.`,
          },
        },
      },
    );
    return result;
  } catch (err) {
    await ctx.models.providerSettings.updateOne(
      { _id: settings._id },
      {
        $set: {
          syncingUntil: null,
          lastSync: {
            at: ctx.now(),
            ok: false,
            templates: 0,
            message: err instanceof Error ? err.message.slice(0, 500) : String(err),
          },
        },
      },
    );
    throw err;
  }
}

async function fetchUpstream(
  ctx: Context,
  settings: ProviderSettingsDoc,
  deps?: ProviderDeps,
): Promise<UpstreamTemplate[]> {
  const c = storedClient(ctx, settings, deps);
  if (c.provider === 'credly') return (await c.client.templates()).map(fromCredly);
  const groups = await c.client.groups();
  const out: UpstreamTemplate[] = [];
  for (const g of groups) {
    // A missing design leaves the picture out rather than failing the whole sync.
    const image = g.primary_design_id
      ? await c.client.designImage(g.primary_design_id).catch(() => null)
      : null;
    out.push(fromAccredible(g, image));
  }
  return out;
}

/** Syncs every configured service of every platform (the recurring job); failures are logged, not thrown. */
export async function syncAllTemplates(ctx: Context, deps?: ProviderDeps): Promise<number> {
  const all = await ctx.models.providerSettings
    .find({}, { platformId: 1, provider: 1 })
    .lean<Pick<ProviderSettingsDoc, 'platformId' | 'provider'>[]>();
  let synced = 0;
  for (const s of all) {
    try {
      if (await syncTemplates(ctx, s.platformId, s.provider, deps)) synced++;
    } catch (err) {
      ctx.logger.warn(
        { platformId: String(s.platformId), provider: s.provider, error: (err as Error).message },
        'template sync failed',
      );
    }
  }
  return synced;
}
