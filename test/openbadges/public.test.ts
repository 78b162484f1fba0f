import express from 'express';
import { unbakePng, unbakeSvg } from '../../src/issuers/openbadges/bake.js';
import { identityHash } from '../../src/issuers/openbadges/build.js';
import { verifyBadge } from '../../src/issuers/openbadges/verify.js';
import { checkOb2Shape } from '../../src/issuers/openbadges/verifyOb2.js';
import { rateLimit } from '../../src/web/public/rateLimit.js';
import { HttpError } from '../../src/errors.js';
import type { TestLaurel } from '../support/laurel.js';
import { admin, registerTestPlatform, type TestPlatformRecord } from '../support/api.js';
import { earnIssued, gradeTemplate, loopbackFetcher, startPublicLaurel } from './support.js';

const failed = (r: { checks: { check: string; ok: boolean }[] }) =>
  r.checks.filter((c) => !c.ok).map((c) => c.check);
/** The text of the element carrying data-field="…" (tags removed, whitespace collapsed). */
const field = (html: string, name: string) => {
  const m = new RegExp(`<(\\w+)[^>]*data-field="${name}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  return m
    ? m[2]!
        .replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ')
        .trim()
    : null;
};

describe('public credential pages, downloads and OB 2.0 hosted objects', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  let templateId: string;
  let credentialId: string;
  let signed: any;
  const page = async (path: string, accept = 'text/html') => {
    const res = await fetch(`${t.url}${path}`, { headers: { accept } });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  /** A credential recorded straight into the database, for states the pipeline would take long to reach. */
  const recorded = async (over: Record<string, unknown>) => {
    const ctx = t.laurel.ctx;
    const template = await ctx.models.templates.findById(templateId).lean();
    const key = `p-${Math.random().toString(36).slice(2)}`;
    const person = await ctx.models.people.create({
      platformId: template!.platformId,
      ids: [key],
      name: 'Mary Somerville',
      createKey: `${String(template!.platformId)}:${key}`,
    });
    const c = await ctx.models.credentials.create({
      platformId: template!.platformId,
      templateId: template!._id,
      personId: person._id,
      userId: key,
      status: 'awarded',
      liveSlot: 'live',
      awardedAt: new Date(),
      awardedBy: { type: 'system', id: null },
      evidence: [],
      ...over,
    });
    return String(c._id);
  };

  beforeAll(async () => {
    t = await startPublicLaurel();
    platform = await registerTestPlatform(t);
    templateId = await gradeTemplate(t, platform, { name: 'Titration expert', expiresAfterDays: 30 });
    credentialId = await earnIssued(t, platform, templateId, {
      id: '57',
      email: 'ada@example.edu',
      name: 'Ada Lovelace',
    });
    signed = (await t.laurel.ctx.models.credentials.findById(credentialId).lean())!.signed;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('shows every field on the verification page, with a live “verified” result', async () => {
    const res = await page(`/credentials/${credentialId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = res.text;
    expect(html).toContain(
      `<img src="${signed.credentialSubject.achievement.image.id}" alt="Badge image: Titration expert"`,
    );
    expect(html).toContain('<h1 id="badge-name">Titration expert</h1>');
    expect(field(html, 'learner')).toBe('Ada Lovelace');
    expect(field(html, 'status')).toBe('✔ Valid and verified');
    expect(field(html, 'issuer')).toBe(`${signed.issuer.name} (${signed.issuer.url}) · issuer profile`);
    expect(html).toContain(`href="${signed.issuer.id}"`);
    const day = (iso: string) =>
      new Date(iso).toLocaleDateString('en-GB', {
        day: 'numeric',
        month: 'long',
        year: 'numeric',
        timeZone: 'UTC',
      });
    expect(field(html, 'awarded')).toBe(day(signed.validFrom));
    expect(field(html, 'issued')).toMatch(/\d{4}$/);
    expect(field(html, 'expires')).toBe(day(signed.validUntil));
    expect(field(html, 'description')).toBe('Top marks on quiz 3.');
    expect(field(html, 'criteria')).toBe('80% or more on Quiz 3. About this badge');
    expect(field(html, 'tags')).toBe('chemistry');
    expect(field(html, 'alignments')).toBe('Stoichiometry');
    expect(field(html, 'evidence')).toMatch(/^Grade on activity “quiz-3”: Scored 17 out of 20 \(85%\)/);
    expect(field(html, 'verified')).toBe('Verified: every check passed.');
    expect(html.match(/class="check-ok">Passed</g)).toHaveLength(5);
    for (const download of ['image.png', 'image.svg', 'credential.json', 'image-ob2.png'])
      expect(html).toContain(`${t.url}/credentials/${credentialId}/${download}`);
    // Never the learner's e-mail address.
    expect(html).not.toContain('ada@example.edu');
    // Accessible basics: a language, one h1, labelled image, status announced.
    expect(html).toMatch(/<html lang="en">/);
    expect(html.match(/<h1\b/g)).toHaveLength(1);
    expect(html).toContain('role="status"');
    expect(html).toContain('name="viewport" content="width=device-width, initial-scale=1"');
  });

  it('answers the signed credential by content negotiation', async () => {
    for (const accept of ['application/ld+json', 'application/json', 'application/vc+ld+json']) {
      const res = await page(`/credentials/${credentialId}`, accept);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(new RegExp(`^${accept.replaceAll('+', '\\+')}`));
      expect(JSON.parse(res.text)).toEqual(signed);
    }
    expect((await page(`/credentials/${credentialId}`, 'text/html,application/json;q=0.9')).text).toContain(
      '<!doctype html>',
    );
  });

  it('shows a clear “being issued” page while the credential is not signed yet', async () => {
    const id = await recorded({});
    const res = await page(`/credentials/${id}`);
    expect(res.status).toBe(200);
    expect(field(res.text, 'status')).toBe('⏳ Being issued');
    expect(res.text).toContain('reload the page shortly');
    const json = await page(`/credentials/${id}`, 'application/json');
    expect(json.status).toBe(404);
    expect(json.headers.get('retry-after')).toBe('30');
    expect(JSON.parse(json.text).error).toBe('not_issued');
  });

  it('shows an expired credential as expired', async () => {
    const expiresAt = new Date(Date.now() - 86_400_000);
    const id = await recorded({
      status: 'expired',
      liveSlot: 'gone',
      expiresAt,
      expiredAt: expiresAt,
      signed,
    });
    const res = await page(`/credentials/${id}`);
    expect(field(res.text, 'status')).toBe('⌛ Expired');
    // Said first, the picture greyed, and nothing to download although it was signed.
    expect(res.text.indexOf('data-field="status"')).toBeLessThan(res.text.indexOf('id="badge-name"'));
    expect(res.text).toContain('class="credential credential-ended"');
    expect(res.text).not.toContain('Download or share');
    expect(res.text).not.toContain('/image.png');
  });

  it('round-trips the baked PNG and SVG (OB 3.0), and the OB 2.0 baked PNG', async () => {
    const png = Buffer.from(
      await (await fetch(`${t.url}/credentials/${credentialId}/image.png`)).arrayBuffer(),
    );
    const fromPng = unbakePng(png);
    expect(fromPng?.kind).toBe('ob3');
    expect(JSON.parse(fromPng!.text)).toEqual(signed);
    expect(failed(await verifyBadge(png, { fetcher: loopbackFetcher(t) }))).toEqual([]);

    const svgRes = await fetch(`${t.url}/credentials/${credentialId}/image.svg`);
    expect(svgRes.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const svg = await svgRes.text();
    const fromSvg = unbakeSvg(svg);
    expect(fromSvg?.kind).toBe('ob3');
    expect(JSON.parse(fromSvg!.text!)).toEqual(signed);
    const svgResult = await verifyBadge(svg, { fetcher: loopbackFetcher(t) });
    expect(failed(svgResult)).toEqual([]);
    expect(svgResult.format).toBe('ob3-data-integrity');

    const ob2 = Buffer.from(
      await (await fetch(`${t.url}/credentials/${credentialId}/image-ob2.png`)).arrayBuffer(),
    );
    expect(unbakePng(ob2)).toEqual({ kind: 'ob2', text: `${t.url}/ob2/assertions/${credentialId}` });
    const hosted = await verifyBadge(ob2, { fetcher: loopbackFetcher(t) });
    expect(failed(hosted)).toEqual([]);
    expect(hosted.format).toBe('ob2-hosted');
  });

  it('publishes the OB 2.0 Assertion, BadgeClass and Issuer with every required property', async () => {
    const assertion = JSON.parse((await page(`/ob2/assertions/${credentialId}`, 'application/ld+json')).text);
    const doc = await t.laurel.ctx.models.credentials.findById(credentialId).lean();
    expect(assertion).toMatchObject({
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'Assertion',
      id: `${t.url}/ob2/assertions/${credentialId}`,
      recipient: {
        type: 'email',
        hashed: true,
        salt: doc!.recipientSalt,
        identity: identityHash('ada@example.edu', doc!.recipientSalt!),
      },
      badge: `${t.url}/ob2/badges/${templateId}`,
      verification: { type: 'HostedBadge' },
      issuedOn: signed.validFrom,
      expires: signed.validUntil,
      image: `${t.url}/credentials/${credentialId}/image-ob2.png`,
    });
    const badge = JSON.parse((await page(`/ob2/badges/${templateId}`, 'application/json')).text);
    expect(badge).toMatchObject({
      type: 'BadgeClass',
      id: `${t.url}/ob2/badges/${templateId}`,
      name: 'Titration expert',
      description: 'Top marks on quiz 3.',
      image: expect.stringMatching(/^http/),
      criteria: { narrative: '80% or more on Quiz 3.' },
      issuer: expect.stringMatching(new RegExp(`^${t.url}/ob2/issuers/`)),
      tags: ['chemistry'],
      alignment: [{ targetName: 'Stoichiometry', targetUrl: 'https://standards.example.org/chem/1' }],
    });
    const issuer = JSON.parse((await page(new URL(badge.issuer).pathname, 'application/ld+json')).text);
    expect(issuer).toMatchObject({
      type: 'Issuer',
      id: badge.issuer,
      name: expect.any(String),
      url: expect.any(String),
      email: expect.any(String),
    });
    expect(checkOb2Shape(assertion, badge, issuer)).toMatchObject({ ok: true });
  });

  it('answers a revoked OB 2.0 assertion with 410, revoked: true and the reason', async () => {
    const id = await earnIssued(t, platform, templateId, {
      id: '60',
      email: 'emmy@example.edu',
      name: 'Emmy Noether',
    });
    await admin(t, 'POST', `/credentials/${id}/revoke`, { reason: 'Awarded to the wrong learner' });
    const res = await page(`/ob2/assertions/${id}`, 'application/ld+json');
    expect(res.status).toBe(410);
    expect(JSON.parse(res.text)).toEqual({
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'Assertion',
      id: `${t.url}/ob2/assertions/${id}`,
      revoked: true,
      revocationReason: 'Awarded to the wrong learner',
    });
    const html = (await page(`/credentials/${id}`)).text;
    expect(field(html, 'status')).toBe('✖ Revoked');
    expect(field(html, 'revoked-reason')).toBe('Awarded to the wrong learner');
    const hosted = await verifyBadge(`${t.url}/ob2/assertions/${id}`, { fetcher: loopbackFetcher(t) });
    expect(failed(hosted)).toEqual(['status']);
  });

  it('answers unknown ids with a 404 page, never a stack trace', async () => {
    for (const path of [
      '/credentials/nope',
      '/credentials/0123456789abcdef01234567',
      '/issuers/x',
      '/ob2/assertions/0123456789abcdef01234567',
      '/images/0123456789abcdef01234567',
    ]) {
      const res = await page(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
    }
  });

  it('rate-limits through MongoDB, so two processes share one budget', async () => {
    const app = (name: string) => {
      const a = express();
      a.set('trust proxy', false);
      a.get(
        '/limited',
        rateLimit(t.laurel.ctx, { bucket: 'test-limit', limit: 2, windowMs: 60_000 }),
        (_req, res) => {
          res.send(name);
        },
      );
      a.use((err: HttpError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(err.status).json({ error: err.code, message: err.message });
      });
      return a;
    };
    const listen = (a: express.Express) =>
      new Promise<{ url: string; close: () => void }>((resolve) => {
        const server = a.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          resolve({ url: `http://127.0.0.1:${port}/limited`, close: () => server.close() });
        });
      });
    const [one, two] = await Promise.all([listen(app('one')), listen(app('two'))]);
    try {
      const first = await fetch(one.url);
      expect(first.status).toBe(200);
      expect(first.headers.get('ratelimit-limit')).toBe('2');
      expect(first.headers.get('ratelimit-remaining')).toBe('1');
      expect((await fetch(two.url)).status).toBe(200);
      const third = await fetch(one.url);
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await third.json()).error).toBe('rate_limited');
      expect((await fetch(two.url)).status).toBe(429);
    } finally {
      one.close();
      two.close();
    }
    // The public pages carry the same headers.
    expect((await page(`/credentials/${credentialId}`)).headers.get('ratelimit-limit')).toBe('120');
  });
});
