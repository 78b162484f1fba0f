import { unbakePng } from '../../src/issuers/openbadges/bake.js';
import { encodeRgbaPng } from '../../src/images/rasterBadge.js';
import { checkBadgeImage, sniffType } from '../../src/images/check.js';
import { sanitizeSvg } from '../../src/images/sanitizeSvg.js';
import type { TestLaurel } from '../support/laurel.js';
import { ADMIN_KEY, registerTestPlatform, type TestPlatformRecord } from '../support/api.js';
import { earnIssued, gradeTemplate, startPublicLaurel } from './support.js';

const png = (w = 128, h = 128) => encodeRgbaPng(w, h, new Uint8Array(w * h * 4).fill(180));
const HOSTILE_SVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 200 200" onload="alert('loaded')">
  <script>alert('script')</script>
  <style>@import url(https://evil.example/x.css); .ring { fill: #1f5f99 }</style>
  <circle class="ring" cx="100" cy="100" r="90" onclick="steal()"/>
  <a xlink:href="javascript:alert(1)"><text x="50" y="100">Badge</text></a>
  <image href="https://tracker.example/pixel.png" width="1" height="1"/>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>
</svg>`;

describe('badge image checks (no database)', () => {
  it('recognises PNG and SVG by their bytes, and names other formats', () => {
    expect(sniffType(png())).toBe('image/png');
    expect(
      sniffType(
        Buffer.from('\uFEFF  <?xml version="1.0"?>\n<!-- made by hand -->\n<svg viewBox="0 0 1 1"/>'),
      ),
    ).toBe('image/svg+xml');
    expect(sniffType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffType(Buffer.from('GIF89a'))).toBe('gif');
    expect(sniffType(Buffer.from('hello'))).toBeNull();
  });

  it.each([
    ['an empty body', Buffer.alloc(0), /empty/],
    [
      'an oversize image',
      Buffer.concat([png(), Buffer.alloc(300 * 1024)]),
      /too large: \d+ KiB, at most 256 KiB/,
    ],
    ['a text file', Buffer.from('just some text'), /not a PNG or SVG/],
    ['a JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), /JPEG; badges must be PNG or SVG/],
    ['a truncated PNG', png().subarray(0, 60), /PNG is malformed/],
    [
      'a PNG with a broken checksum',
      Buffer.from(png().map((b, i) => (i === 40 ? b ^ 0xff : b))),
      /PNG is malformed/,
    ],
    ['a wide PNG', png(300, 100), /300×100; a badge must be \(nearly\) square/],
    ['a tiny PNG', png(16, 16), /16×16 pixels; sides must be between 64 and 2048/],
    [
      'an SVG without a size',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'),
      /no size/,
    ],
  ])('refuses %s with a message naming the problem', (_what, bytes, message) => {
    expect(() => checkBadgeImage(bytes)).toThrow(message);
  });

  it('refuses a body whose declared type is not what its bytes are', () => {
    expect(() => checkBadgeImage(png(), 'image/svg+xml')).toThrow(
      'The body is image/png but was sent as image/svg+xml.',
    );
  });

  it('sanitises SVG: no script, no event handler, no remote or javascript: link, no foreignObject', () => {
    const { svg, removed } = sanitizeSvg(HOSTILE_SVG);
    expect(svg).toContain('<circle');
    expect(svg).toContain('viewBox="0 0 200 200"');
    for (const gone of [
      '<script',
      'onload',
      'onclick',
      'javascript:',
      'tracker.example',
      'evil.example',
      'foreignObject',
    ])
      expect([gone, svg.includes(gone)]).toEqual([gone, false]);
    expect(removed).toEqual(
      expect.arrayContaining(['<script>', 'attribute onload', 'attribute onclick', '<foreignobject>']),
    );
  });
});

describe('PUT /api/v1/templates/:id/image and /images/:id', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  const put = async (templateId: string, body: Buffer | string, type: string) => {
    const res = await fetch(`${t.url}/api/v1/templates/${templateId}/image`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': type },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    t = await startPublicLaurel();
    platform = await registerTestPlatform(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('stores a PNG in GridFS, serves it with its type and long caching, and issues credentials with it', async () => {
    const templateId = await gradeTemplate(t, platform);
    const bytes = png(256, 256);
    const answer = await put(templateId, bytes, 'image/png');
    expect(answer.status).toBe(200);
    expect(answer.body.imageId).toBe(answer.body.image.id);
    expect(answer.body.image).toMatchObject({
      contentType: 'image/png',
      width: 256,
      height: 256,
      bytes: bytes.length,
      removed: [],
    });
    expect(answer.body.image.url).toBe(`${t.url}/images/${answer.body.image.id}`);
    // The same file twice is one stored image.
    expect((await put(templateId, bytes, 'image/png')).body.image.id).toBe(answer.body.image.id);

    const served = await fetch(answer.body.image.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    const again = await fetch(answer.body.image.url, {
      headers: { 'if-none-match': served.headers.get('etag')! },
    });
    expect(again.status).toBe(304);

    const credentialId = await earnIssued(t, platform, templateId, { id: '77', email: 'kay@example.edu' });
    const signed: any = (await t.laurel.ctx.models.credentials.findById(credentialId).lean())!.signed;
    expect(signed.credentialSubject.achievement.image.id).toBe(answer.body.image.url);
    // The baked PNG is the uploaded image with the credential in it.
    const baked = Buffer.from(
      await (await fetch(`${t.url}/credentials/${credentialId}/image.png`)).arrayBuffer(),
    );
    expect(JSON.parse(unbakePng(baked)!.text)).toEqual(signed);
    expect(baked.subarray(0, 33).equals(bytes.subarray(0, 33))).toBe(true);
  });

  it('sanitises an uploaded SVG with a <script> and onload, and serves it under a locked-down CSP', async () => {
    const templateId = await gradeTemplate(t, platform);
    const answer = await put(templateId, HOSTILE_SVG, 'image/svg+xml');
    expect(answer.status).toBe(200);
    expect(answer.body.image.contentType).toBe('image/svg+xml');
    expect(answer.body.image.removed).toEqual(expect.arrayContaining(['<script>', 'attribute onload']));
    const served = await fetch(answer.body.image.url);
    expect(served.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(served.headers.get('content-security-policy')).toContain("default-src 'none'");
    const svg = await served.text();
    expect(svg).not.toMatch(/<script|onload|onclick|javascript:/);
    expect(svg).toContain('<circle');
  });

  it.each([
    ['oversize', Buffer.alloc(300 * 1024, 1), 'image/png', /too large/],
    ['far over the parser cap', Buffer.alloc(5 * 1024 * 1024, 1), 'image/png', /too large: over 4 MiB/],
    ['malformed', png().subarray(0, 50), 'image/png', /PNG is malformed/],
    ['not an image', 'hello, world', 'text/plain', /not a PNG or SVG/],
    ['JSON instead of a file', '{"image":"x"}', 'application/json', /Send the PNG or SVG file itself/],
  ])('answers 400 naming the problem for an upload that is %s', async (_what, body, type, message) => {
    const templateId = await gradeTemplate(t, platform);
    const answer = await put(templateId, body, type);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_image');
    expect(answer.body.message).toMatch(message);
    expect(answer.body.details).toEqual([{ path: 'image', message: answer.body.message }]);
    const template = await t.laurel.ctx.models.templates.findById(templateId).lean();
    expect(template!.imageId).toBeNull();
  });

  it('answers 404 for an unknown template and 401 without the admin key', async () => {
    expect((await put('0123456789abcdef01234567', png(), 'image/png')).status).toBe(404);
    const res = await fetch(`${t.url}/api/v1/templates/0123456789abcdef01234567/image`, {
      method: 'PUT',
      body: new Uint8Array(png()),
    });
    expect(res.status).toBe(401);
  });

  it('draws a default SVG badge for a template without an image', async () => {
    const templateId = await gradeTemplate(t, platform, { name: 'Équipe & <Co>' });
    const res = await fetch(`${t.url}/images/default/${templateId}.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const svg = await res.text();
    expect(svg).toContain('<title>Équipe &amp; &lt;Co&gt;</title>');
    expect(svg).toMatch(/>É&lt;<\/text>|>ÉC<\/text>|>É<\/text>/);
    expect(sniffType(Buffer.from(svg))).toBe('image/svg+xml');
    expect(() => checkBadgeImage(Buffer.from(svg))).not.toThrow();
  });
});
