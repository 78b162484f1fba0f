import type { Types } from 'mongoose';
import type { Context } from '../context.js';
import type { Models } from '../db/models/index.js';
import type { TemplateDoc } from '../db/models/template.js';

/** A platform's active templates, indexed by the event types they listen to. */
export type PlatformTemplates = {
  /** Changes whenever any template of the platform is written, created or deleted. */
  stamp: string;
  /** By `${eventType}:${courseRef}`, and `${eventType}:*` for the platform-wide ones (no course). */
  byTypeAndCourse: Map<string, TemplateDoc[]>;
  /** By `${eventType}:${requiredTemplateId}`: the templates that require a badge, wherever it was earned. */
  byTypeAndRequired: Map<string, TemplateDoc[]>;
  byId: Map<string, TemplateDoc>;
};

const push = <T>(map: Map<string, T[]>, key: string, value: T) => {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
};

/**
 * Active templates per platform, kept by one process between processing runs and checked at the
 * start of every run with one small aggregation (latest `updatedAt`, count and version sum per
 * platform): a template changed anywhere is reloaded before the run uses it. Nothing here has to
 * agree with another process; each validates its own copy against the database.
 */
export class TemplateCache {
  private readonly entries = new Map<string, PlatformTemplates>();

  async forPlatforms(ctx: Context, platformIds: Types.ObjectId[]): Promise<Map<string, PlatformTemplates>> {
    const unique = [...new Map(platformIds.map((id) => [String(id), id])).values()];
    const stamps = await ctx.models.templates.aggregate<{
      _id: Types.ObjectId;
      last: Date | null;
      n: number;
      v: number;
    }>([
      { $match: { platformId: { $in: unique } } },
      {
        $group: { _id: '$platformId', last: { $max: '$updatedAt' }, n: { $sum: 1 }, v: { $sum: '$version' } },
      },
    ]);
    const stampOf = new Map(
      stamps.map((s) => [String(s._id), `${s.last ? new Date(s.last).getTime() : 0}:${s.n}:${s.v}`]),
    );
    const stale = unique.filter(
      (id) => this.entries.get(String(id))?.stamp !== (stampOf.get(String(id)) ?? '-'),
    );
    if (stale.length) {
      const loaded = await ctx.models.templates
        .find({ platformId: { $in: stale }, state: 'active' })
        .lean<TemplateDoc[]>();
      for (const id of stale) {
        const entry: PlatformTemplates = {
          stamp: stampOf.get(String(id)) ?? '-',
          byTypeAndCourse: new Map(),
          byTypeAndRequired: new Map(),
          byId: new Map(),
        };
        for (const t of loaded) {
          if (String(t.platformId) !== String(id)) continue;
          entry.byId.set(String(t._id), t);
          for (const type of t.eventTypes) {
            push(entry.byTypeAndCourse, `${type}:${t.courseRef ? String(t.courseRef) : '*'}`, t);
            for (const required of t.requiresTemplates)
              push(entry.byTypeAndRequired, `${type}:${required}`, t);
          }
        }
        this.entries.set(String(id), entry);
      }
    }
    return new Map(unique.map((id) => [String(id), this.entries.get(String(id))!]));
  }
}

const caches = new WeakMap<Models, TemplateCache>();

/** The cache of this process for one set of models (one Laurel instance). */
export function templateCacheFor(models: Models): TemplateCache {
  let cache = caches.get(models);
  if (!cache) caches.set(models, (cache = new TemplateCache()));
  return cache;
}
