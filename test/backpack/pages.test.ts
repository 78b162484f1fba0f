/**
 * Issue 23: My Record and My Badges, reached from the course page, with sharing, downloads, the
 * embed card and the switch that hides a badge from every public page and document.
 */
import { unbakePng } from '../../src/issuers/openbadges/bake.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, type TestPlatform } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';
import { activeTemplate, awardIssued, backpackLinkOf, csrfOf, gradeQuiz3, Visitor } from './helpers.js';

describe('the learner’s backpack pages', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let ada: Visitor;
  let credentialId: string;

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    // Ada launches first, so Laurel knows her (with the address her LMS gives).
    const link = await backpackLinkOf(p, p.demo!.users.ada.sub);
    const earned = await activeTemplate(t, moodle, 'Lab star');
    await activeTemplate(t, moodle, 'Chemistry graduate', true);
    credentialId = await awardIssued(t, earned, p.demo!.users.ada.sub);
    await gradeQuiz3(t, moodle, p.demo!.users.ada.sub);
    ada = new Visitor(t);
    const entered = await ada.get(link);
    expect(entered.status).toBe(303);
    expect(entered.headers.get('location')).toBe('/backpack');
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  it('opens from the course page’s link with a session cookie that scripts and other sites cannot use', async () => {
    const fresh = new Visitor(t);
    const answer = await fresh.get(await backpackLinkOf(p, p.demo!.users.ada.sub));
    const cookie = answer.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^laurel_backpack=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/backpack/);
    // Only the token's hash is stored.
    const token = cookie.split(';')[0]!.split('=')[1]!;
    expect(await t.laurel.ctx.models.backpackSessions.countDocuments({ _id: token })).toBe(0);
  });

  it('refuses a launch token that is not valid', async () => {
    const answer = await new Visitor(t).get('/backpack/enter?ltik=not-a-token');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('set-cookie')).toBeNull();
  });

  it('sends a visitor without a session to the sign-in page, and refuses their forms', async () => {
    const stranger = new Visitor(t);
    const page = await stranger.get('/backpack');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/backpack/sign-in');
    const post = await stranger.post(`/backpack/badges/${credentialId}/visibility`, { visibility: 'hidden' });
    expect(post.status).toBe(401);
    expect(await t.laurel.ctx.models.badgeSharings.countDocuments({})).toBe(0);
  });

  it('My Record shows the badge earned, the one in progress and recent activity', async () => {
    const page = await ada.get('/backpack');
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const earned = page.body.slice(page.body.indexOf('Badges earned'), page.body.indexOf('In progress'));
    expect(earned).toContain('Lab star');
    expect(earned).toContain(`/backpack/badges/${credentialId}`);
    const progress = page.body.slice(page.body.indexOf('In progress'), page.body.indexOf('Recent activity'));
    expect(progress).toContain('Chemistry graduate');
    expect(progress).toMatch(/<progress max="100" value="50"/);
    expect(progress).not.toContain('Lab star');
    const activity = page.body.slice(page.body.indexOf('Recent activity'));
    expect(activity).toContain('Activity grade recorded: Quiz 3');
    expect(activity).toContain('Earned the badge “Lab star”');
  });

  it('My Badges lists the badge, and its page offers every way to share it', async () => {
    const list = await ada.get('/backpack/badges');
    expect(list.status).toBe(200);
    expect(list.body).toContain(`href="/backpack/badges/${credentialId}"`);
    const page = await ada.get(`/backpack/badges/${credentialId}`);
    expect(page.status).toBe(200);
    const publicUrl = `${t.laurel.config.publicUrl}/credentials/${credentialId}`;
    const year = String(new Date().getUTCFullYear());
    const linkedIn = /href="(https:\/\/www\.linkedin\.com\/profile\/add\?[^"]+)"/.exec(page.body)![1]!;
    const add = new URL(decodeEntities(linkedIn));
    expect(add.searchParams.get('startTask')).toBe('CERTIFICATION_NAME');
    expect(add.searchParams.get('name')).toBe('Lab star');
    expect(add.searchParams.get('certId')).toBe(credentialId);
    expect(add.searchParams.get('certUrl')).toBe(publicUrl);
    expect(add.searchParams.get('issueYear')).toBe(year);
    expect(add.searchParams.get('issueMonth')).toBe(String(new Date().getUTCMonth() + 1));
    expect(add.searchParams.get('expirationYear')).toMatch(/^20\d\d$/);
    expect(add.searchParams.get('organizationName')).toBeTruthy();
    const body = decodeEntities(page.body);
    const x = new URL(/href="(https:\/\/x\.com\/intent\/post\?[^"]+)"/.exec(body)![1]!);
    expect(x.searchParams.get('url')).toBe(publicUrl);
    expect(x.searchParams.get('text')).toContain('Lab star');
    expect(body).toContain(`https://www.facebook.com/sharer/sharer.php?u=${encodeURIComponent(publicUrl)}`);
    expect(body).toContain(
      `https://www.linkedin.com/sharing/share-offsite/?url=${encodeURIComponent(publicUrl)}`,
    );
    // The embed code is shown as text: an iframe of the card.
    expect(page.body).not.toContain('<iframe');
    expect(body).toContain(`<iframe src="${t.laurel.config.publicUrl}/backpack/embed/${credentialId}"`);
    // And an HTML snippet without a frame: the public picture and name, linked to the public page.
    const image = `${publicUrl}/image.png`;
    expect(body).toContain(`<a href="${publicUrl}"><img src="${image}" alt="Badge: Lab star"`);
    expect(body).toContain(`<p><a href="${publicUrl}">Lab star</a>, awarded by `);
    const png = await fetch(image);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
  });

  it('downloads the baked PNG and SVG and the OB 3.0 JSON', async () => {
    const png = await ada.get(`/backpack/badges/${credentialId}/badge.png`);
    expect(png.status).toBe(200);
    const bytes = new Uint8Array(
      await (
        await fetch(new URL(`/backpack/badges/${credentialId}/badge.png`, t.url), {
          headers: { cookie: ada.cookie! },
        })
      ).arrayBuffer(),
    );
    const baked = unbakePng(bytes);
    expect(baked?.kind).toBe('ob3');
    expect(JSON.parse(baked!.text).id).toBe(`${t.laurel.config.publicUrl}/credentials/${credentialId}`);
    const svg = await ada.get(`/backpack/badges/${credentialId}/badge.svg`);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toContain('openbadges:credential');
    const json = await ada.get(`/backpack/badges/${credentialId}/credential.json`);
    expect(json.headers.get('content-disposition')).toContain('attachment');
    expect(JSON.parse(json.body).type).toContain('AchievementCredential');
  });

  it('the embed card renders the badge and may be framed by any site', async () => {
    const card = await new Visitor(t).get(`/backpack/embed/${credentialId}`);
    expect(card.status).toBe(200);
    expect(card.headers.get('content-security-policy')).toMatch(/frame-ancestors \*/);
    expect(card.body).toContain('<h1>Lab star</h1>');
    expect(card.body).toMatch(/class="bp-embed-state ok">Valid</);
    expect(card.body).toContain(`/credentials/${credentialId}`);
    // Backpack pages themselves are not framable.
    const page = await ada.get('/backpack/badges');
    expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
  });

  it('refuses a visibility change without the session’s CSRF token', async () => {
    const answer = await ada.post(`/backpack/badges/${credentialId}/visibility`, {
      visibility: 'hidden',
      csrf: 'forged',
    });
    expect(answer.status).toBe(403);
    expect(await t.laurel.ctx.models.badgeSharings.countDocuments({})).toBe(0);
  });

  const publicAnswers = async (key = '') => {
    const q = key ? `?key=${key}` : '';
    const at = (path: string, accept = 'text/html') =>
      fetch(new URL(path, t.url), { headers: { accept } }).then((r) => r.status);
    return {
      page: await at(`/credentials/${credentialId}${q}`),
      json: await at(`/credentials/${credentialId}${q}`, 'application/ld+json'),
      download: await at(`/credentials/${credentialId}/credential.json${q}`),
      png: await at(`/credentials/${credentialId}/image.png${q}`),
      ob2Png: await at(`/credentials/${credentialId}/image-ob2.png${q}`),
      svg: await at(`/credentials/${credentialId}/image.svg${q}`),
      ob2: await at(`/ob2/assertions/${credentialId}${q}`, 'application/json'),
      embed: await at(`/backpack/embed/${credentialId}${q}`),
    };
  };
  const all = (status: number) => ({
    page: status,
    json: status,
    download: status,
    png: status,
    ob2Png: status,
    svg: status,
    ob2: status,
    embed: status,
  });

  it('hides a badge from every public page and document, while its holder still sees it', async () => {
    expect(await publicAnswers()).toEqual(all(200));
    const page = await ada.get(`/backpack/badges/${credentialId}`);
    const saved = await ada.post(`/backpack/badges/${credentialId}/visibility`, {
      visibility: 'hidden',
      csrf: csrfOf(page.body),
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe(`/backpack/badges/${credentialId}?saved=1`);
    expect(await publicAnswers()).toEqual(all(404));
    const own = await ada.get(saved.headers.get('location')!);
    expect(own.status).toBe(200);
    expect(own.body).toContain('Saved.');
    expect(own.body).toMatch(/value="hidden" checked/);
    expect(own.body).toContain('hidden, so it cannot be shared');
    expect(own.body).not.toContain('linkedin.com/profile/add');
    expect((await ada.get(`/backpack/badges/${credentialId}/credential.json`)).status).toBe(200);
  });

  it('a link-only badge answers only through its holder’s link', async () => {
    const page = await ada.get(`/backpack/badges/${credentialId}`);
    await ada.post(`/backpack/badges/${credentialId}/visibility`, {
      visibility: 'link',
      csrf: csrfOf(page.body),
    });
    const own = await ada.get(`/backpack/badges/${credentialId}`);
    const shared = decodeEntities(
      /id="share-url" class="secret-value" readonly value="([^"]+)"/.exec(own.body)![1]!,
    );
    const key = new URL(shared).searchParams.get('key')!;
    expect(key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await publicAnswers()).toEqual(all(404));
    expect(await publicAnswers(key)).toEqual(all(200));
    // One character changed (never to itself: a key ending in 'x' once made this the right key).
    const wrongKey = `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;
    expect(await publicAnswers(wrongKey)).toEqual(all(404));
    // The page opened through the holder's link offers downloads that work through it too.
    const publicPage = await (await fetch(shared, { headers: { accept: 'text/html' } })).text();
    expect(decodeEntities(publicPage)).toContain(`/credentials/${credentialId}/image.png?key=${key}`);
    // Back to public.
    await ada.post(`/backpack/badges/${credentialId}/visibility`, {
      visibility: 'public',
      csrf: csrfOf(own.body),
    });
    expect(await publicAnswers()).toEqual(all(200));
  });

  it('refuses a bad visibility value with a clear 400', async () => {
    const page = await ada.get(`/backpack/badges/${credentialId}`);
    const answer = await ada.post(`/backpack/badges/${credentialId}/visibility`, {
      visibility: 'everyone',
      csrf: csrfOf(page.body),
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('Choose who may see the badge');
  });

  it('never shows or changes someone else’s badge', async () => {
    const grace = new Visitor(t);
    await grace.get(await backpackLinkOf(p, p.demo!.users.grace.sub));
    const record = await grace.get('/backpack');
    expect(record.status).toBe(200);
    expect(record.body).not.toContain('Lab star');
    for (const path of ['', '/badge.png', '/credential.json'])
      expect((await grace.get(`/backpack/badges/${credentialId}${path}`)).status).toBe(404);
    const answer = await grace.post(`/backpack/badges/${credentialId}/visibility`, {
      visibility: 'hidden',
      csrf: csrfOf(record.body),
    });
    expect(answer.status).toBe(404);
    expect(await t.laurel.ctx.models.badgeSharings.findById(credentialId).lean()).toMatchObject({
      visibility: 'public',
    });
  });

  it('signs out: the session no longer opens anything', async () => {
    const other = new Visitor(t);
    await other.get(await backpackLinkOf(p, p.demo!.users.ada.sub));
    const page = await other.get('/backpack');
    const cookie = other.cookie;
    const out = await other.post('/backpack/sign-out', { csrf: csrfOf(page.body) });
    expect(out.status).toBe(303);
    const replay = await fetch(new URL('/backpack', t.url), {
      headers: { cookie: cookie! },
      redirect: 'manual',
    });
    expect(replay.status).toBe(303);
  });

  it('says e-mail sign-in is not set up when SMTP_URL is unset', async () => {
    const page = await new Visitor(t).get('/backpack/sign-in');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Signing in by e-mail is not set up');
    // No mail at all: no notice was claimed for Ada's award, no sign-in link is stored.
    const asked = await new Visitor(t).post('/backpack/sign-in', { email: 'ada@example.edu' });
    expect(asked.body).toContain('Check your e-mail');
    expect(await t.laurel.ctx.models.signInLinks.countDocuments({})).toBe(0);
    expect(await t.laurel.ctx.models.learnerNotices.countDocuments({})).toBe(0);
    expect(await t.laurel.ctx.models.noticeCursors.countDocuments({})).toBe(0);
  });
});
