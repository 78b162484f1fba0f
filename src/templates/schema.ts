import { z } from 'zod';
import { levelsAndRegradeShape, refineTemplateRules, templateRulesShape } from '../rules/index.js';
import { safeText } from '../validation/text.js';

const objectId = z.string().regex(/^[0-9a-f]{24}$/i, 'must be a Laurel id (24 hexadecimal characters)');

const alignmentSchema = z.strictObject({
  targetName: safeText(200).min(1, 'must not be empty'),
  targetUrl: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).nullish(),
  targetDescription: safeText(1000).nullish(),
  targetFramework: safeText(200).nullish(),
  targetCode: safeText(100).nullish(),
});

// Names, descriptions, criteria, tags and ids are safeText: no NUL, control characters or lone surrogates.
const fields = {
  name: safeText(200).min(1, 'must not be empty'),
  description: safeText(5000),
  criteria: safeText(5000),
  imageId: safeText(100).nullable(),
  tags: z.array(safeText(50).min(1, 'must not be empty')).max(30, 'at most 30 tags'),
  alignments: z.array(alignmentSchema).max(30, 'at most 30 alignments'),
  expiresAfterDays: z.number().int('must be a whole number of days').min(1).max(36500).nullable(),
  expiresAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).nullable(),
  allowReEarn: z.boolean(),
  /** Other courses of the platform may see and require it (see TemplateDoc.shared). */
  shared: z.boolean(),
};

const noDoubleExpiry = (
  v: { expiresAfterDays?: number | null; expiresAt?: string | null },
  ctx: z.RefinementCtx,
) => {
  if (v.expiresAfterDays != null && v.expiresAt != null)
    ctx.addIssue({
      code: 'custom',
      path: ['expiresAt'],
      message: 'give expiresAfterDays or expiresAt, not both',
    });
};

/** POST /api/v1/templates */
export const createTemplateSchema = z
  .strictObject({
    platformId: objectId,
    courseId: safeText(200).min(1).nullish(),
    name: fields.name,
    description: fields.description.default(''),
    criteria: fields.criteria.default(''),
    imageId: fields.imageId.optional(),
    tags: fields.tags.default([]),
    alignments: fields.alignments.default([]),
    expiresAfterDays: fields.expiresAfterDays.optional(),
    expiresAt: fields.expiresAt.optional(),
    allowReEarn: fields.allowReEarn.default(false),
    shared: fields.shared.default(false),
    ...templateRulesShape,
    /** Levels (tiers) and what a regrade does: see src/rules/validateLevels.ts. */
    levels: levelsAndRegradeShape.levels.optional(),
    regrade: levelsAndRegradeShape.regrade.optional(),
  })
  .superRefine((v, ctx) => {
    noDoubleExpiry(v, ctx);
    refineTemplateRules(v, ctx);
  });

/** PATCH /api/v1/templates/:id: any field but the platform and course; rules are merged by the service. */
export const updateTemplateSchema = z
  .strictObject({
    name: fields.name.optional(),
    description: fields.description.optional(),
    criteria: fields.criteria.optional(),
    imageId: fields.imageId.optional(),
    tags: fields.tags.optional(),
    alignments: fields.alignments.optional(),
    expiresAfterDays: fields.expiresAfterDays.optional(),
    expiresAt: fields.expiresAt.optional(),
    allowReEarn: fields.allowReEarn.optional(),
    shared: fields.shared.optional(),
    groups: templateRulesShape.groups.unwrap().optional(),
    penalties: templateRulesShape.penalties.unwrap().optional(),
    levels: levelsAndRegradeShape.levels.optional(),
    regrade: levelsAndRegradeShape.regrade.optional(),
  })
  .superRefine(noDoubleExpiry);

export type CreateTemplateInput = z.infer<typeof createTemplateSchema>;
export type UpdateTemplateInput = z.infer<typeof updateTemplateSchema>;
