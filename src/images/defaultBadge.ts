import { createHash } from 'node:crypto';

const escapeXml = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** Background colours dark enough for white text (contrast ≥ 4.5:1). */
const PALETTE = ['#1f5f99', '#6b3fa0', '#0f6e5a', '#9c3b1c', '#7a4a00', '#34495e', '#a0224f', '#2e6b1f'];

/** Up to two initials of a badge name ("Quiz champion" → "QC"). */
export function initials(name: string): string {
  const words = name
    .trim()
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  const letters = words.slice(0, 2).map((w) => [...w.replace(/^[^\p{L}\p{N}]+/u, '')][0] ?? '');
  return letters.join('').toUpperCase() || '★';
}

/**
 * The badge shown when a template has no image of its own: a laurel-ringed medallion with the
 * badge's initials, its colour chosen from the template id so each badge looks distinct.
 */
export function defaultBadgeSvg(name: string, seed: string): string {
  const hash = createHash('sha256').update(seed).digest();
  const colour = PALETTE[hash[0]! % PALETTE.length]!;
  const label = escapeXml(initials(name));
  const title = escapeXml(name);
  const leaves = Array.from({ length: 9 }, (_, i) => {
    const angle = 200 + i * 16;
    return [angle, 360 - angle]
      .map(
        (a) => `<ellipse cx="128" cy="30" rx="7" ry="15" transform="rotate(${a} 128 128)" fill="#f2c94c"/>`,
      )
      .join('');
  }).join('');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256" width="256" height="256" role="img" aria-label="${title}">`,
    `<title>${title}</title>`,
    `<circle cx="128" cy="128" r="124" fill="${colour}"/>`,
    '<circle cx="128" cy="128" r="104" fill="none" stroke="#ffffff" stroke-opacity="0.35" stroke-width="4"/>',
    leaves,
    `<text x="128" y="128" dy="0.35em" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" font-size="${label.length > 1 ? 84 : 104}" font-weight="700" fill="#ffffff">${label}</text>`,
    '</svg>',
  ].join('');
}
