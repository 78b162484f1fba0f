/** Issue 24, part 3: the learner's record in the backpack: download, choose, share, hide, withdraw. */
import { laurelResolver } from '../../src/issuers/openbadges/laurelDocuments.js';
import { verifyBadge } from '../../src/issuers/openbadges/verify.js';
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, type TestPlatform } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { activeTemplate, awardIssued, backpackLinkOf, csrfOf, Visitor } from '../backpack/helpers.js';
import { clrSchemaErrors } from './helpers.js';

describe('the learner record in the backpack', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let ada: Visitor;
  let grace: Visitor;
  const ids: string[] = [];
  let graceCredential: string;
  let shareUrl: string;

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
  }, 180_000);
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  const verify = (record: unknown) =>
    verifyBadge(record as Record<string, unknown>, { resolvers: [laurelResolver(t.laurel.ctx)] });
  const sharePage = () => ada.get(`/backpack/record/share?platform=${moodle.id}`);
  /** Posts the choice form with these badges ticked (the form repeats `include`). */
  const choose = async (include: string[], csrf?: string) => {
    const token = csrf ?? csrfOf((await sharePage()).body);
    const body = new URLSearchParams({ csrf: token, platform: moodle.id });
    for (const id of include) body.append('include', id);
    return ada.request('/backpack/record/share/choose', {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  };
  const publicPath = () => new URL(shareUrl).pathname;
  const shownNames = (html: string) =>
    [...html.matchAll(/<a href="[^"]*\/credentials\/[^"]*">([^<]+)<\/a>/g)].map((m) => m[1]);

  it('My record links to the download, which is the signed record of every badge the learner holds', async () => {
    const page = await ada.get('/backpack');
    expect(page.body).toContain('Download my learner record (CLR)');
    const href = decodeEntities(
      /<a href="([^"]+)" download>Download my learner record \(CLR\)<\/a>/.exec(page.body)![1]!,
    );
    const download = await ada.get(href);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toMatch(/^application\/ld\+json/);
    expect(download.headers.get('content-disposition')).toMatch(
      /^attachment; filename="learner-record-.*\.json"$/,
    );
    const record = JSON.parse(download.body);
    expect(record.type).toEqual(['VerifiableCredential', 'ClrCredential']);
    expect(record.credentialSubject.verifiableCredential.map((c: any) => c.id)).toEqual(
      ids.map((id) => `${t.laurel.ctx.config.publicUrl}/credentials/${id}`),
    );
    expect(record.partial).toBe(false);
    expect(clrSchemaErrors(record)).toEqual([]);
    const result = await verify(record);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.embedded?.length).toBe(3);
  });

  it('signed out, the download goes to the sign-in page and gives nothing', async () => {
    const anonymous = new Visitor(t);
    const answer = await anonymous.get(`/backpack/record/clr.json?platform=${moodle.id}`);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/backpack/sign-in');
  });

  it('saves the badges chosen for the public record; refuses a forged form and another learner’s badge', async () => {
    expect((await choose([ids[0]!], 'forged')).status).toBe(403);
    const foreign = await choose([ids[0]!, graceCredential]);
    expect(foreign.status).toBe(400);
    expect(foreign.body).toContain('one of them is not an issued badge of yours');
    const saved = await choose([ids[0]!, ids[1]!]);
    expect(saved.status).toBe(303);
    const page = await ada.get(saved.headers.get('location')!);
    expect(page.body).toContain('Saved: the public record shows the badges you ticked.');
    const ticked = [...page.body.matchAll(/name="include" value="([0-9a-f]{24})" checked/g)].map((m) => m[1]);
    expect(ticked).toEqual([ids[0], ids[1]]);
    const share = await t.laurel.ctx.models.learnerRecordShares.findOne({}).lean();
    expect(share!.credentialIds.map(String)).toEqual([ids[0], ids[1]]);
  });

  it('the public page and its download show only what the learner chose, and never a hidden badge', async () => {
    const token = csrfOf((await sharePage()).body);
    expect((await ada.post('/backpack/record/share/link', { csrf: token, platform: moodle.id })).status).toBe(
      303,
    );
    shareUrl = decodeEntities(
      /id="share-url" class="secret-value" readonly value="([^"]+)"/.exec((await sharePage()).body)![1]!,
    );
    expect(shareUrl).toMatch(/\/backpack\/records\/[A-Za-z0-9_-]{22}$/);

    const visitor = new Visitor(t);
    const before = await visitor.get(publicPath());
    expect(before.status).toBe(200);
    expect(shownNames(before.body)).toEqual(['Alpha', 'Bravo']);

    // Bravo is hidden afterwards on its own page: it leaves the public record at once.
    const badgePage = await ada.get(`/backpack/badges/${ids[1]}`);
    const hid = await ada.post(`/backpack/badges/${ids[1]}/visibility`, {
      visibility: 'hidden',
      csrf: csrfOf(badgePage.body),
    });
    expect(hid.status).toBe(303);
    const after = await visitor.get(publicPath());
    expect(shownNames(after.body)).toEqual(['Alpha']);
    expect(after.body).not.toContain('Bravo');
    expect(after.body).not.toContain('Charlie');

    const download = await visitor.get(`${publicPath()}/clr.json`);
    expect(download.status).toBe(200);
    const record = JSON.parse(download.body);
    expect(record.partial).toBe(true);
    expect(record.credentialSubject.verifiableCredential.map((c: any) => c.id)).toEqual([
      `${t.laurel.ctx.config.publicUrl}/credentials/${ids[0]}`,
    ]);
    expect(download.body).not.toContain('Bravo');
    expect(clrSchemaErrors(record)).toEqual([]);
    expect((await verify(record)).valid).toBe(true);

    // The choice page shows the hidden badge unticked and locked, with the reason.
    const page = (await sharePage()).body;
    expect(page).toContain(`value="${ids[1]}" disabled aria-describedby="hidden-${ids[1]}"`);
    expect(page).toContain('Hidden on its page, so never shown in public.');
  });

  it('withdrawing the link makes it answer 410 for good; a new link works', async () => {
    const token = csrfOf((await sharePage()).body);
    expect(
      (await ada.post('/backpack/record/share/withdraw', { csrf: token, platform: moodle.id })).status,
    ).toBe(303);
    const visitor = new Visitor(t);
    expect((await visitor.get(publicPath())).status).toBe(410);
    expect((await visitor.get(`${publicPath()}/clr.json`)).status).toBe(410);
    expect((await visitor.get('/backpack/records/AAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404);
    await ada.post('/backpack/record/share/link', { csrf: token, platform: moodle.id });
    const fresh = decodeEntities(
      /id="share-url" class="secret-value" readonly value="([^"]+)"/.exec((await sharePage()).body)![1]!,
    );
    expect(fresh).not.toBe(shareUrl);
    expect((await visitor.get(new URL(fresh).pathname)).status).toBe(200);
    expect((await visitor.get(publicPath())).status).toBe(410);
  });

  it('a chosen badge that is revoked leaves the public record', async () => {
    const share = await t.laurel.ctx.models.learnerRecordShares.findOne({}).lean();
    const path = `/backpack/records/${share!.shareId}`;
    const revoked = await admin(t, 'POST', `/credentials/${ids[0]}/revoke`, { reason: 'Awarded in error' });
    expect(revoked.status).toBe(200);
    const page = await new Visitor(t).get(path);
    expect(page.status).toBe(200);
    expect(page.body).toContain('This learner record shows no badges right now.');
    expect((await new Visitor(t).get(`${path}/clr.json`)).status).toBe(404);
  });
});
