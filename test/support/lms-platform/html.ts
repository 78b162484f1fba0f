/** Small HTML helpers: escaping, the auto-submitting form pages an LMS answers with, and plain message pages. */

export function escapeHtml(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"') out += '&quot;';
    else if (ch === "'") out += '&#39;';
    else out += ch;
  }
  return out;
}

const BASE_STYLE =
  'body{font-family:system-ui,sans-serif;margin:0;padding:1rem;line-height:1.5;color:#1b1b1b}' +
  'main{max-width:40rem;margin:0 auto}button{font:inherit;padding:.5rem 1rem}';

export function page(title: string, body: string, style = ''): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title><style>${BASE_STYLE}${style}</style></head>` +
    `<body>${body}</body></html>`
  );
}

export function hiddenInputs(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
}

/**
 * A page whose form posts itself on load, as LMSs do for the login initiation and the id_token. A button stays
 * for browsers without JavaScript.
 */
export function autoSubmitPage(opts: {
  title: string;
  action: string;
  fields: Record<string, string | undefined>;
  method?: 'post' | 'get';
}): string {
  const body =
    `<main><form id="lti-autosubmit" method="${opts.method ?? 'post'}" action="${escapeHtml(opts.action)}">` +
    hiddenInputs(opts.fields) +
    `<p>${escapeHtml(opts.title)}…</p><noscript><button type="submit">Continue</button></noscript></form></main>` +
    '<script>document.getElementById("lti-autosubmit").submit();</script>';
  return page(opts.title, body);
}

export function messagePage(title: string, message: string): string {
  return page(title, `<main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main>`);
}
