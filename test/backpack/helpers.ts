/** Shared set-up of the backpack tests: a learner with an issued badge, and a browser-like cookie. */
import { admin, event, sendEvents, settled } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { decodeEntities, launch, type TestPlatform } from '../support/lms-platform/index.js';
import { linksOf, type RegisteredPlatform } from '../lti/helpers.js';
import { waitFor } from '../openbadges/support.js';

/** An active template of the chemistry course: quiz-3 at 80% or more, and (if `two`) completing the course. */
export async function activeTemplate(t: TestLaurel, moodle: RegisteredPlatform, name: string, two = false) {
  const groups = [
    {
      requirements: [
        {
          event: 'activity.grade.updated',
          rules: [
            { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
            { path: 'data.percent', op: 'gte', value: 80 },
          ],
        },
      ],
    },
    ...(two ? [{ requirements: [{ event: 'course.completed', rules: [] }] }] : []),
  ];
  const created = await admin(t, 'POST', '/templates', {
    platformId: moodle.id,
    courseId: moodle.platform.demo!.courses.chemistry.id,
    name,
    description: `${name}: a test badge.`,
    criteria: '80% or more on Quiz 3.',
    expiresAfterDays: 400,
    groups,
  });
  if (created.status !== 201) throw new Error(`template: ${JSON.stringify(created.body)}`);
  const activated = await admin(t, 'POST', `/templates/${created.body.id}/activate`);
  if (activated.status !== 200) throw new Error(`activate: ${JSON.stringify(activated.body)}`);
  return created.body.id as string;
}

/** Awards a template to a user by hand and waits until the credential is issued (signed). */
export async function awardIssued(t: TestLaurel, templateId: string, userId: string): Promise<string> {
  const answer = await admin(t, 'POST', '/credentials', { templateId, userId, reason: 'test award' });
  if (answer.status !== 201) throw new Error(`award: ${JSON.stringify(answer.body)}`);
  const id = answer.body.id as string;
  await waitFor('the credential to be issued', async () => {
    const c = await t.laurel.ctx.models.credentials.findById(id).lean();
    return c?.status === 'issued';
  });
  return id;
}

/** A quiz-3 grade of 85% for a user of the chemistry course, processed. */
export async function gradeQuiz3(t: TestLaurel, moodle: RegisteredPlatform, sub: string) {
  const answer = await sendEvents(
    t,
    moodle.webhookSecret,
    event(moodle.id, {
      course: { id: moodle.platform.demo!.courses.chemistry.id },
      user: { id: sub },
      data: { activityId: 'quiz-3', activityName: 'Quiz 3', score: 17, maxScore: 20 },
    }),
  );
  if (answer.status !== 200) throw new Error(`events: ${JSON.stringify(answer.body)}`);
  await settled(t);
}

/** A learner's launch of the chemistry course and the "My backpack" link of their page. */
export async function backpackLinkOf(p: TestPlatform, sub: string): Promise<string> {
  const page = await launch(p, { courseId: p.demo!.courses.chemistry.id, sub });
  const link = linksOf(page.body).find((l) => l.startsWith('/backpack/enter?'));
  if (!link) throw new Error('the learner page has no My backpack link');
  return decodeEntities(link);
}

export type Answer = { status: number; body: string; headers: Headers };

/** A client with one cookie, as a browser keeps the backpack's session cookie. */
export class Visitor {
  cookie: string | null = null;
  constructor(private readonly t: TestLaurel) {}

  async request(path: string, init: RequestInit & { form?: Record<string, string> } = {}): Promise<Answer> {
    const headers = new Headers(init.headers);
    if (!headers.has('accept')) headers.set('accept', 'text/html');
    if (this.cookie) headers.set('cookie', this.cookie);
    let body = init.body;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers.set('content-type', 'application/x-www-form-urlencoded');
    }
    const res = await fetch(new URL(path, this.t.url), {
      ...init,
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    const set = res.headers.get('set-cookie');
    if (set?.startsWith('laurel_backpack=')) {
      const value = set.split(';')[0]!;
      this.cookie = value === 'laurel_backpack=' ? null : value;
    }
    return { status: res.status, body: await res.text(), headers: res.headers };
  }

  get = (path: string) => this.request(path);
  post = (path: string, form: Record<string, string>) => this.request(path, { form });
}

/** The value of a page's hidden CSRF field. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF field on the page');
  return decodeEntities(m[1]!);
}
