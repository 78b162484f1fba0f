import type { Activity } from '../../backpack/record.js';
import type { importedBadges } from './imports.js';

/**
 * My Record's part of the badges earned elsewhere: each with its last verification result (in the
 * verifier's words when it failed), and their additions among the recent activity.
 */
type ImportedView = Awaited<ReturnType<typeof importedBadges>>[number];

export function recordOfImports(imported: ImportedView[]) {
  return imported.map((i) => ({
    ...i,
    failed: i.valid
      ? null
      : i.checks
          .filter((c) => !c.ok)
          .map((c) => c.message)
          .join(' '),
  }));
}

export function withImportActivity(activity: Activity[], imported: ImportedView[]): Activity[] {
  const added = imported.flatMap((i) =>
    i.added
      ? [{ at: new Date(i.added.iso), text: `Added “${i.name}”, earned elsewhere`, courseTitle: null }]
      : [],
  );
  return [...activity, ...added].sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, 20);
}
