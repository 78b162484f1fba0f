import { currentStepOf, pathwayProgress, type StepInput } from '../../src/pathways/progress.js';
import { checkPathway } from '../../src/pathways/validate.js';

/**
 * The pure progress of a pathway: a prerequisite step, an N-of-M step and an optional step, with
 * badges arriving in every order; recorded steps stay done.
 */
const steps: StepInput[] = [
  { id: 'basics', templateIds: ['safety', 'intro'], atLeast: null, prerequisites: [], optional: false },
  {
    id: 'labs',
    templateIds: ['lab1', 'lab2', 'lab3'],
    atLeast: 2,
    prerequisites: ['basics'],
    optional: false,
  },
  { id: 'extra', templateIds: ['poster'], atLeast: null, prerequisites: [], optional: true },
];
const none = new Map<string, Date>();

const states = (held: string[], recorded = none) =>
  pathwayProgress(steps, new Set(held), recorded).steps.map(
    (s) => `${s.id}:${s.state}:${s.held}/${s.needed}`,
  );

/** Every order of a list. */
function orders<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) =>
    orders([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

describe('pathway progress', () => {
  it('starts with the first steps available, the prerequisite step locked and the first required step next', () => {
    const p = pathwayProgress(steps, new Set(), none);
    expect(states([])).toEqual(['basics:available:0/2', 'labs:locked:0/2', 'extra:available:0/1']);
    expect(p.next).toBe('basics');
    expect(p.steps[1]!.waitingFor).toEqual(['basics']);
    expect(p.percent).toBe(0);
    expect(p.requiredTotal).toBe(2);
    expect(p.complete).toBe(false);
  });

  it('counts N of M, and keeps a step whose badges are met locked until its prerequisite is done', () => {
    const p = pathwayProgress(steps, new Set(['lab1', 'lab3', 'safety']), none);
    expect(states(['lab1', 'lab3', 'safety'])).toEqual([
      'basics:available:1/2',
      'labs:locked:2/2',
      'extra:available:0/1',
    ]);
    expect(p.steps[1]!.metButLocked).toBe(true);
    expect(p.steps[1]!.heldTemplateIds).toEqual(['lab1', 'lab3']);
    expect(p.next).toBe('basics');
    expect(currentStepOf(p)).toBe('basics');
  });

  it('reaches the same end whatever order the badges arrive in, and is complete without the optional step', () => {
    const badges = ['safety', 'intro', 'lab2', 'lab3'];
    for (const order of orders(badges)) {
      const held: string[] = [];
      let last = pathwayProgress(steps, new Set(), none);
      for (const b of order) {
        held.push(b);
        last = pathwayProgress(steps, new Set(held), none);
        // Never complete before the last of the four.
        if (held.length < 4) expect([order, last.complete]).toEqual([order, false]);
      }
      expect([order, states(held)]).toEqual([
        order,
        ['basics:done:2/2', 'labs:done:2/2', 'extra:available:0/1'],
      ]);
      expect(last.complete).toBe(true);
      expect(last.percent).toBe(100);
      expect(last.next).toBe('extra');
      expect(currentStepOf(last)).toBe('done');
      expect(last.newlyDone).toEqual(['basics', 'labs']);
    }
  });

  it('moves the learner on as steps get done: half way after the first required step', () => {
    const p = pathwayProgress(steps, new Set(['safety', 'intro', 'lab1']), none);
    expect(p.percent).toBe(50);
    expect(p.next).toBe('labs');
    expect(currentStepOf(p)).toBe('labs');
    expect(p.steps[1]!.state).toBe('available');
  });

  it('keeps a recorded step done with its time, even when its badges are no longer held or an edit raised its need', () => {
    const at = new Date('2026-11-02T10:00:00Z');
    const recorded = new Map([['basics', at]]);
    const p = pathwayProgress(steps, new Set(), recorded);
    expect(p.steps[0]!.state).toBe('done');
    expect(p.steps[0]!.doneAt).toEqual(at);
    expect(p.steps[1]!.state).toBe('available');
    expect(p.newlyDone).toEqual([]);
  });

  it('frees a step whose prerequisite an edit removed', () => {
    const edited = [steps[1]!];
    const p = pathwayProgress(edited, new Set(['lab1', 'lab2']), none);
    expect(p.steps[0]!.state).toBe('done');
    expect(p.complete).toBe(true);
  });
});

describe('pathway validation', () => {
  const valid = {
    name: 'Lab technician',
    description: '',
    badgeTemplateId: null,
    steps: [
      {
        id: 's1',
        name: 'Basics',
        description: '',
        templateIds: ['a'.repeat(24)],
        atLeast: null,
        prerequisites: [],
        optional: false,
      },
    ],
  };
  it('accepts a pathway with one required step', () => {
    expect(checkPathway(valid).ok).toBe(true);
  });
  it('names each wrong field: N above the step’s badges, a later prerequisite, no required step, its own badge in a step', () => {
    const bad = {
      ...valid,
      badgeTemplateId: 'b'.repeat(24),
      steps: [
        { ...valid.steps[0]!, atLeast: 3, prerequisites: ['s2'], optional: true },
        { ...valid.steps[0]!, id: 's2', templateIds: ['b'.repeat(24)], optional: true },
      ],
    };
    const checked = checkPathway(bad);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems).toEqual([
      { path: 'steps.0.atLeast', message: 'This step has 1 badge: it cannot need 3.' },
      { path: 'steps.0.prerequisites', message: 'A step can only need steps that come before it.' },
      {
        path: 'steps.1.templateIds',
        message: 'A step cannot ask for the badge that finishing the pathway awards.',
      },
      { path: 'steps', message: 'At least one step must be required (not optional).' },
    ]);
  });
  it('refuses an empty name and a step without badges, by field', () => {
    const checked = checkPathway({ ...valid, name: ' ', steps: [{ ...valid.steps[0]!, templateIds: [] }] });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems).toEqual([
      { path: 'name', message: 'Give the pathway a name.' },
      { path: 'steps.0.templateIds', message: 'Choose at least one badge for this step.' },
    ]);
  });
});
