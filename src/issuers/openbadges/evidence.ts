import type { EvidenceInput } from './build.js';

/** What evidence needs of a stored learning event. */
export type EvidenceEvent = {
  type: string;
  occurredAt: Date;
  course?: { id: string; title?: string | null } | null;
  data: Record<string, unknown>;
};

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
// One formatter for every call: toLocaleDateString builds a new one each time, which cost a third of
// a millisecond per credential when a burst is issued. Same options, so the same text.
const dayFormat = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  timeZone: 'UTC',
});
const day = (d: Date) => dayFormat.format(d);

/**
 * Evidence for a credential earned through grades: one entry per graded event that fulfilled a
 * requirement, saying what was scored where and when. Events without a score (completion,
 * enrolment, another badge) are not evidence of attainment and are left out.
 */
export function gradeEvidence(events: readonly EvidenceEvent[]): EvidenceInput[] {
  const out: EvidenceInput[] = [];
  for (const ev of events) {
    if (!ev.type.endsWith('.grade.updated')) continue;
    const score = num(ev.data.score);
    const maxScore = num(ev.data.maxScore);
    const percent = num(ev.data.percent);
    if (score === undefined && percent === undefined) continue;
    const activity =
      text(ev.data.activityTitle) ??
      text(ev.data.activityName) ??
      (text(ev.data.activityId) ? `activity “${text(ev.data.activityId)}”` : undefined);
    const course = ev.course ? (text(ev.course.title) ?? `course ${ev.course.id}`) : undefined;
    const where = ev.type.startsWith('activity.') ? (activity ?? 'an activity') : (course ?? 'the course');
    const parts: string[] = [];
    if (score !== undefined) parts.push(maxScore !== undefined ? `${score} out of ${maxScore}` : `${score}`);
    if (percent !== undefined) parts.push(score !== undefined ? `(${percent}%)` : `${percent}%`);
    out.push({
      name: `Grade on ${where}`,
      narrative: `Scored ${parts.join(' ')} on ${where}${course && where !== course ? ` in ${course}` : ''}, ${day(ev.occurredAt)}.`,
      genre: 'Assessment result',
    });
  }
  return out;
}
