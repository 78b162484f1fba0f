import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { laurelDocumentLoader } from '../../src/issuers/openbadges/laurelDocuments.js';
import { refreshStatusList } from '../../src/issuers/openbadges/statusLists.js';
import { finishApp } from '../../src/web/app.js';
import { healthRouter, sharedReadiness } from '../../src/web/health.js';
import { admission } from '../../src/web/public/admission.js';
import { publicRouter } from '../../src/web/public/index.js';
import { clientNetwork, rateLimit } from '../../src/web/public/rateLimit.js';
import { verificationCache } from '../../src/web/public/verificationCache.js';
import { renderedPages } from '../../src/web/public/renderedPages.js';
import { freshPages } from '../../src/web/public/freshPages.js';
import { configureViews } from '../../src/web/views.js';
import type { TestLaurel } from '../support/laurel.js';
import { admin, registerTestPlatform, type TestPlatformRecord } from '../support/api.js';
import { earnIssued, gradeTemplate, startPublicLaurel, waitFor } from './support.js';

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
/** The verification checks listed on a page, as “Passed · Label” / “Failed · Label”. */
const checks = (html: string) =>
  [
    ...html.matchAll(/<span class="check-(?:ok|bad)">(Passed|Failed)<\/span> · <strong>([^<]+)<\/strong>/g),
  ].map((m) => `${m[1]} · ${m[2]}`);

