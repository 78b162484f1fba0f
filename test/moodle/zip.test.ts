import { readFileSync } from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import { MOODLE_PLUGIN_PATH } from '../../src/lti/moodlePlugin.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { PLUGIN_DIR, phpFiles } from './php.js';

type Entry = { name: string; content: Buffer | null };

/** Every entry of a ZIP: folders (ending in /) without content, files with theirs. */
function unzip(bytes: Buffer): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, strictFileNames: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const entries: Entry[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(entries));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) {
          entries.push({ name: entry.fileName, content: null });
          zip.readEntry();
          return;
        }
        zip.openReadStream(entry, (streamErr, stream) => {
          if (streamErr || !stream) return reject(streamErr ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            entries.push({ name: entry.fileName, content: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

describe('GET /lti/moodle/local_laurel.zip', () => {
  let t: TestLaurel;
  beforeAll(async () => {
    t = await startTestLaurel();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('serves the plugin as Moodle’s plugin installer takes it: one folder laurel/ holding local_laurel', async () => {
    const res = await fetch(`${t.url}${MOODLE_PLUGIN_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toContain('local_laurel.zip');
    const entries = await unzip(Buffer.from(await res.arrayBuffer()));
    const names = entries.map((e) => e.name);

    expect(new Set(names.map((n) => n.split('/')[0]))).toEqual(new Set(['laurel']));
    expect(names).toContain('laurel/');
    for (const file of [
      'laurel/version.php',
      'laurel/settings.php',
      'laurel/test.php',
      'laurel/db/events.php',
      'laurel/lang/en/local_laurel.php',
      'laurel/classes/observer.php',
      'laurel/classes/task/send_events.php',
      'laurel/classes/privacy/provider.php',
    ])
      expect(names).toContain(file);
    // The standalone tests and their Moodle stubs stay out of the plugin.
    expect(names.filter((n) => /tests-standalone|stubs\.php|filelib\.php/.test(n))).toEqual([]);

    const version = entries.find((e) => e.name === 'laurel/version.php')!.content!.toString('utf8');
    expect(version).toMatch(/\$plugin->component\s*=\s*'local_laurel';/);

    // Exactly the plugin's files, byte for byte.
    const onDisk = phpFiles(PLUGIN_DIR).map(
      (f) => `laurel/${path.relative(PLUGIN_DIR, f).split(path.sep).join('/')}`,
    );
    const zipped = entries.filter((e) => e.content && e.name.endsWith('.php'));
    expect(zipped.map((e) => e.name).sort()).toEqual(onDisk.sort());
    for (const e of zipped)
      expect(e.content!.equals(readFileSync(path.join(PLUGIN_DIR, ...e.name.split('/').slice(1))))).toBe(
        true,
      );
  });

  it('is built once per process and answers 304 to a matching ETag', async () => {
    const first = await fetch(`${t.url}${MOODLE_PLUGIN_PATH}`);
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const bytes = Buffer.from(await first.arrayBuffer());
    const second = await fetch(`${t.url}${MOODLE_PLUGIN_PATH}`);
    expect(Buffer.from(await second.arrayBuffer()).equals(bytes)).toBe(true);
    const cached = await fetch(`${t.url}${MOODLE_PLUGIN_PATH}`, { headers: { 'if-none-match': etag! } });
    expect(cached.status).toBe(304);
  });
});
