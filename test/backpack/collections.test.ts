/** Issue 23, part 4: collections of badges, their order, sharing by link and embed, withdrawing a link. */
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, type TestPlatform } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { activeTemplate, awardIssued, backpackLinkOf, csrfOf, Visitor } from './helpers.js';

describe('collections', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let ada: Visitor;
  let grace: Visitor;
  const ids: string[] = [];
  let graceCredential: string;
  let importedId: string;
  let collection: string;

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    const adaLink = await backpackLinkOf(p, p.demo!.users.ada.sub);
    const graceLink = await backpackLinkOf(p, p.demo!.users.grace.sub);
    const templates = [];
    for (const name of ['Alpha', 'Bravo', 'Charlie']) templates.push(await activeTemplate(t, moodle, name));
    for (const template of templates) ids.push(await awardIssued(t, template, p.demo!.users.ada.sub));
    graceCredential = await awardIssued(t, templates[0]!, p.demo!.users.grace.sub);
    ada = new Visitor(t);
    await ada.get(adaLink);
    grace = new Visitor(t);
    await grace.get(graceLink);
    // One badge earned elsewhere (here: Charlie's credential, pasted as JSON).
    const form = new FormData();
    form.append('csrf', csrfOf((await ada.get('/backpack/imports/new')).body));
    form.append('json', (await ada.get(`/backpack/badges/${ids[2]}/credential.json`)).body);
    const imported = await fetch(new URL('/backpack/imports', t.url), {
      method: 'POST',
      body: form,
      headers: { cookie: ada.cookie! },
      redirect: 'manual',
    });
    expect(imported.status).toBe(303);
    importedId = imported.headers.get('location')!.split('/').pop()!;
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  const csrf = async () => csrfOf((await ada.get('/backpack/collections')).body);
  const page = () => ada.get(`/backpack/collections/${collection}`);
  /** The names of the collection's badges in the order a page lists them. */
  const order = (html: string) => {
    const list = html.slice(html.indexOf('<ol class="bp-items">'), html.indexOf('</ol>'));
    return [...list.matchAll(/<a href="[^"]*"[^>]*>([^<]+)<\/a>|<span class="bp-name">([^<]+)<\/span>/g)].map(
      (m) => m[1] ?? m[2],
    );
  };

  it('creates a collection with a name and a description; a nameless one is refused', async () => {
    const token = await csrf();
    const nameless = await ada.post('/backpack/collections', { name: ' ', csrf: token });
    expect(nameless.status).toBe(400);
    expect(nameless.body).toContain('Give the collection a name.');
    const forged = await ada.post('/backpack/collections', { name: 'Forged', csrf: 'x' });
    expect(forged.status).toBe(403);
    const created = await ada.post('/backpack/collections', {
      name: 'For my application',
      description: 'Lab skills.',
      csrf: token,
    });
    expect(created.status).toBe(303);
    collection = created.headers.get('location')!.split('/').pop()!;
    const shown = await page();
    expect(shown.body).toContain('<h1>For my application</h1>');
    expect(shown.body).toContain('Lab skills.');
    expect(await t.laurel.ctx.models.badgeCollections.countDocuments({})).toBe(1);
  });

  it('adds own and imported badges, reorders them, removes one, and keeps the order', async () => {
    const token = await csrf();
    for (const item of [`c:${ids[0]}`, `c:${ids[1]}`, `i:${importedId}`])
      expect(
        (await ada.post(`/backpack/collections/${collection}/items`, { item, csrf: token })).status,
      ).toBe(303);
    expect(order((await page()).body)).toEqual(['Alpha', 'Bravo', 'Charlie']);
    const twice = await ada.post(`/backpack/collections/${collection}/items`, {
      item: `c:${ids[0]}`,
      csrf: token,
    });
    expect(twice.status).toBe(409);
    // Charlie (imported) up one place.
    expect(
      (await ada.post(`/backpack/collections/${collection}/items/2`, { action: 'up', csrf: token })).status,
    ).toBe(303);
    expect(order((await page()).body)).toEqual(['Alpha', 'Charlie', 'Bravo']);
    await ada.post(`/backpack/collections/${collection}/items/0`, { action: 'down', csrf: token });
    expect(order((await page()).body)).toEqual(['Charlie', 'Alpha', 'Bravo']);
    await ada.post(`/backpack/collections/${collection}/items/2`, { action: 'remove', csrf: token });
    expect(order((await page()).body)).toEqual(['Charlie', 'Alpha']);
    const stored = await t.laurel.ctx.models.badgeCollections.findById(collection).lean();
    expect(stored!.items.map((i) => `${i.kind}:${String(i.id)}`)).toEqual([
      `imported:${importedId}`,
      `credential:${ids[0]}`,
    ]);
  });

  it('refuses someone else’s badge and someone else’s collection', async () => {
    const token = await csrf();
    const other = await ada.post(`/backpack/collections/${collection}/items`, {
      item: `c:${graceCredential}`,
      csrf: token,
    });
    expect(other.status).toBe(400);
    expect((await grace.get(`/backpack/collections/${collection}`)).status).toBe(404);
    const graceToken = csrfOf((await grace.get('/backpack/collections')).body);
    const rename = await grace.post(`/backpack/collections/${collection}`, {
      name: 'Mine now',
      csrf: graceToken,
    });
    expect(rename.status).toBe(404);
    expect((await t.laurel.ctx.models.badgeCollections.findById(collection).lean())!.name).toBe(
      'For my application',
    );
  });

  let shareUrl: string;

  it('shares the collection by link and embed, in its order, without hidden badges', async () => {
    await ada.post(`/backpack/collections/${collection}/share`, { csrf: await csrf() });
    const shown = decodeEntities((await page()).body);
    shareUrl = /id="share-url" class="secret-value" readonly value="([^"]+)"/.exec(shown)![1]!;
    expect(shown).toContain(`<iframe src="${shareUrl}/embed"`);
    const visitor = await fetch(shareUrl, { headers: { accept: 'text/html' } });
    expect(visitor.status).toBe(200);
    expect(order(await visitor.text())).toEqual(['Charlie', 'Alpha']);
    const embed = await fetch(`${shareUrl}/embed`, { headers: { accept: 'text/html' } });
    expect(embed.status).toBe(200);
    expect(embed.headers.get('content-security-policy')).toMatch(/frame-ancestors \*/);
    expect(order(await embed.text())).toEqual(['Charlie', 'Alpha']);
    // Alpha hidden by its holder: gone from the shared collection too.
    const badge = await ada.get(`/backpack/badges/${ids[0]}`);
    await ada.post(`/backpack/badges/${ids[0]}/visibility`, {
      visibility: 'hidden',
      csrf: csrfOf(badge.body),
    });
    const after = await fetch(shareUrl, { headers: { accept: 'text/html' } }).then((r) => r.text());
    expect(order(after)).toEqual(['Charlie']);
  });

  it('a withdrawn share link answers 410, and a new share gets a new link', async () => {
    await ada.post(`/backpack/collections/${collection}/unshare`, { csrf: await csrf() });
    expect((await fetch(shareUrl, { headers: { accept: 'text/html' } })).status).toBe(410);
    expect((await fetch(`${shareUrl}/embed`, { headers: { accept: 'text/html' } })).status).toBe(410);
    await ada.post(`/backpack/collections/${collection}/share`, { csrf: await csrf() });
    const again = decodeEntities((await page()).body);
    const newUrl = /id="share-url" class="secret-value" readonly value="([^"]+)"/.exec(again)![1]!;
    expect(newUrl).not.toBe(shareUrl);
    expect((await fetch(newUrl, { headers: { accept: 'text/html' } })).status).toBe(200);
    expect((await fetch(shareUrl, { headers: { accept: 'text/html' } })).status).toBe(410);
    expect(
      (
        await fetch(new URL('/backpack/shared/AAAAAAAAAAAAAAAAAAAAAA', t.url), {
          headers: { accept: 'text/html' },
        })
      ).status,
    ).toBe(404);
  });

  it('deletes a collection', async () => {
    const answer = await ada.post(`/backpack/collections/${collection}/delete`, { csrf: await csrf() });
    expect(answer.status).toBe(303);
    expect(await t.laurel.ctx.models.badgeCollections.countDocuments({})).toBe(0);
  });
});
