import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { safeText } from '../validation/text.js';

/** Bounds of a pathway: enough for a programme of study, small enough for one page. */
export const PATHWAY_LIMITS = {
  steps: 30,
  badgesPerStep: 20,
  name: 120,
  description: 2000,
  stepDescription: 1000,
} as const;

const objectId = z.string().regex(/^[0-9a-f]{24}$/i, 'is not a badge of this LMS');
export const STEP_ID = /^[a-z0-9]{1,16}$/;

const step = z.object({
  id: z.string().regex(STEP_ID, 'is not a step id'),
  name: safeText(PATHWAY_LIMITS.name).min(1, 'Give the step a name.'),
  description: safeText(PATHWAY_LIMITS.stepDescription).default(''),
  templateIds: z
    .array(objectId)
    .min(1, 'Choose at least one badge for this step.')
    .max(PATHWAY_LIMITS.badgesPerStep, `At most ${PATHWAY_LIMITS.badgesPerStep} badges per step.`)
    .refine(
      (ids) => new Set(ids.map((i) => i.toLowerCase())).size === ids.length,
      'A badge is chosen twice.',
    ),
  atLeast: z.number().int('must be a whole number').min(1, 'must be at least 1').nullable(),
  prerequisites: z.array(z.string().regex(STEP_ID, 'is not a step id')).max(PATHWAY_LIMITS.steps),
  optional: z.boolean(),
});

const pathway = z.object({
  name: safeText(PATHWAY_LIMITS.name).min(1, 'Give the pathway a name.'),
  description: safeText(PATHWAY_LIMITS.description).default(''),
  steps: z
    .array(step)
    .min(1, 'Add at least one step.')
    .max(PATHWAY_LIMITS.steps, `At most ${PATHWAY_LIMITS.steps} steps.`),
  badgeTemplateId: objectId.nullable(),
});

export type PathwayInput = z.input<typeof pathway>;
export type ValidPathway = z.output<typeof pathway>;
export type FieldProblem = { path: string; message: string };

/**
 * Checks a pathway's shape and the rules between its parts, reporting every problem by field
 * (`steps.2.atLeast`): N no more than the step's badges, prerequisites only earlier steps, at least
 * one required step, step ids unique, and the pathway's own badge not asked for by its steps.
 */
export function checkPathway(
  input: unknown,
): { ok: true; value: ValidPathway } | { ok: false; problems: FieldProblem[] } {
  const parsed = pathway.safeParse(input);
  // The rules between fields run on the input as given, so one answer names every problem.
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))),
    ...crossProblems(parsed.success ? parsed.data : input),
  ];
  return problems.length || !parsed.success ? { ok: false, problems } : { ok: true, value: parsed.data };
}

type LooseStep = {
  id?: unknown;
  templateIds?: unknown;
  atLeast?: unknown;
  prerequisites?: unknown;
  optional?: unknown;
};
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

function crossProblems(input: unknown): FieldProblem[] {
  const value = (input ?? {}) as { steps?: unknown; badgeTemplateId?: unknown };
  const steps: LooseStep[] = Array.isArray(value.steps) ? (value.steps as LooseStep[]) : [];
  const badge = typeof value.badgeTemplateId === 'string' ? value.badgeTemplateId.toLowerCase() : null;
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  steps.forEach((s, i) => {
    const id = typeof s?.id === 'string' ? s.id : '';
    const templates = strings(s?.templateIds);
    if (seen.has(id)) problems.push({ path: `steps.${i}.id`, message: 'Two steps have the same id.' });
    if (typeof s?.atLeast === 'number' && templates.length && s.atLeast > templates.length)
      problems.push({
        path: `steps.${i}.atLeast`,
        message: `This step has ${templates.length} badge${templates.length === 1 ? '' : 's'}: it cannot need ${s.atLeast}.`,
      });
    if (strings(s?.prerequisites).some((p) => !seen.has(p)))
      problems.push({
        path: `steps.${i}.prerequisites`,
        message: 'A step can only need steps that come before it.',
      });
    if (badge && templates.some((t) => t.toLowerCase() === badge))
      problems.push({
        path: `steps.${i}.templateIds`,
        message: 'A step cannot ask for the badge that finishing the pathway awards.',
      });
    seen.add(id);
  });
  if (steps.length && steps.every((s) => s?.optional === true))
    problems.push({ path: 'steps', message: 'At least one step must be required (not optional).' });
  return problems;
}

/** checkPathway for services: the valid pathway, or an InvalidInputError listing every problem. */
export function parsePathway(input: unknown): ValidPathway {
  const checked = checkPathway(input);
  if (checked.ok) return checked.value;
  throw new InvalidInputError(
    `The pathway is not valid: ${checked.problems.map((p) => `${p.path || '(pathway)'}: ${p.message}`).join('; ')}`,
    checked.problems,
    'invalid_pathway',
  );
}
