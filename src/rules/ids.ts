/** Giving requirements and penalties their ids when the admin API's input has none. */
import type { Penalty, PenaltyInput, Requirement, RequirementGroup, RequirementGroupInput } from './types.js';

/**
 * Fills the missing requirement and penalty ids with `newId()` and keeps the given ones.
 * A generated id that collides with one already in use is drawn again.
 */
export function assignRequirementIds(
  groups: readonly RequirementGroupInput[],
  penalties: readonly PenaltyInput[],
  newId: () => string,
): { groups: RequirementGroup[]; penalties: Penalty[] } {
  const used = new Set<string>();
  const given = [...groups.flatMap((g) => g.requirements.map((r) => r.id)), ...penalties.map((p) => p.id)];
  for (const id of given) if (id !== undefined) used.add(id);
  const fresh = (): string => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const id = newId();
      if (!used.has(id)) {
        used.add(id);
        return id;
      }
    }
    throw new Error('assignRequirementIds: newId() kept returning ids already in use');
  };
  return {
    groups: groups.map((group) => ({
      requirements: group.requirements.map((req): Requirement => ({ ...req, id: req.id ?? fresh() })),
      // Only "any N" groups say how many; 1 is the default and is not stored.
      ...(group.atLeast !== undefined && group.atLeast > 1 ? { atLeast: group.atLeast } : {}),
    })),
    penalties: penalties.map((penalty): Penalty => ({ ...penalty, id: penalty.id ?? fresh() })),
  };
}
