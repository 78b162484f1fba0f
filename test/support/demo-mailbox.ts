import { Router } from 'express';
import type { Context } from '../../src/context.js';
import { sendCourseDigests } from '../../src/mail/digest.js';
import type { Mail, Mailer } from '../../src/mail/mailer.js';

/**
 * The demo's mailbox: with SMTP_URL unset, the demo gives Laurel this mailer, which keeps what Laurel
 * would send instead of sending it, and the demo LMS shows it on a page (award and revocation
 * notices, sign-in links, instructors' digests), links included, so the e-mailed sign-in works too.
 */
export type RecordedMail = Mail & { at: Date };

const KEPT = 100;

export class RecordingMailer implements Mailer {
  /** Newest first, the last KEPT. */
  readonly mails: RecordedMail[] = [];

  async send(mail: Mail): Promise<void> {
    this.mails.unshift({ ...mail, at: new Date() });
    this.mails.length = Math.min(this.mails.length, KEPT);
  }

  close(): void {}
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The text part, escaped, with its http(s) addresses as links. */
const linked = (text: string) =>
  esc(text).replace(/https?:\/\/[^\s<>"]+/g, (url) => `<a href="${url}">${url}</a>`);

function page(mails: RecordedMail[], lmsUrl: string | undefined, digestsAction: string | null): string {
  const list = mails.length
    ? mails
        .map(
          (m, i) => `<article aria-labelledby="mail-${i}">
  <h2 id="mail-${i}">${esc(m.subject)}</h2>
  <p class="meta">To ${esc(m.to)} · <time datetime="${m.at.toISOString()}">${esc(m.at.toISOString().replace('T', ' ').slice(0, 19))} UTC</time></p>
  <pre>${linked(m.text)}</pre>
  <details><summary>The HTML version<span class="visually-hidden"> of “${esc(m.subject)}”</span></summary>
  <iframe sandbox="" srcdoc="${esc(m.html)}" title="The HTML version of “${esc(m.subject)}”"></iframe></details>
</article>`,
        )
        .join('\n')
    : '<p id="empty">No mail yet. Award a badge to a learner (or ask for a sign-in link at Laurel’s /backpack/sign-in) and reload this page.</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mails Laurel would send</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;color:#1b1f24;margin:0 auto;max-width:900px;padding:1rem}
article{border:1px solid #d0d7de;border-radius:8px;margin:1rem 0;padding:.5rem 1rem}
h2{font-size:1.15rem;margin:.5rem 0}.meta{color:#57606a;margin:0}
pre{background:#f6f8fa;padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere}
a{color:#0b5cad}:focus-visible{outline:3px solid #0b5cad;outline-offset:2px}
button{font:inherit;padding:.5rem 1rem;min-height:44px;background:#0b5cad;color:#fff;border:0;border-radius:6px}
iframe{width:100%;height:24rem;border:1px solid #d0d7de}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
</style></head><body><main>
<h1>Mails Laurel would send</h1>${lmsUrl ? `<p><a href="${esc(lmsUrl)}">Back to the LMS</a></p>` : ''}
<p>SMTP_URL is unset, so Laurel sends no e-mail: this demo keeps what it would send (the last ${KEPT}, newest
first). Its links work: a sign-in link signs in to the backpack, an unsubscribe link unsubscribes.</p>
${
  digestsAction
    ? `<form method="post" action="${digestsAction}"><p>Instructors' weekly digests are sent once their week is over. <button type="submit">Send the digests now</button> (as if the week were over).</p></form>`
    : ''
}
${list}
</main></body></html>`;
}

/** The demo's "send the digests now": every instructor's week is over, and a digest run goes. */
export async function digestsNow(ctx: Context, mailer: Mailer): Promise<void> {
  await ctx.models.digestSubscriptions.updateMany({}, { $set: { nextDueAt: new Date() } });
  await sendCourseDigests(ctx, mailer);
}

export function mailboxRouter(
  mailer: RecordingMailer,
  options: {
    basePath?: string;
    lmsUrl?: () => string | undefined;
    /** Sends the instructors' digests now (the demo makes every week over first). */
    sendDigestsNow?: () => Promise<void>;
  } = {},
): Router {
  const base = options.basePath ?? '/laurel-mail';
  const router = Router();
  const digests = options.sendDigestsNow;
  router.get(base, (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(page(mailer.mails, options.lmsUrl?.(), digests ? `${base}/digests` : null));
  });
  if (digests)
    router.post(`${base}/digests`, (_req, res, next) => {
      digests().then(() => res.redirect(303, base), next);
    });
  return router;
}
