/**
 * An activity's tags, for counts of activities by tag: the LMS's (Moodle's course-module tags,
 * Canvas's assignment group) and the instructor's, each once (upper or lower case alike, the first
 * spelling kept). Pure.
 */
export function tagsOf(row: {
  tags?: readonly string[] | null;
  instructorTags?: readonly string[] | null;
}): string[] {
  const seen = new Map<string, string>();
  for (const t of [...(row.tags ?? []), ...(row.instructorTags ?? [])])
    if (!seen.has(t.toLowerCase())) seen.set(t.toLowerCase(), t);
  return [...seen.values()];
}
