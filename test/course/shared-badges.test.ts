/**
 * Issue 17, item 7: an instructor sees, offers and names only the badges of their course, the
 * platform's badges for every course, and other courses' badges the platform admin shared.
 */
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, parseForms, type TestPlatform } from '../support/lms-platform/index.js';
import {
  follow,
  linksOf,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from '../lti/helpers.js';

const NEW_FORM = '/course/instructor/badges/new';

describe('badges across the courses of one platform (issue 17, item 7)', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  let p: TestPlatform;
  let instructorPage: { url: string; body: string };
  const ids: Record<string, string> = {};

  const template = async (name: string, courseId: string | null, extra: Record<string, unknown> = {}) => {
    const answer = await admin(t, 'POST', '/templates', {
      platformId: moodle.id,
      ...(courseId ? { courseId } : {}),
      name,
      ...extra,
    });
    expect(answer.status).toBe(201);
    return answer.body.id as string;
  };

  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
    p = moodle.platform;
    const { chemistry, history } = p.demo!.courses;
    ids.own = await template('Alpha own badge', chemistry.id);
    ids.everyCourse = await template('Platform wide badge', null);
    ids.other = await template('Bravo secret badge', history.id);
    ids.needsOther = await template('Needs the other course', chemistry.id, {
      groups: [{ requirements: [{ badge: ids.other }] }],
    });
    instructorPage = await launch(p, { courseId: chemistry.id, sub: p.demo!.users.instructor.sub });
  });
  afterAll(async () => {
    await p?.close();
    await t?.stop();
  });

  const newForm = async () =>
    follow(
      t,
      linksOf(instructorPage.body).find((l) => l.startsWith(NEW_FORM))!,
    );
  const editForm = async (id: string) =>
    follow(t, `/course/instructor/badges/${id}?ltik=${new URL(instructorPage.url).searchParams.get('ltik')}`);

  /** The badge form as the page posts it (multipart, its fields in page order), with changes. */
  async function submit(html: string, path: string, fields: Record<string, string>) {
    const form = parseForms(html).find((f) => new URL(f.action, t.url).pathname === path);
    if (!form) throw new Error(`no form posting to ${path}`);
    const values = new Map(form.fields);
    for (const [k, v] of Object.entries(fields)) values.set(k, v);
    const body = new FormData();
    for (const [k, v] of values) body.append(k, v);
    const res = await fetch(new URL(form.action, t.url), {
      method: 'POST',
      body,
      redirect: 'manual',
      headers: { accept: 'text/html' },
    });
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }

  /** The live summary as the page's script asks for it. */
  async function summary(html: string, templateId: string) {
    const action = decodeEntities(/data-summary-action="([^"]+)"/.exec(html)![1]!);
    const form = parseForms(html).find((f) => f.fields.some(([name]) => name === 'csrf'))!;
    const fields = new URLSearchParams(form.fields);
    fields.set('groups[0][0][kind]', 'badge');
    fields.set('groups[0][0][templateId]', templateId);
    const res = await fetch(new URL(action, t.url), { method: 'POST', body: fields });
    expect(res.status).toBe(200);
    return ((await res.json()) as { summary: string }).summary;
  }

  it('offers the course’s own and the platform-wide badges, never another course’s', async () => {
    const form = await newForm();
    expect(form.status).toBe(200);
    expect(form.body).toContain('Alpha own badge');
    expect(form.body).toContain('Platform wide badge');
    expect(form.body).not.toContain('Bravo secret badge');
    expect(form.body).not.toContain(ids.other);
  });

  it('does not name another course’s badge in the rule summary', async () => {
    const form = await newForm();
    expect(await summary(form.body, ids.own)).toBe('Earned when: badge “Alpha own badge” earned');
    const other = await summary(form.body, ids.other);
    expect(other).not.toContain('Bravo secret badge');
  });

  it('refuses a form that requires another course’s badge, beside the field, and stores nothing', async () => {
    const form = await newForm();
    const answer = await submit(form.body, '/course/instructor/badges', {
      name: 'Sneaky requirement',
      'groups[0][0][kind]': 'badge',
      'groups[0][0][templateId]': ids.other!,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/id="g0r0-badge-error" class="field-error">Choose a badge from the list\./);
    expect(answer.body).toMatch(/id="g0r0-badge"[^>]*aria-invalid="true"/);
    expect(answer.body).not.toContain('Bravo secret badge');
    expect(await t.laurel.ctx.models.templates.countDocuments({ name: 'Sneaky requirement' })).toBe(0);
  });

  it('keeps a requirement the admin set on another course’s badge without naming it', async () => {
    const list = await follow(t, instructorPage.url);
    expect(list.body).toContain('Needs the other course');
    expect(list.body).not.toContain('Bravo secret badge');
    const page = await editForm(ids.needsOther!);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('Bravo secret badge');
    expect(page.body).toContain('A condition set through the admin API');
    const saved = await submit(page.body, `/course/instructor/badges/${ids.needsOther}`, {
      description: 'Edited by the instructor',
    });
    expect(saved.status).toBe(303);
    const stored = await t.laurel.ctx.models.templates.findById(ids.needsOther).lean();
    expect(stored?.description).toBe('Edited by the instructor');
    expect(stored?.requiresTemplates).toEqual([ids.other]);
  });

  it('once the admin shares the other course’s badge, offers, names and accepts it', async () => {
    const patched = await admin(t, 'PATCH', `/templates/${ids.other}`, { shared: true });
    expect(patched.status).toBe(200);
    expect(patched.body.shared).toBe(true);

    const form = await newForm();
    expect(form.body).toContain('Bravo secret badge');
    expect(await summary(form.body, ids.other!)).toBe('Earned when: badge “Bravo secret badge” earned');
    const answer = await submit(form.body, '/course/instructor/badges', {
      name: 'Requires a shared badge',
      'groups[0][0][kind]': 'badge',
      'groups[0][0][templateId]': ids.other!,
    });
    expect(answer.status).toBe(303);
    const stored = await t.laurel.ctx.models.templates.findOne({ name: 'Requires a shared badge' }).lean();
    expect(stored?.requiresTemplates).toEqual([ids.other]);
  });
});
