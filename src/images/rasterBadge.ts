import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import encodePng from 'png-chunks-encode';
import { initials } from './defaultBadge.js';

/**
 * A raster twin of the default SVG badge, drawn here because Laurel has no SVG rasteriser: a
 * baked PNG needs a PNG to bake into, even for a badge whose image is an SVG.
 */

/** 5×7 glyphs, one row per number (bit 4 = leftmost pixel). */
const GLYPHS: Record<string, number[]> = {
  A: [14, 17, 17, 31, 17, 17, 17],
  B: [30, 17, 17, 30, 17, 17, 30],
  C: [14, 17, 16, 16, 16, 17, 14],
  D: [30, 17, 17, 17, 17, 17, 30],
  E: [31, 16, 16, 30, 16, 16, 31],
  F: [31, 16, 16, 30, 16, 16, 16],
  G: [14, 17, 16, 23, 17, 17, 14],
  H: [17, 17, 17, 31, 17, 17, 17],
  I: [14, 4, 4, 4, 4, 4, 14],
  J: [7, 2, 2, 2, 2, 18, 12],
  K: [17, 18, 20, 24, 20, 18, 17],
  L: [16, 16, 16, 16, 16, 16, 31],
  M: [17, 27, 21, 21, 17, 17, 17],
  N: [17, 25, 21, 19, 17, 17, 17],
  O: [14, 17, 17, 17, 17, 17, 14],
  P: [30, 17, 17, 30, 16, 16, 16],
  Q: [14, 17, 17, 17, 21, 18, 13],
  R: [30, 17, 17, 30, 20, 18, 17],
  S: [15, 16, 16, 14, 1, 1, 30],
  T: [31, 4, 4, 4, 4, 4, 4],
  U: [17, 17, 17, 17, 17, 17, 14],
  V: [17, 17, 17, 17, 17, 10, 4],
  W: [17, 17, 17, 21, 21, 21, 10],
  X: [17, 17, 10, 4, 10, 17, 17],
  Y: [17, 17, 10, 4, 4, 4, 4],
  Z: [31, 1, 2, 4, 8, 16, 31],
  '0': [14, 17, 19, 21, 25, 17, 14],
  '1': [4, 12, 4, 4, 4, 4, 14],
  '2': [14, 17, 1, 2, 4, 8, 31],
  '3': [30, 1, 1, 14, 1, 1, 30],
  '4': [2, 6, 10, 18, 31, 2, 2],
  '5': [31, 16, 30, 1, 1, 17, 14],
  '6': [14, 16, 16, 30, 17, 17, 14],
  '7': [31, 1, 2, 4, 8, 8, 8],
  '8': [14, 17, 17, 14, 17, 17, 14],
  '9': [14, 17, 17, 15, 1, 1, 14],
  '*': [4, 4, 31, 14, 10, 17, 0],
};

const PALETTE: [number, number, number][] = [
  [0x1f, 0x5f, 0x99],
  [0x6b, 0x3f, 0xa0],
  [0x0f, 0x6e, 0x5a],
  [0x9c, 0x3b, 0x1c],
  [0x7a, 0x4a, 0x00],
  [0x34, 0x49, 0x5e],
  [0xa0, 0x22, 0x4f],
  [0x2e, 0x6b, 0x1f],
];

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** Encodes RGBA pixels as a PNG (8-bit, no interlace, filter 0 on every row). */
export function encodeRgbaPng(width: number, height: number, rgba: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++)
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1);
  return Buffer.from(
    encodePng([
      { name: 'IHDR', data: new Uint8Array(header) },
      { name: 'IDAT', data: new Uint8Array(deflateSync(raw)) },
      { name: 'IEND', data: new Uint8Array(0) },
    ]),
  );
}

/** The default badge as a 256×256 PNG: coloured medallion, light ring, white initials. */
export function defaultBadgePng(name: string, seed: string): Buffer {
  const size = 256;
  const c = size / 2;
  const hash = createHash('sha256').update(seed).digest();
  const [r, g, b] = PALETTE[hash[0]! % PALETTE.length]!;
  const label = [
    ...initials(name)
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, ''),
  ]
    .map((ch) => (GLYPHS[ch] ? ch : '*'))
    .slice(0, 2);
  const scale = label.length > 1 ? 11 : 14;
  const gap = scale;
  const textWidth = label.length * 5 * scale + (label.length - 1) * gap;
  const left = Math.round(c - textWidth / 2);
  const top = Math.round(c - (7 * scale) / 2);
  const px = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - c, y + 0.5 - c);
      const disc = clamp01(124 - d + 0.5);
      if (disc === 0) continue;
      // Ring between radii 101 and 106, white at 35 %.
      const ring = clamp01(Math.min(d - 101 + 0.5, 106 - d + 0.5)) * 0.35;
      let [pr, pg, pb] = [r, g, b];
      pr += (255 - pr) * ring;
      pg += (255 - pg) * ring;
      pb += (255 - pb) * ring;
      const gx = x - left;
      const gy = y - top;
      if (gy >= 0 && gy < 7 * scale && gx >= 0 && gx < textWidth) {
        const cell = Math.floor(gx / (5 * scale + gap));
        const within = gx - cell * (5 * scale + gap);
        const glyph = GLYPHS[label[cell] ?? ''];
        if (glyph && within < 5 * scale) {
          const col = Math.floor(within / scale);
          if ((glyph[Math.floor(gy / scale)]! >> (4 - col)) & 1) [pr, pg, pb] = [255, 255, 255];
        }
      }
      const i = (y * size + x) * 4;
      px[i] = Math.round(pr);
      px[i + 1] = Math.round(pg);
      px[i + 2] = Math.round(pb);
      px[i + 3] = Math.round(disc * 255);
    }
  return encodeRgbaPng(size, size, px);
}
