import { inflateSync } from 'node:zlib';
import encodePng from 'png-chunks-encode';
import extractPng, { type PngChunk } from 'png-chunks-extract';

/**
 * Baking: a badge image that carries its credential. OB 3.0 uses the PNG iTXt keyword
 * `openbadgecredential` and the SVG element `<openbadges:credential>` in namespace
 * https://purl.imsglobal.org/ob/v3p0; OB 2.0 uses the keyword `openbadges` and
 * `<openbadges:assertion>` in http://openbadges.org.
 */

export type BakeKind = 'ob3' | 'ob2';

export const PNG_KEYWORD: Record<BakeKind, string> = { ob3: 'openbadgecredential', ob2: 'openbadges' };
export const SVG_NAMESPACE: Record<BakeKind, string> = {
  ob3: 'https://purl.imsglobal.org/ob/v3p0',
  ob2: 'http://openbadges.org',
};

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BAKED_KEYWORDS = new Set(Object.values(PNG_KEYWORD));

export const isPng = (bytes: Uint8Array) =>
  bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).equals(PNG_SIGNATURE);

/** The keyword of a tEXt / iTXt / zTXt chunk (text up to the first NUL). */
function chunkKeyword(chunk: PngChunk): string | null {
  if (chunk.name !== 'iTXt' && chunk.name !== 'tEXt' && chunk.name !== 'zTXt') return null;
  const nul = chunk.data.indexOf(0);
  return nul > 0 ? Buffer.from(chunk.data.subarray(0, nul)).toString('latin1') : null;
}

/**
 * Bakes text (a credential's JSON or a hosted assertion URL) into a PNG as an uncompressed iTXt
 * chunk just before IEND. Any earlier badge chunk (of either version) is removed first: an image
 * carries exactly one.
 */
export function bakePng(png: Uint8Array, kind: BakeKind, text: string): Buffer {
  if (!isPng(png)) throw new Error('Cannot bake: the image is not a PNG');
  const chunks = extractPng(png).filter((c) => !BAKED_KEYWORDS.has(chunkKeyword(c) ?? ''));
  const end = chunks.findIndex((c) => c.name === 'IEND');
  if (end < 0) throw new Error('Cannot bake: the PNG has no IEND chunk');
  const data = Buffer.concat([
    Buffer.from(PNG_KEYWORD[kind], 'latin1'),
    // NUL, compression flag 0, method 0, empty language tag + NUL, empty translated keyword + NUL
    Buffer.from([0, 0, 0, 0, 0]),
    Buffer.from(text, 'utf8'),
  ]);
  chunks.splice(end, 0, { name: 'iTXt', data: new Uint8Array(data) });
  return Buffer.from(encodePng(chunks));
}

/** The first baked badge in a PNG: its version and text, or null when there is none. */
export function unbakePng(png: Uint8Array): { kind: BakeKind; text: string } | null {
  if (!isPng(png)) return null;
  for (const chunk of extractPng(png)) {
    const keyword = chunkKeyword(chunk);
    if (!keyword || !BAKED_KEYWORDS.has(keyword)) continue;
    const kind: BakeKind = keyword === PNG_KEYWORD.ob3 ? 'ob3' : 'ob2';
    const rest = Buffer.from(chunk.data.subarray(keyword.length + 1));
    if (chunk.name === 'tEXt') return { kind, text: rest.toString('latin1') };
    if (chunk.name === 'zTXt') return { kind, text: inflateSync(rest.subarray(1)).toString('latin1') };
    // iTXt: compression flag, method, language tag NUL, translated keyword NUL, text
    const compressed = rest[0] === 1;
    const afterLanguage = rest.indexOf(0, 2);
    const afterTranslated = rest.indexOf(0, afterLanguage + 1);
    const body = rest.subarray(afterTranslated + 1);
    return { kind, text: (compressed ? inflateSync(body) : body).toString('utf8') };
  }
  return null;
}

const cdata = (text: string) => `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
const escapeAttr = (v: string) =>
  v.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * Bakes into an SVG: the element goes right after the `<svg>` start tag, which gains the badge
 * namespace. OB 3.0 carries the credential's JSON; OB 2.0 the hosted assertion URL in `verify`
 * (and the assertion JSON when given). Earlier badge elements are removed.
 */
export function bakeSvg(svg: string, kind: BakeKind, content: { json?: string; verify?: string }): string {
  let out = removeBakedSvgElements(svg);
  const start = /<svg\b[^>]*>/i.exec(out);
  if (!start) throw new Error('Cannot bake: no <svg> element');
  let tag = start[0].replace(/\s+xmlns:openbadges\s*=\s*("[^"]*"|'[^']*')/i, '');
  tag = tag.replace(/(\/?)>$/, ` xmlns:openbadges="${SVG_NAMESPACE[kind]}"$1>`);
  const element = kind === 'ob3' ? 'credential' : 'assertion';
  const verify = content.verify ? ` verify="${escapeAttr(content.verify)}"` : '';
  const body = content.json ? cdata(content.json) : '';
  const baked = `<openbadges:${element}${verify}>${body}</openbadges:${element}>`;
  out = `${out.slice(0, start.index)}${tag}${baked}${out.slice(start.index + start[0].length)}`;
  return out;
}

function removeBakedSvgElements(svg: string): string {
  let out = svg;
  for (const prefix of badgePrefixes(svg).map((p) => p.prefix))
    out = out.replace(
      new RegExp(`<${prefix}:(credential|assertion)\\b[^>]*?(/>|>[\\s\\S]*?</${prefix}:\\1\\s*>)`, 'g'),
      '',
    );
  return out;
}

/** Namespace prefixes bound to either badge namespace, e.g. `openbadges`. */
function badgePrefixes(svg: string): { prefix: string; kind: BakeKind }[] {
  const out: { prefix: string; kind: BakeKind }[] = [];
  for (const m of svg.matchAll(/xmlns:([A-Za-z_][\w.-]*)\s*=\s*["']([^"']+)["']/g)) {
    const ns = m[2]!.replace(/\/+$/, '');
    if (ns === SVG_NAMESPACE.ob3) out.push({ prefix: m[1]!, kind: 'ob3' });
    else if (ns === SVG_NAMESPACE.ob2) out.push({ prefix: m[1]!, kind: 'ob2' });
  }
  return out;
}

const decodeEntities = (v: string) =>
  v
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

/**
 * The first baked badge in an SVG: the element's JSON (CDATA or text) and its `verify` attribute
 * (an OB 2.0 hosted URL or signed JWS, or an OB 3.0 VC-JWT), or null when there is none.
 */
export function unbakeSvg(
  svg: string,
): { kind: BakeKind; text: string | null; verify: string | null } | null {
  for (const { prefix, kind } of badgePrefixes(svg)) {
    const m = new RegExp(
      `<${prefix}:(credential|assertion)\\b([^>]*?)(/>|>([\\s\\S]*?)</${prefix}:\\1\\s*>)`,
    ).exec(svg);
    if (!m) continue;
    const verify = /\bverify\s*=\s*("([^"]*)"|'([^']*)')/.exec(m[2] ?? '');
    const inner = m[4] ?? '';
    const cdataParts = [...inner.matchAll(/<!\[CDATA\[([\s\S]*?)\]\]>/g)].map((c) => c[1]);
    const text = (cdataParts.length ? cdataParts.join('') : decodeEntities(inner)).trim();
    return {
      kind,
      text: text || null,
      verify: verify ? decodeEntities(verify[2] ?? verify[3] ?? '') : null,
    };
  }
  return null;
}
