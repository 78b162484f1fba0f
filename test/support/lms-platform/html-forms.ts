/**
 * Finds the forms of an HTML page, and the one a page submits by script on load, without regular expressions:
 * a small scanner reads tags and their attributes (any order, quoted or not) and decodes character references.
 */

export interface HtmlForm {
  id?: string;
  /** As written in the page (may be relative or empty); resolve against the page URL. */
  action: string;
  method: 'GET' | 'POST';
  target?: string;
  /** Successful controls in document order: [name, value]. */
  fields: [string, string][];
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const amp = text.indexOf('&', i);
    if (amp < 0) break;
    out += text.slice(i, amp);
    const semi = text.indexOf(';', amp);
    const ref = semi > amp ? text.slice(amp + 1, semi) : '';
    let decoded: string | undefined;
    if (ref.startsWith('#x') || ref.startsWith('#X')) decoded = codePoint(parseInt(ref.slice(2), 16));
    else if (ref.startsWith('#')) decoded = codePoint(parseInt(ref.slice(1), 10));
    else decoded = NAMED[ref];
    if (decoded === undefined || ref.length === 0 || ref.length > 10) {
      out += '&';
      i = amp + 1;
    } else {
      out += decoded;
      i = semi + 1;
    }
  }
  return out + text.slice(i);
}

function codePoint(n: number): string | undefined {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f';

interface Tag {
  name: string;
  closing: boolean;
  attrs: Record<string, string>;
  /** Index just past the tag's `>`. */
  end: number;
}

/** Reads the tag starting at `start` (which holds `<`); undefined when it is not a tag. */
export function readTag(html: string, start: number): Tag | undefined {
  let i = start + 1;
  const closing = html[i] === '/';
  if (closing) i++;
  let name = '';
  while (i < html.length && isNameChar(html[i])) name += html[i++];
  if (name === '') return undefined;
  const attrs: Record<string, string> = {};
  while (i < html.length) {
    while (isSpace(html[i]) || html[i] === '/') i++;
    if (i >= html.length || html[i] === '>') break;
    let attr = '';
    while (i < html.length && !isSpace(html[i]) && html[i] !== '=' && html[i] !== '>' && html[i] !== '/') {
      attr += html[i++];
    }
    while (isSpace(html[i])) i++;
    let value = '';
    if (html[i] === '=') {
      i++;
      while (isSpace(html[i])) i++;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, i + 1);
        const stop = close < 0 ? html.length : close;
        value = html.slice(i + 1, stop);
        i = stop + 1;
      } else {
        while (i < html.length && !isSpace(html[i]) && html[i] !== '>') value += html[i++];
      }
    }
    if (attr !== '' && !(attr.toLowerCase() in attrs)) attrs[attr.toLowerCase()] = decodeEntities(value);
  }
  return { name: name.toLowerCase(), closing, attrs, end: Math.min(i + 1, html.length) };
}

function isNameChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '-';
}

export interface ScannedPage {
  forms: HtmlForm[];
  scripts: string[];
}

/** Walks the page once, collecting forms (with their successful controls) and inline script texts. */
export function scanPage(html: string): ScannedPage {
  const forms: HtmlForm[] = [];
  const scripts: string[] = [];
  let current: HtmlForm | undefined;
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) break;
    if (html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      i = close < 0 ? html.length : close + 3;
      continue;
    }
    const tag = readTag(html, lt);
    if (!tag) {
      i = lt + 1;
      continue;
    }
    i = tag.end;
    if (tag.closing) {
      if (tag.name === 'form') current = undefined;
      continue;
    }
    // A <template>'s controls are inert: a browser submits none of them.
    if (tag.name === 'script' || tag.name === 'textarea' || tag.name === 'style' || tag.name === 'template') {
      const close = html.toLowerCase().indexOf(`</${tag.name}`, i);
      const content = html.slice(i, close < 0 ? html.length : close);
      i = close < 0 ? html.length : close;
      if (tag.name === 'script') scripts.push(content);
      if (tag.name === 'textarea' && current && tag.attrs.name && !('disabled' in tag.attrs)) {
        current.fields.push([tag.attrs.name, decodeEntities(content)]);
      }
      continue;
    }
    if (tag.name === 'form') {
      current = {
        ...(tag.attrs.id !== undefined ? { id: tag.attrs.id } : {}),
        action: tag.attrs.action ?? '',
        method: (tag.attrs.method ?? 'get').toLowerCase() === 'post' ? 'POST' : 'GET',
        ...(tag.attrs.target !== undefined ? { target: tag.attrs.target } : {}),
        fields: [],
      };
      forms.push(current);
    } else if (tag.name === 'input' && current) {
      const control = inputValue(tag.attrs);
      if (control) current.fields.push(control);
    }
  }
  return { forms, scripts };
}

function inputValue(attrs: Record<string, string>): [string, string] | undefined {
  const type = (attrs.type ?? 'text').toLowerCase();
  if (!attrs.name || 'disabled' in attrs) return undefined;
  if (['submit', 'button', 'image', 'reset', 'file'].includes(type)) return undefined;
  if ((type === 'checkbox' || type === 'radio') && !('checked' in attrs)) return undefined;
  return [attrs.name, attrs.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : '')];
}

export function parseForms(html: string): HtmlForm[] {
  return scanPage(html).forms;
}

/**
 * The form a page submits by itself: one whose id an inline script names next to `submit(`, or the only form
 * when a script calls `submit(` (LMS and LTI library pages look like that).
 */
export function findAutoSubmitForm(html: string): HtmlForm | undefined {
  const { forms, scripts } = scanPage(html);
  const submitting = scripts.filter((s) => s.includes('submit('));
  if (forms.length === 0 || submitting.length === 0) return undefined;
  const byId = forms.find((f) => !!f.id && submitting.some((s) => s.includes(f.id as string)));
  if (byId) return byId;
  if (submitting.some((s) => s.includes('forms[0]'))) return forms[0];
  return forms.length === 1 ? forms[0] : undefined;
}

export function fieldValue(form: HtmlForm, name: string): string | undefined {
  return form.fields.find(([n]) => n === name)?.[1];
}
