import { randomBytes } from 'node:crypto';
import type { PathwayDoc } from '../../db/models/pathway.js';
import { PATHWAY_LIMITS, STEP_ID, type FieldProblem } from '../../pathways/validate.js';

/**
 * The pathway form as posted (flat field names, `step.<i>.<field>`, so that nothing depends on a
 * nested-body parser) and back: values to show again, edits that re-render the form without saving
 * (add, remove and move a step: the form works without a script), and the input the service checks.
 */
export type StepValues = {
  id: string;
  name: string;
  description: string;
  badges: string[];
  need: 'all' | 'some';
  atLeast: string;
  prereqs: string[];
  optional: boolean;
};
export type PathwayFormValues = {
  name: string;
  description: string;
  badgeTemplateId: string;
  everyCourse: boolean;
  version: string;
  steps: StepValues[];
};
export type FormErrors = Record<string, string>;

const text = (v: unknown, max = 5000): string => (typeof v === 'string' ? v.slice(0, max) : '');
const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v])
    .filter((x): x is string => typeof x === 'string')
    .slice(0, 100);

export const newStepId = () => randomBytes(4).toString('hex');

export const emptyStep = (): StepValues => ({
  id: newStepId(),
  name: '',
  description: '',
  badges: [],
  need: 'all',
  atLeast: '',
  prereqs: [],
  optional: false,
});

export const emptyForm = (): PathwayFormValues => ({
  name: '',
  description: '',
  badgeTemplateId: '',
  everyCourse: false,
  version: '',
  steps: [emptyStep()],
});

/** A stored pathway as form values (editing it). */
export function valuesOf(p: PathwayDoc): PathwayFormValues {
  return {
    name: p.name,
    description: p.description,
    badgeTemplateId: p.badgeTemplateId ? String(p.badgeTemplateId) : '',
    everyCourse: p.courseRef === null,
    version: String(p.version),
    steps: p.steps.map((s) => ({
      id: s.id,
      name: s.name,
      description: s.description,
      badges: s.templateIds.map(String),
      need: s.atLeast === null ? 'all' : 'some',
      atLeast: s.atLeast === null ? '' : String(s.atLeast),
      prereqs: [...s.prerequisites],
      optional: s.optional,
    })),
  };
}

/** Reads the posted form; unknown or malformed fields are dropped, never trusted. */
export function readPathwayForm(body: Record<string, unknown>): PathwayFormValues {
  const indexes = Object.keys(body)
    .map((k) => /^step\.(\d{1,3})\.id$/.exec(k)?.[1])
    .filter((i): i is string => i !== undefined)
    .map(Number)
    .sort((a, b) => a - b)
    .slice(0, PATHWAY_LIMITS.steps + 1);
  return {
    name: text(body.name, 500),
    description: text(body.description, 5000),
    badgeTemplateId: text(body.badgeTemplateId, 24),
    everyCourse: body.everyCourse === '1',
    version: text(body.version, 12),
    steps: indexes.map((i) => {
      const f = (name: string) => body[`step.${i}.${name}`];
      const id = text(f('id'), 16);
      return {
        id: STEP_ID.test(id) ? id : newStepId(),
        name: text(f('name'), 500),
        description: text(f('description'), 2000),
        badges: list(f('badge')),
        need: f('need') === 'some' ? 'some' : 'all',
        atLeast: text(f('atLeast'), 6),
        prereqs: list(f('prereq')),
        optional: f('optional') === '1',
      };
    }),
  };
}

export type BuilderEdit = { kind: 'add' } | { kind: 'remove' | 'up' | 'down'; index: number };

/** The button that was pressed, if it edits the form instead of saving it. */
export function builderEditOf(body: Record<string, unknown>): BuilderEdit | null {
  const v = body.edit;
  if (v === 'add') return { kind: 'add' };
  const m = typeof v === 'string' ? /^(remove|up|down):(\d{1,3})$/.exec(v) : null;
  return m ? { kind: m[1] as 'remove' | 'up' | 'down', index: Number(m[2]) } : null;
}

/** Keeps each step's prerequisites to steps before it (after a move or a removal). */
function earlierOnly(steps: StepValues[]): StepValues[] {
  return steps.map((s, i) => {
    const before = new Set(steps.slice(0, i).map((x) => x.id));
    return { ...s, prereqs: s.prereqs.filter((p) => before.has(p)) };
  });
}

export function applyBuilderEdit(values: PathwayFormValues, edit: BuilderEdit): PathwayFormValues {
  const steps = [...values.steps];
  if (edit.kind === 'add') {
    if (steps.length < PATHWAY_LIMITS.steps) steps.push(emptyStep());
  } else if (edit.index >= 0 && edit.index < steps.length) {
    const i = edit.index;
    if (edit.kind === 'remove') steps.splice(i, 1);
    else {
      const j = edit.kind === 'up' ? i - 1 : i + 1;
      if (j >= 0 && j < steps.length) [steps[i], steps[j]] = [steps[j]!, steps[i]!];
    }
  }
  return { ...values, steps: earlierOnly(steps.length ? steps : [emptyStep()]) };
}

/** The input for the service, and the form's own problems (a count that is not a number). */
export function pathwayInputOf(values: PathwayFormValues): { input: unknown; errors: FormErrors } {
  const errors: FormErrors = {};
  const steps = values.steps.map((s, i) => {
    let atLeast: number | null = null;
    if (s.need === 'some') {
      if (/^\d{1,3}$/.test(s.atLeast.trim())) atLeast = Number(s.atLeast.trim());
      else errors[`steps.${i}.atLeast`] = 'Say how many of the badges this step needs, as a number.';
    }
    return {
      id: s.id,
      name: s.name,
      description: s.description,
      templateIds: s.badges,
      atLeast: atLeast ?? (s.need === 'some' ? 1 : null),
      prerequisites: s.prereqs,
      optional: s.optional,
    };
  });
  return {
    input: {
      name: values.name,
      description: values.description,
      badgeTemplateId: values.badgeTemplateId === '' ? null : values.badgeTemplateId,
      steps,
    },
    errors,
  };
}

/** The service's problems (by path) into the form's errors; the first message per field is kept. */
export function mergeProblems(errors: FormErrors, problems: readonly FieldProblem[]): FormErrors {
  const out = { ...errors };
  for (const p of problems) out[p.path || 'name'] ??= p.message;
  return out;
}