/** An express app on a free port, with Laurel's error answers; closed by the caller. */
async function serve(setup: (app: express.Express) => void) {
  const app = express();
  app.set('trust proxy', true);
  configureViews(app);
  setup(app);
  finishApp(app, pino({ level: 'silent' }));
  return new Promise<{ url: string; close: () => Promise<void> }>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

describe('public verification pages under load', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  let templateId: string;
  let credentialId: string;
  const page = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${t.url}${path}`, { headers: { accept: 'text/html', ...headers } });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const cache = () => verificationCache(t.laurel.ctx);

  beforeAll(async () => {
    t = await startPublicLaurel();
    platform = await registerTestPlatform(t);
    templateId = await gradeTemplate(t, platform, { name: 'Load-bearing badge', expiresAfterDays: 30 });
    credentialId = await earnIssued(t, platform, templateId, { id: '71', name: 'Ada Lovelace' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('verifies a credential once for many views of it, at once or one after another', async () => {
    cache().clear();
    freshPages(t.laurel.ctx).clear();
    const before = { ...cache().stats };
    const storedBefore = freshPages(t.laurel.ctx).stats.hits;
    const burst = await Promise.all(Array.from({ length: 6 }, () => page(`/credentials/${credentialId}`)));
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push((await page(`/credentials/${credentialId}`)).text);
    for (const html of [...burst.map((r) => r.text), ...after]) {
      expect(field(html, 'status')).toBe('✔ Valid and verified');
      expect(field(html, 'verified')).toBe('Verified: every check passed.');
    }
    expect(cache().stats.verifications - before.verifications).toBe(1);
    // Every other view reused that result, or the page finished with it (freshPages.ts).
    const reused = cache().stats.hits - before.hits + freshPages(t.laurel.ctx).stats.hits - storedBefore;
    expect(reused).toBe(11);
  });

  it('recomputes only the dates as time passes: an expired credential shows as expired without re-verifying', async () => {
    await page(`/credentials/${credentialId}`);
    const verifications = cache().stats.verifications;
    const realNow = t.laurel.ctx.now;
    t.laurel.ctx.now = () => new Date(Date.now() + 40 * 86_400_000);
    try {
      const html = (await page(`/credentials/${credentialId}`)).text;
      expect(field(html, 'status')).toBe('⌛ Expired');
      expect(checks(html)).toContain('Failed · Dates');
      expect(field(html, 'verified')).toBe('Not verified: at least one check failed.');
    } finally {
      t.laurel.ctx.now = realNow;
    }
    expect(cache().stats.verifications).toBe(verifications);
    expect(checks((await page(`/credentials/${credentialId}`)).text)).toContain('Passed · Dates');
  });

  it('verifies again when the issuer profile it was checked against changes (here its name)', async () => {
    await page(`/credentials/${credentialId}`);
    const before = cache().stats.verifications;
    await page(`/credentials/${credentialId}`);
    expect(cache().stats.verifications).toBe(before);
    const doc = await t.laurel.ctx.models.credentials.findById(credentialId).lean();
    const profiles = t.laurel.ctx.models.issuerProfiles;
    const profile = await profiles.findById(doc!.issuerProfileId).lean();
    await profiles.updateOne({ _id: profile!._id }, { $set: { name: `${profile!.name} (renamed)` } });
    try {
      expect(field((await page(`/credentials/${credentialId}`)).text, 'status')).toBe('✔ Valid and verified');
      expect(cache().stats.verifications).toBe(before + 1);
    } finally {
      await profiles.updateOne({ _id: profile!._id }, { $set: { name: profile!.name } });
    }
  });

  it('shows a revocation at once after the result was cached, and the re-signed status list as soon as it is published', async () => {
    const other = await earnIssued(t, platform, templateId, { id: '72', name: 'Grace Hopper' });
    const id = await earnIssued(t, platform, templateId, { id: '73', name: 'Emmy Noether' });
    expect(field((await page(`/credentials/${id}`)).text, 'status')).toBe('✔ Valid and verified');
    expect(field((await page(`/credentials/${other}`)).text, 'status')).toBe('✔ Valid and verified');
    const cached = cache().stats.verifications;
    expect(field((await page(`/credentials/${id}`)).text, 'status')).toBe('✔ Valid and verified');
    expect(cache().stats.verifications).toBe(cached);

    const revoked = await admin(t, 'POST', `/credentials/${id}/revoke`, { reason: 'Awarded in error' });
    expect(revoked.status).toBe(200);
    expect(field((await page(`/credentials/${id}`)).text, 'status')).toBe('✖ Revoked');

    const doc = await t.laurel.ctx.models.credentials.findById(id).lean();
    await waitFor('the status list to be re-signed', async () => {
      const list = await t.laurel.ctx.models.statusLists.findById(doc!.statusListId).lean();
      return list && list.signedRevision >= list.revision && list.revision > 0;
    });
    const html = (await page(`/credentials/${id}`)).text;
    expect(field(html, 'status')).toBe('✖ Revoked');
    expect(checks(html)).toContain('Failed · Revocation status');
    expect(html).toContain('Revoked by its issuer (status list');

    // The list moved, so the other credential on it is verified again, and is still valid.
    const before = cache().stats.verifications;
    const otherHtml = (await page(`/credentials/${other}`)).text;
    expect(field(otherHtml, 'status')).toBe('✔ Valid and verified');
    expect(checks(otherHtml)).toContain('Passed · Revocation status');
    expect(cache().stats.verifications).toBe(before + 1);
  });

  it('serves a page rendered once to every identical view, and a changed credential, learner or sharing at once', async () => {
    const id = await earnIssued(t, platform, templateId, { id: '75', name: 'Mary Somerville' });
    const rendered = renderedPages(t.laurel.ctx);
    const stored = freshPages(t.laurel.ctx);
    const first = await page(`/credentials/${id}`);
    const renders = rendered.stats.renders;
    const hits = stored.stats.hits;
    const again = await page(`/credentials/${id}`);
    expect(again.text).toBe(first.text);
    expect(rendered.stats.renders).toBe(renders);
    expect(stored.stats.hits).toBe(hits + 1);
    expect(again.headers.get('cache-control')).toBe('no-store');

    // Each change is made in the database behind the page's back, through this process's models
    // (another process's changes: the next test): the stored page is dropped at once.
    const { credentials, people, badgeSharings } = t.laurel.ctx.models;
    const doc = await credentials.findById(id).lean();
    await people.updateOne({ _id: doc!.personId }, { $set: { name: 'Mary F. Somerville' } });
    expect(field((await page(`/credentials/${id}`)).text, 'learner')).toBe('Mary F. Somerville');

    await credentials.updateOne(
      { _id: doc!._id },
      { $set: { status: 'revoked', liveSlot: id, revokedAt: new Date(), revokedReason: 'Copied work' } },
    );
    const revoked = (await page(`/credentials/${id}`)).text;
    expect(field(revoked, 'status')).toBe('✖ Revoked');
    expect(field(revoked, 'revoked-reason')).toBe('Copied work');
    expect(rendered.stats.renders).toBe(renders + 2);

    await badgeSharings.create({
      _id: doc!._id,
      platformId: doc!.platformId,
      personId: doc!.personId,
      visibility: 'hidden',
      updatedAt: new Date(),
    });
    expect((await page(`/credentials/${id}`)).status).toBe(404);
  });

  it('shows what another process changed once PUBLIC_PAGE_FRESH_MS has passed, rendered again', async () => {
    const id = await earnIssued(t, platform, templateId, { id: '76', name: 'Caroline Herschel' });
    const rendered = renderedPages(t.laurel.ctx);
    const freshMs = t.laurel.config.publicPageFreshMs;
    expect(freshMs).toBe(1000);
    expect(field((await page(`/credentials/${id}`)).text, 'learner')).toBe('Caroline Herschel');
    const doc = await t.laurel.ctx.models.credentials.findById(id).lean();
    // Another process: a connection of its own, whose writes this process does not see being made.
    const other = await MongoClient.connect(t.db.uri);
    try {
      const db = other.db();
      await db
        .collection('people')
        .updateOne({ _id: doc!.personId }, { $set: { name: 'Caroline L. Herschel' } });
      const renders = rendered.stats.renders;
      await sleep(freshMs);
      expect(field((await page(`/credentials/${id}`)).text, 'learner')).toBe('Caroline L. Herschel');
      expect(rendered.stats.renders).toBe(renders + 1);

      await db
        .collection('credentials')
        .updateOne(
          { _id: doc!._id },
          { $set: { status: 'revoked', liveSlot: id, revokedAt: new Date(), revokedReason: 'Elsewhere' } },
        );
      await sleep(freshMs);
      expect(field((await page(`/credentials/${id}`)).text, 'status')).toBe('✖ Revoked');

      await db.collection('badge_sharings').insertOne({
        _id: doc!._id,
        platformId: doc!.platformId,
        personId: doc!.personId,
        visibility: 'hidden',
        updatedAt: new Date(),
      });
      await sleep(freshMs);
      expect((await page(`/credentials/${id}`)).status).toBe(404);
    } finally {
      await other.close();
    }
  });

  it('follows the status list stored in the database, whichever process changed it', async () => {
    // Another process revokes and re-signs: this one only sees the database move.
    const id = await earnIssued(t, platform, templateId, { id: '74', name: 'Lise Meitner' });
    expect(checks((await page(`/credentials/${id}`)).text)).toContain('Passed · Revocation status');
    const doc = await t.laurel.ctx.models.credentials.findById(id).lean();
    await t.laurel.ctx.models.credentials.updateOne(
      { _id: doc!._id },
      { $set: { status: 'revoked', liveSlot: id, revokedAt: new Date(), revokedReason: 'Elsewhere' } },
    );
    await t.laurel.ctx.models.statusLists.updateOne({ _id: doc!.statusListId }, { $inc: { revision: 1 } });
    await refreshStatusList(t.laurel.ctx, doc!.statusListId!, laurelDocumentLoader(t.laurel.ctx));
    const html = (await page(`/credentials/${id}`)).text;
    expect(field(html, 'status')).toBe('✖ Revoked');
    expect(checks(html)).toContain('Failed · Revocation status');
  });

  it('answers the public pages over budget with 429, Retry-After and Laurel’s error shape, per network', async () => {
    // One fixed moment, so the requests cannot straddle two rate-limit windows.
    const at = new Date();
    const ctx = { ...t.laurel.ctx, now: () => at };
    const app = await serve((a) => a.use(publicRouter(ctx, { pageLimit: 2 })));
    const get = (from: string, accept = 'text/html') =>
      fetch(`${app.url}/credentials/${credentialId}`, { headers: { accept, 'x-forwarded-for': from } });
    try {
      // Two addresses of one /64 share a budget.
      expect((await get('2001:db8:aa:1::1')).status).toBe(200);
      expect((await get('2001:db8:aa:1:8000::2')).status).toBe(200);
      const over = await get('2001:db8:aa:1::3');
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(over.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await over.text()).toContain('Too many requests from your network');
      const json = await get('2001:db8:aa:1:ffff:ffff:ffff:ffff', 'application/json');
      // A JSON client asks for the signed credential: a document, with its own budget.
      expect(json.status).toBe(200);
      // Another /64 has its own.
      expect((await get('2001:db8:aa:2::1')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('counts IPv6 clients by /64 and IPv4-mapped addresses as IPv4', async () => {
    const at = new Date();
    const ctx = { ...t.laurel.ctx, now: () => at };
    const limited = (a: express.Express) =>
      a.get(
        '/limited',
        rateLimit(ctx, { bucket: `net-${Math.random()}`, limit: 2, windowMs: 60_000 }),
        (_req, res) => {
          res.send('ok');
        },
      );
    const app = await serve(limited);
    const get = (from: string) =>
      fetch(`${app.url}/limited`, { headers: { accept: 'application/json', 'x-forwarded-for': from } });
    try {
      expect((await get('2001:db8:1:2::1')).status).toBe(200);
      expect((await get('2001:0DB8:0001:0002:abcd::99')).status).toBe(200);
      const over = await get('2001:db8:1:2:ffff::7');
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await over.json()).toMatchObject({ error: 'rate_limited', message: expect.any(String) });
      expect((await get('2001:db8:1:3::1')).status).toBe(200);

      expect((await get('::ffff:192.0.2.7')).status).toBe(200);
      expect((await get('192.0.2.7')).status).toBe(200);
      expect((await get('::ffff:c000:0207')).status).toBe(429);
      expect((await get('192.0.2.8')).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('client networks for rate limits', () => {
  it('keeps IPv4 addresses whole, cuts IPv6 to /64 and unwraps IPv4-mapped addresses', () => {
    expect(clientNetwork('192.0.2.1')).toBe('192.0.2.1');
    expect(clientNetwork('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientNetwork('::FFFF:c000:201')).toBe('192.0.2.1');
    expect(clientNetwork('2001:db8::1')).toBe(clientNetwork('2001:0db8:0000:0000:ffff:1:2:3'));
    expect(clientNetwork('2001:db8::1')).not.toBe(clientNetwork('2001:db8:0:1::1'));
    expect(clientNetwork('fe80::1%eth0')).toBe(clientNetwork('fe80::2'));
    expect(clientNetwork('[2001:db8::5]')).toBe(clientNetwork('2001:db8::6'));
    for (const junk of [undefined, '', 'unknown', 'not an address', '1::2::3', '::ffff:999.0.0.1'])
      expect(clientNetwork(junk)).toBe('unknown');
  });
});

describe('health checks', () => {
  it('answers /healthz without touching anything and shares one readiness check among callers', async () => {
    let calls = 0;
    const pending: ((v: Record<string, boolean>) => void)[] = [];
    const open = (v: Record<string, boolean>) => pending.splice(0).forEach((resolve) => resolve(v));
    const check = () => {
      calls++;
      return new Promise<Record<string, boolean>>((resolve) => pending.push(resolve));
    };
    const app = await serve((a) => a.use(healthRouter(check)));
    try {
      for (let i = 0; i < 20; i++) expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      expect(calls).toBe(0);
      const waiting = Array.from({ length: 10 }, () => fetch(`${app.url}/readyz`));
      await waitFor('the readiness check to start', async () => calls > 0);
      open({ database: true, jobs: true });
      const answers = await Promise.all(waiting);
      expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(calls).toBe(1);
      // Reused for a second, so a storm of probes costs one ping.
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
      expect(calls).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('asks again after a second, and a check that throws means not ready', async () => {
    let clock = 0;
    let calls = 0;
    const ready = sharedReadiness(
      async () => {
        calls++;
        if (calls === 2) throw new Error('database gone');
        return { database: true };
      },
      1000,
      () => clock,
    );
    expect(await ready()).toEqual({ database: true });
    clock = 999;
    expect(await ready()).toEqual({ database: true });
    expect(calls).toBe(1);
    clock = 1000;
    expect(Object.values(await ready()).every(Boolean)).toBe(false);
    clock = 2500;
    expect(await ready()).toEqual({ database: true });
    expect(calls).toBe(3);
  });
});

describe('admission of public requests', () => {
  it('works on a few at once, queues the next ones and refuses past the queue with 503 and Retry-After', async () => {
    const gate = admission({ concurrency: 1, queue: 1, retryAfterSeconds: 7 });
    const releases: (() => void)[] = [];
    const app = await serve((a) =>
      a.get('/slow', gate, (_req, res) => {
        releases.push(() => res.send('done'));
      }),
    );
    try {
      const first = fetch(`${app.url}/slow`, { headers: { accept: 'application/json' } });
      await waitFor('the first request to run', async () => releases.length === 1);
      const second = fetch(`${app.url}/slow`, { headers: { accept: 'application/json' } });
      await waitFor('the second request to wait', async () => gate.stats.waiting === 1);
      const third = await fetch(`${app.url}/slow`, { headers: { accept: 'application/json' } });
      expect(third.status).toBe(503);
      expect(third.headers.get('retry-after')).toBe('7');
      expect(await third.json()).toMatchObject({ error: 'busy' });
      expect(releases).toHaveLength(1);
      releases[0]!();
      expect((await first).status).toBe(200);
      await waitFor('the second request to run', async () => releases.length === 2);
      releases[1]!();
      expect((await second).status).toBe(200);
      expect(gate.stats).toMatchObject({ running: 0, waiting: 0, admitted: 2, refused: 1 });
    } finally {
      await app.close();
    }
  });
});
