import type { Mail } from './mailer.js';

/**
 * The texts of Laurel's mails, pure: the caller gives names and URLs. Each has a plain-text and an
 * HTML part, and each notice ends with its unsubscribe link (also in the List-Unsubscribe header,
 * with one-click unsubscribe, RFC 8058).
 */

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A paragraph, a link, or a list of short items. */
type Line = string | { link: string; text: string } | { list: string[] };

function html(paragraphs: Line[], footer: string): string {
  const body = paragraphs
    .map((p) =>
      typeof p === 'string'
        ? `<p>${escape(p)}</p>`
        : 'list' in p
          ? `<ul>${p.list.map((i) => `<li>${escape(i)}</li>`).join('')}</ul>`
          : `<p><a href="${escape(p.link)}" style="color:#0b57d0">${escape(p.text)}</a></p>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><body style="font-family:system-ui,sans-serif;color:#1f2328;max-width:40rem">\n${body}\n<hr><p style="font-size:.9em;color:#555">${footer}</p></body></html>`;
}

const plain = (l: Line) =>
  typeof l === 'string' ? l : 'list' in l ? l.list.map((i) => `- ${i}`).join('\n') : `${l.text}: ${l.link}`;

const LEARNER_WHY = 'You get this because a course you take uses Laurel for its badges.';

function notice(to: string, subject: string, lines: Line[], unsubscribe: string, why = LEARNER_WHY): Mail {
  const text = [...lines.map(plain), '', '--', `${why} Stop these e-mails: ${unsubscribe}`].join('\n\n');
  const footer = `${escape(why)} <a href="${escape(unsubscribe)}">Unsubscribe</a>.`;
  return {
    to,
    subject,
    text,
    html: html(lines, footer),
    headers: {
      'List-Unsubscribe': `<${unsubscribe}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

export type AwardMailInput = {
  to: string;
  learnerName: string | null;
  badgeName: string;
  issuerName: string;
  /** The badge's page in the backpack. */
  badgeUrl: string;
  backpackUrl: string;
  /** The learner's first award: explain the backpack. */
  first: boolean;
  unsubscribeUrl: string;
};

export function awardMail(m: AwardMailInput): Mail {
  const hello = m.learnerName ? `Hello ${m.learnerName},` : 'Hello,';
  const lines: Line[] = [
    hello,
    `Congratulations: ${m.issuerName} awarded you the badge “${m.badgeName}”.`,
    { link: m.badgeUrl, text: 'See, download and share your badge' },
  ];
  if (m.first)
    lines.push(
      'Your badges are kept in your Laurel backpack, which stays yours after the course ends: there you see every badge you earn and your progress, share a badge on LinkedIn or by link, hide one, and add badges you earned elsewhere.',
      'Open it from your course (“My backpack”), or sign in at any time with this e-mail address: Laurel sends you a one-time link.',
      { link: m.backpackUrl, text: 'Open your backpack' },
    );
  return notice(m.to, `You earned the badge “${m.badgeName}”`, lines, m.unsubscribeUrl);
}

export type RevocationMailInput = {
  to: string;
  learnerName: string | null;
  badgeName: string;
  issuerName: string;
  reason: string | null;
  backpackUrl: string;
  unsubscribeUrl: string;
};

export function revocationMail(m: RevocationMailInput): Mail {
  return notice(
    m.to,
    `Your badge “${m.badgeName}” was revoked`,
    [
      m.learnerName ? `Hello ${m.learnerName},` : 'Hello,',
      `${m.issuerName} revoked your badge “${m.badgeName}”.${m.reason ? ` The reason given: ${m.reason}` : ''}`,
      'Its public page now says it is revoked. If you think this is a mistake, ask your instructor.',
      { link: m.backpackUrl, text: 'Open your backpack' },
    ],
    m.unsubscribeUrl,
  );
}

/** The sign-in link: asked for just now, so no unsubscribe (it is not a notice). */
export function signInMail(to: string, link: string, minutes: number): Mail {
  const lines = [
    'Hello,',
    `Someone (we hope you) asked to sign in to the Laurel backpack with this address. The link works once, within ${minutes} minutes.`,
    { link, text: 'Sign in to your backpack' },
    'If you did not ask for it, ignore this e-mail: nobody can sign in without the link.',
  ];
  return {
    to,
    subject: 'Your sign-in link for the Laurel backpack',
    text: lines.map(plain).join('\n\n'),
    html: html(lines, 'Laurel badges'),
  };
}

/** What happened to a course's badges in a week (src/mail/digest.ts gathers it). */
export type CourseDigest = {
  courseTitle: string;
  from: Date;
  to: Date;
  /** Per badge, the learners awarded it in the week. */
  awards: { badge: string; learners: string[] }[];
  revocations: { badge: string; learner: string; reason: string | null }[];
  /** Credentials whose issuing gave up and still wait for a retry. */
  failures: { badge: string; learner: string }[];
  /** Per badge, how many learners moved closer to it in the week (not earned yet). */
  inProgress: { badge: string; learners: number }[];
  /** Distinct learners who moved closer to any badge. */
  learnersInProgress: number;
};

export const digestIsEmpty = (d: CourseDigest) =>
  d.awards.length + d.revocations.length + d.failures.length + d.inProgress.length === 0;

const day = (d: Date) =>
  d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const people = (n: number) => `${n} learner${n === 1 ? '' : 's'}`;
const MAX_NAMES = 10;
const names = (list: string[]) =>
  list.length > MAX_NAMES
    ? `${list.slice(0, MAX_NAMES).join(', ')} and ${list.length - MAX_NAMES} more`
    : list.join(', ');

export type DigestMailInput = {
  to: string;
  instructorName: string | null;
  digest: CourseDigest;
  unsubscribeUrl: string;
};

/** The instructor's weekly digest of one course. */
export function digestMail(m: DigestMailInput): Mail {
  const d = m.digest;
  const lines: Line[] = [
    m.instructorName ? `Hello ${m.instructorName},` : 'Hello,',
    `The badges of ${d.courseTitle} from ${day(d.from)} to ${day(d.to)}.`,
  ];
  const awarded = d.awards.reduce((n, a) => n + a.learners.length, 0);
  lines.push(`Awarded: ${awarded}.`);
  if (d.awards.length) lines.push({ list: d.awards.map((a) => `${a.badge}: ${names(a.learners)}`) });
  lines.push(`Revoked: ${d.revocations.length}.`);
  if (d.revocations.length)
    lines.push({
      list: d.revocations.map((r) => `${r.badge}, ${r.learner}${r.reason ? ` (reason: ${r.reason})` : ''}`),
    });
  if (d.failures.length)
    lines.push(
      `Could not be issued: ${d.failures.length}. These learners earned the badge but Laurel gave up issuing it; retry from the badge's Credentials page.`,
      { list: d.failures.map((f) => `${f.badge}, ${f.learner}`) },
    );
  else lines.push('Could not be issued: none.');
  lines.push(`In progress: ${people(d.learnersInProgress)} moved closer to a badge.`);
  if (d.inProgress.length) lines.push({ list: d.inProgress.map((p) => `${p.badge}: ${people(p.learners)}`) });
  lines.push('Open Laurel from the course in your LMS for the details.');
  return notice(
    m.to,
    `Badges in ${d.courseTitle}: the week to ${day(d.to)}`,
    lines,
    m.unsubscribeUrl,
    `You get this weekly digest because you asked for it on Laurel's page of ${d.courseTitle}.`,
  );
}
