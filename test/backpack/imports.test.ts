/** Issue 23, part 3: badges earned elsewhere, verified before they are kept and again when shown. */
import { verifyBadge } from '../../src/issuers/openbadges/verify.js';
import { laurelResolver } from '../../src/issuers/openbadges/laurelDocuments.js';
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, type TestPlatform } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { waitFor } from '../openbadges/support.js';
import { activeTemplate, awardIssued, backpackLinkOf, csrfOf, Visitor } from './helpers.js';

describe('importing badges earned elsewhere', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let ada: Visitor;
  const ids: string[] = [];

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    const link = await backpackLinkOf(p, p.demo!.users.ada.sub);
    for (const name of ['Imported one', 'Imported two', 'Imported three'])
      ids.push(await awardIssued(t, await activeTemplate(t, moodle, name), p.demo!.users.ada.sub));
    ada = new Visitor(t);
    await ada.get(link);
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  const importForm = async () => csrfOf((await ada.get('/backpack/imports/new')).body);
  const post = async (visitor: Visitor, form: FormData) => {
    const res = await fetch(new URL('/backpack/imports', t.url), {
      method: 'POST',
      body: form,
      headers: { accept: 'text/html', ...(visitor.cookie ? { cookie: visitor.cookie } : {}) },
      redirect: 'manual',
    });
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  };
  const withFields = (csrf: string, fields: Record<string, string | Blob>) => {
    const form = new FormData();
    form.append('csrf', csrf);
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    return form;
  };
  const credentialJson = async (id: string) => (await ada.get(`/backpack/badges/${id}/credential.json`)).body;

  it('adds a valid Laurel-issued credential pasted as JSON, with its verification', async () => {
    const answer = await post(ada, withFields(await importForm(), { json: await credentialJson(ids[0]!) }));
    expect(answer.status).toBe(303);
    const page = await ada.get(answer.location!);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Imported one</h1>');
    expect(page.body).toMatch(/Verified on /);
    expect(page.body).not.toContain('Failed:');
    const list = await ada.get('/backpack/badges');
    expect(list.body).toContain(`href="${answer.location}"`);
  });

  it('refuses a tampered credential with the verifier’s reason, and keeps nothing', async () => {
    const tampered = JSON.parse(await credentialJson(ids[1]!));
    tampered.credentialSubject.achievement.name = 'Nobel prize';
    const text = JSON.stringify(tampered);
    const before = await t.laurel.ctx.models.importedBadges.countDocuments({});
    const answer = await post(ada, withFields(await importForm(), { json: text }));
    expect(answer.status).toBe(422);
    expect(answer.body).toContain('This badge was not added: it did not verify');
    const reference = await verifyBadge(text, { resolvers: [laurelResolver(t.laurel.ctx)] });
    const failed = reference.checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.check)).toContain('signature');
    for (const check of failed) expect(decodeEntities(answer.body)).toContain(check.message);
    expect(await t.laurel.ctx.models.importedBadges.countDocuments({})).toBe(before);
  });

  it('adds a baked PNG upload, and refuses the same badge twice', async () => {
    const png = await fetch(new URL(`/credentials/${ids[1]}/image.png`, t.url)).then((r) => r.arrayBuffer());
    const file = () => new Blob([png], { type: 'image/png' });
    const first = await post(ada, withFields(await importForm(), { file: file() }));
    expect(first.status).toBe(303);
    expect((await ada.get(first.location!)).body).toContain('<h1>Imported two</h1>');
    const again = await post(ada, withFields(await importForm(), { file: file() }));
    expect(again.status).toBe(409);
    expect(again.body).toContain('in your backpack already');
  });

  it('adds a badge by its URL, fetched through the outbound policy', async () => {
    const answer = await post(
      ada,
      withFields(await importForm(), { url: `${t.laurel.config.publicUrl}/credentials/${ids[2]}` }),
    );
    expect(answer.status).toBe(303);
    expect((await ada.get(answer.location!)).body).toContain('<h1>Imported three</h1>');
  });

  it('checks an imported badge again when it is shown: a revocation shows', async () => {
    const doc = await t.laurel.ctx.models.importedBadges.findOne({ name: 'Imported one' }).lean();
    const revoked = await admin(t, 'POST', `/credentials/${ids[0]}/revoke`, { reason: 'Mistake.' });
    expect(revoked.status).toBe(200);
    const page = await waitFor('the revocation to show', async () => {
      const answer = await ada.get(`/backpack/imports/${String(doc!._id)}`);
      return answer.body.includes('Did not verify') ? answer : null;
    });
    expect(page.body).toContain('Failed:');
  });

  it('My Record lists them beside the badges earned here, with their verification, and their additions', async () => {
    const page = await ada.get('/backpack');
    expect(page.status).toBe(200);
    const body = decodeEntities(page.body);
    const section = body.slice(body.indexOf('Badges earned elsewhere'), body.indexOf('In progress'));
    const one = await t.laurel.ctx.models.importedBadges.findOne({ name: 'Imported one' }).lean();
    const two = await t.laurel.ctx.models.importedBadges.findOne({ name: 'Imported two' }).lean();
    expect(section).toContain(`<a href="/backpack/imports/${String(two!._id)}">Imported two</a>`);
    expect(section).toMatch(/Imported two<\/a><br><span class="muted">[^<]*Verified on <time/);
    // The revoked one, as its page found it last, with the verifier's reason.
    expect(section).toMatch(/Imported one<\/a><br><span class="muted">[^<]*Did not verify on <time/);
    const failed = one!.verification.checks.filter((c) => !c.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const check of failed) expect(section).toContain(check.message);
    // A badge naming no https picture gets a default one, for its holder only.
    const picture = `/backpack/imports/${String(two!._id)}/picture.svg`;
    expect(section).toContain(`<img src="${picture}"`);
    const svg = await ada.get(picture);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toContain('<svg');
    const grace = new Visitor(t);
    await grace.get(await backpackLinkOf(p, p.demo!.users.grace.sub));
    expect((await grace.get(picture)).status).toBe(404);
    const activity = body.slice(body.indexOf('Recent activity'));
    expect(activity).toContain('Added “Imported two”, earned elsewhere');
    expect(activity).toContain('Earned the badge “Imported two”');
  });

  it('refuses a form without its CSRF token, with no badge or two, and another learner’s badge', async () => {
    const json = await credentialJson(ids[2]!);
    const before = await t.laurel.ctx.models.importedBadges.countDocuments({});
    expect((await post(ada, withFields('forged', { json }))).status).toBe(403);
    expect((await post(ada, withFields(await importForm(), {}))).status).toBe(400);
    expect(
      (await post(ada, withFields(await importForm(), { json, url: 'https://example.org/badge' }))).status,
    ).toBe(400);
    expect((await post(new Visitor(t), withFields('x', { json }))).status).toBe(401);
    expect(await t.laurel.ctx.models.importedBadges.countDocuments({})).toBe(before);

    const grace = new Visitor(t);
    await grace.get(await backpackLinkOf(p, p.demo!.users.grace.sub));
    const doc = await t.laurel.ctx.models.importedBadges.findOne({ name: 'Imported three' }).lean();
    expect((await grace.get(`/backpack/imports/${String(doc!._id)}`)).status).toBe(404);
    const page = await grace.get('/backpack/badges');
    expect(page.body).not.toContain('Imported three');
    const removed = await grace.post(`/backpack/imports/${String(doc!._id)}/delete`, {
      csrf: csrfOf(page.body),
    });
    expect(removed.status).toBe(404);
    expect(await t.laurel.ctx.models.importedBadges.exists({ _id: doc!._id })).toBeTruthy();
  });

  it('removes an imported badge', async () => {
    const doc = await t.laurel.ctx.models.importedBadges.findOne({ name: 'Imported three' }).lean();
    const page = await ada.get(`/backpack/imports/${String(doc!._id)}`);
    const answer = await ada.post(`/backpack/imports/${String(doc!._id)}/delete`, {
      csrf: csrfOf(page.body),
    });
    expect(answer.status).toBe(303);
    expect(await t.laurel.ctx.models.importedBadges.exists({ _id: doc!._id })).toBeNull();
  });
});
