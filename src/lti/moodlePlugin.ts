import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Request, Response } from 'express';
import yazl from 'yazl';

/** Where Laurel serves the Moodle plugin (ARCHITECTURE.md, external contracts). */
export const MOODLE_PLUGIN_PATH = '/lti/moodle/local_laurel.zip';

/** The plugin's folder in the repository, and its top folder inside the ZIP (Moodle wants `laurel/`). */
export const MOODLE_PLUGIN_SOURCE = path.join('lti', 'moodle', 'local_laurel');
export const MOODLE_PLUGIN_TOP_FOLDER = 'laurel';

/** Every entry's time: the same bytes from the same files, whenever the ZIP is built. */
const ENTRY_TIME = new Date('2026-01-01T00:00:00Z');

export type MoodlePluginZip = { bytes: Buffer; etag: string; files: string[] };

/**
 * The plugin's folder: lti/moodle/local_laurel beside src/ (tsx, ts-jest) or beside dist/ (the
 * built server and its Docker image), found by walking up from this module.
 */
export function findMoodlePluginFolder(start = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, MOODLE_PLUGIN_SOURCE);
    if (existsSync(path.join(candidate, 'version.php'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`the Moodle plugin's folder (${MOODLE_PLUGIN_SOURCE}) was not found`);
    dir = parent;
  }
}

/** The plugin's files, relative and with forward slashes, sorted; hidden files left out. */
async function listFiles(root: string, sub = ''): Promise<string[]> {
  const entries = await readdir(path.join(root, sub), { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(root, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/** Builds the installable ZIP: one top folder `laurel/` holding the plugin as Moodle's installer wants it. */
export async function buildMoodlePluginZip(folder = findMoodlePluginFolder()): Promise<MoodlePluginZip> {
  const files = await listFiles(folder);
  const zip = new yazl.ZipFile();
  const folders = new Set<string>([MOODLE_PLUGIN_TOP_FOLDER]);
  for (const rel of files) {
    const parts = rel.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++)
      folders.add(`${MOODLE_PLUGIN_TOP_FOLDER}/${parts.slice(0, i).join('/')}`);
  }
  for (const dir of [...folders].sort()) zip.addEmptyDirectory(dir, { mtime: ENTRY_TIME, mode: 0o40755 });
  for (const rel of files) {
    const content = await readFile(path.join(folder, ...rel.split('/')));
    zip.addBuffer(content, `${MOODLE_PLUGIN_TOP_FOLDER}/${rel}`, { mtime: ENTRY_TIME, mode: 0o100644 });
  }
  zip.end();
  const chunks: Buffer[] = [];
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
  return { bytes, etag, files: files.map((f) => `${MOODLE_PLUGIN_TOP_FOLDER}/${f}`) };
}

/**
 * GET /lti/moodle/local_laurel.zip: the plugin as Moodle's plugin installer takes it, built from the
 * folder on the first request and kept for the life of the process.
 */
export function moodlePluginHandler(folder?: string) {
  let built: Promise<MoodlePluginZip> | undefined;
  return async (req: Request, res: Response): Promise<void> => {
    built ??= buildMoodlePluginZip(folder).catch((err: unknown) => {
      built = undefined; // A failed build is tried again on the next request.
      throw err;
    });
    const zip = await built;
    res.set({
      'Content-Type': 'application/zip',
      'Content-Disposition': 'attachment; filename="local_laurel.zip"',
      'Cache-Control': 'public, max-age=300',
      ETag: zip.etag,
    });
    const known = (req.header('if-none-match') ?? '').split(',').map((tag) => tag.trim().replace(/^W\//, ''));
    if (known.includes(zip.etag)) {
      res.status(304).end();
      return;
    }
    res.send(zip.bytes);
  };
}
