import type { Mail } from './mailer.js';

/**
 * The texts of Laurel's mails, pure: the caller gives names and URLs. Each has a plain-text and an
 * HTML part, and each notice ends with its unsubscribe link (also in the List-Unsubscribe header,
 * with one-click unsubscribe, RFC 8058).
 */

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function html(paragraphs: (string | { link: string; text: string })[], footer: string): string {
  const body = paragraphs
    .map((p) =>
      typeof p === 'string'
        ? `<p>${escape(p)}</p>`
        : `<p><a href="${escape(p.link)}" style="color:#0b57d0">${escape(p.text)}</a></p>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><body style="font-family:system-ui,sans-serif;color:#1f2328;max-width:40rem">\n${body}\n<hr><p style="font-size:.9em;color:#555">${footer}</p></body></html>`;
}

function notice(
  to: string,
  subject: string,
  lines: (string | { link: string; text: string })[],
  unsubscribe: string,
): Mail {
  const text = [
    ...lines.map((l) => (typeof l === 'string' ? l : `${l.text}: ${l.link}`)),
    '',
    '--',
    `You get this because a course you take uses Laurel for its badges. Stop these e-mails: ${unsubscribe}`,
  ].join('\n\n');
  const footer = `You get this because a course you take uses Laurel for its badges. <a href="${escape(unsubscribe)}">Unsubscribe</a>.`;
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
  const lines: (string | { link: string; text: string })[] = [
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
    text: lines.map((l) => (typeof l === 'string' ? l : `${l.text}: ${l.link}`)).join('\n\n'),
    html: html(lines, 'Laurel badges'),
  };
}
