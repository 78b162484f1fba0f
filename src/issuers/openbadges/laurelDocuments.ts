import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { IssuerProfileDoc } from '../../db/models/issuerProfile.js';
import type { StatusListDoc } from '../../db/models/statusList.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { achievementDocument, type AchievementInput } from './build.js';
import {
  createDocumentLoader,
  didKeyResolver,
  type DocumentLoader,
  type DocumentResolver,
} from './documentLoader.js';
import { issuerSummary, publishedKey, publishedProfile } from './issuerProfiles.js';
import { openBadgeUrls, parseLaurelUrl } from './urls.js';

/** The badge image URL of a template: its uploaded image, else the generated default. */
export function templateImageUrl(ctx: Context, template: Pick<TemplateDoc, '_id' | 'imageId'>): string {
  const urls = openBadgeUrls(ctx.config.publicUrl);
  return template.imageId ? urls.image(template.imageId) : urls.defaultImage(template._id);
}

/**
 * What the OB 3.0 Achievement of a template says; with `levelId` (a badge with levels), the
 * achievement of that step: its own id, name ("Chemistry — Gold") and picture (the badge's when it
 * has none).
 */
export function achievementInputFor(
  ctx: Context,
  template: TemplateDoc,
  issuer?: IssuerProfileDoc | null,
  levelId?: string | null,
): AchievementInput {
  const urls = openBadgeUrls(ctx.config.publicUrl);
  const step = levelId ? template.levels?.steps.find((s) => s.id === levelId) : undefined;
  return {
    id: step ? urls.achievementLevel(template._id, step.id) : urls.achievement(template._id),
    name: step ? `${template.name} — ${step.name}` : template.name,
    description: template.description,
    criteria: step
      ? `${template.criteria.trim() || template.description.trim() || template.name} Level ${step.name}: ${step.min}% or more.`.trim()
      : template.criteria,
    imageUrl: step?.imageId ? urls.image(step.imageId) : templateImageUrl(ctx, template),
    tags: template.tags,
    alignments: template.alignments,
    ...(issuer ? { creator: issuerSummary(ctx, issuer) } : {}),
  };
}

/**
 * Resolves the documents Laurel itself publishes (issuer profiles, keys, status lists,
 * achievements) straight from the database, so that verifying Laurel's own credentials never
 * goes through the network, not even to Laurel.
 */
export function laurelResolver(ctx: Context): DocumentResolver {
  return async (url) => {
    const target = parseLaurelUrl(ctx.config.publicUrl, url);
    if (!target) return undefined;
    switch (target.kind) {
      case 'issuer': {
        const profile = await ctx.models.issuerProfiles.findById(target.id).lean<IssuerProfileDoc>();
        return profile ? publishedProfile(ctx, profile) : undefined;
      }
      case 'key': {
        const profile = await ctx.models.issuerProfiles.findById(target.issuerId).lean<IssuerProfileDoc>();
        return (profile && publishedKey(ctx, profile, target.publicKeyMultibase)) ?? undefined;
      }
      case 'statusList': {
        const list = await ctx.models.statusLists.findById(target.id).lean<StatusListDoc>();
        return list?.signed ?? undefined;
      }
      case 'achievement': {
        const template = await ctx.models.templates
          .findById(new Types.ObjectId(target.id))
          .lean<TemplateDoc>();
        if (!template) return undefined;
        const issuer = await ctx.models.issuerProfiles
          .findOne({ platformId: template.platformId })
          .lean<IssuerProfileDoc>();
        if (target.level && !template.levels?.steps.some((s) => s.id === target.level)) return undefined;
        return achievementDocument(achievementInputFor(ctx, template, issuer, target.level ?? null));
      }
      default:
        return undefined;
    }
  };
}

/** The loader for signing and verifying Laurel's credentials: bundled contexts, Laurel's documents, did:key. */
export function laurelDocumentLoader(ctx: Context, extra: readonly DocumentResolver[] = []): DocumentLoader {
  return createDocumentLoader([laurelResolver(ctx), didKeyResolver, ...extra]);
}
