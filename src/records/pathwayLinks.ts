import type { ClrAchievementInput, ClrAssociation } from './buildClr.js';

/**
 * What a learner's pathways add to their learner record, pure: the pathways and their steps as
 * achievements, and CLR 2.0 associations tying them to the badges the record holds. No I/O.
 *
 * A pathway goes into a record only when the record holds a badge of it (one of its steps' badges,
 * or its own badge), so a shared record that leaves a badge out also leaves out the pathway it
 * would have revealed.
 */

export type PathwayForRecord = {
  id: string;
  name: string;
  description: string;
  badgeTemplateId: string | null;
  steps: readonly {
    id: string;
    name: string;
    description: string;
    templateIds: readonly string[];
    atLeast: number | null;
    prerequisites: readonly string[];
    optional: boolean;
  }[];
};

/** One credential of the record: its badge template and the achievement id it asserts. */
export type RecordBadge = { templateId: string; achievementId: string };

export type PathwayIds = {
  pathway: (pathwayId: string) => string;
  step: (pathwayId: string, stepId: string) => string;
};

export type PathwayLinks = { achievements: ClrAchievementInput[]; associations: ClrAssociation[] };

/** "Earn Titration and Lab safety." / "Earn any 2 of: A, B, C." in the names the badges have now. */
export function stepCriteria(
  step: PathwayForRecord['steps'][number],
  badgeName: (templateId: string) => string,
): string {
  const names = step.templateIds.map(badgeName);
  if (names.length === 0) return 'No badge needed.';
  const needed = step.atLeast === null ? names.length : Math.min(step.atLeast, names.length);
  const list =
    names.length === 1
      ? names[0]!
      : needed === names.length
        ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
        : `any ${needed} of: ${names.join(', ')}`;
  return `Earn ${list}.`;
}

export function pathwayLinks(
  pathways: readonly PathwayForRecord[],
  badges: readonly RecordBadge[],
  badgeName: (templateId: string) => string,
  ids: PathwayIds,
): PathwayLinks {
  const achievements: ClrAchievementInput[] = [];
  const associations: ClrAssociation[] = [];
  const linked = new Set<string>();
  const link = (associationType: ClrAssociation['associationType'], sourceId: string, targetId: string) => {
    const key = `${associationType} ${sourceId} ${targetId}`;
    if (!linked.has(key)) associations.push({ associationType, sourceId, targetId });
    linked.add(key);
  };
  for (const p of pathways) {
    const stepTemplates = new Set(p.steps.flatMap((s) => s.templateIds));
    const own = badges.filter((b) => b.templateId === p.badgeTemplateId);
    if (!own.length && !badges.some((b) => stepTemplates.has(b.templateId))) continue;

    const pathwayId = ids.pathway(p.id);
    achievements.push({
      id: pathwayId,
      name: p.name,
      description: p.description,
      criteria: `Complete the required steps: ${p.steps
        .filter((s) => !s.optional)
        .map((s) => s.name)
        .join(', ')}.`,
      achievementType: 'LearningProgram',
    });
    for (const b of own) link('isRelatedTo', b.achievementId, pathwayId);

    p.steps.forEach((step, index) => {
      const stepId = ids.step(p.id, step.id);
      achievements.push({
        id: stepId,
        name: step.name,
        description:
          step.description.trim() ||
          `Step ${index + 1} of ${p.steps.length} of ${p.name}${step.optional ? ' (optional)' : ''}.`,
        criteria: stepCriteria(step, badgeName),
      });
      link('isChildOf', stepId, pathwayId);
      for (const before of step.prerequisites)
        if (p.steps.some((s) => s.id === before)) link('precedes', ids.step(p.id, before), stepId);
      const mine = new Set(step.templateIds);
      for (const b of badges) if (mine.has(b.templateId)) link('isChildOf', b.achievementId, stepId);
    });
  }
  return { achievements, associations };
}
