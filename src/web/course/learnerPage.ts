import type { LearnerBadge } from '../../courses/learnerView.js';
import { imageOf } from './instructor.js';

const day = (d: Date) => d.toISOString().slice(0, 10);

/** The learner page's badges as the view shows them (Handlebars templates hold no logic). */
export function learnerBadgeCards(badges: LearnerBadge[]) {
  return badges.map((b) => ({
    id: String(b.template._id),
    name: b.template.name,
    description: b.template.description,
    criteria: b.template.criteria,
    image: imageOf(b.template),
    rule: b.rule,
    percent: b.percent,
    groups: b.groups.map((g) => ({
      alternatives: g.alternatives,
      heading: g.heading,
      met: g.met,
      requirements: g.requirements.map((r) => ({
        text: r.text,
        best: r.best,
        count: r.count,
        met: r.state === 'met',
        notNeeded: r.state === 'not-needed',
        unmet: r.state === 'unmet',
      })),
    })),
    earned: b.earned ? { on: day(b.earned.at), url: b.earned.url, externalUrl: b.earned.externalUrl } : null,
    withdrawn: b.withdrawn,
    revoked: b.lost?.status === 'revoked' ? { on: day(b.lost.at), reason: b.lost.reason } : null,
    expired: b.lost?.status === 'expired' ? { on: day(b.lost.at) } : null,
    canEarnAgain: Boolean(b.lost?.canEarnAgain),
    levels: b.levels
      ? {
          text: b.levels.text,
          held: b.levels.held,
          score: b.levels.score === null ? null : `${Math.round(b.levels.score * 100) / 100}%`,
          rungs: b.levels.rungs.map((r) => ({
            name: r.name,
            // The level's own picture, else the badge's.
            image: r.imageId ? `/images/${r.imageId}` : imageOf(b.template),
            min: `${r.min}%`,
            held: r.state === 'held',
            reached: r.state === 'reached',
            next: r.state === 'next',
            // Said in words too, not by colour or position alone.
            stateText:
              r.state === 'held'
                ? 'your level'
                : r.state === 'reached'
                  ? 'reached'
                  : r.state === 'next'
                    ? 'next to reach'
                    : 'not reached yet',
          })),
        }
      : null,
    regradeNote: b.regradeNote,
  }));
}
