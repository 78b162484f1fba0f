import { freePort, startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { admin, event, sendEvents, settled, type TestPlatformRecord } from '../support/api.js';
import type { Fetcher } from '../../src/issuers/openbadges/fetcher.js';

/** Laurel whose PUBLIC_URL is the address it really listens on, so its own URLs can be fetched. */
export async function startPublicLaurel(): Promise<TestLaurel> {
  // A free port can be taken by another test process before Laurel listens on it: try another.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startTestLaurel({ PORT: String(await freePort()) });
    } catch (err) {
      if (attempt >= 2 || !String((err as Error).message).includes('EADDRINUSE')) throw err;
    }
  }
}

/** A fetcher for the verifier that reaches the test Laurel over HTTP (and nothing else). */
export const loopbackFetcher =
  (t: TestLaurel): Fetcher =>
  async (url, options = {}) => {
    if (!url.startsWith(`${t.url}/`)) throw new Error(`test fetcher: not fetching ${url}`);
    const res = await fetch(url, { headers: { accept: options.accept ?? 'application/ld+json' } });
    return { url, status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
  };

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  ms = 10_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

let templates = 0;
/** An active template earned by a grade of at least 80 on quiz-3 (course 101). */
export async function gradeTemplate(
  t: TestLaurel,
  platform: TestPlatformRecord,
  over: Record<string, unknown> = {},
) {
  templates++;
  const created = await admin(t, 'POST', '/templates', {
    platformId: platform.id,
    courseId: '101',
    name: `Quiz champion ${templates}`,
    description: 'Top marks on quiz 3.',
    criteria: '80% or more on Quiz 3.',
    tags: ['chemistry'],
    alignments: [{ targetName: 'Stoichiometry', targetUrl: 'https://standards.example.org/chem/1' }],
    groups: [
      {
        requirements: [
          {
            id: 'quiz3',
            event: 'activity.grade.updated',
            rules: [
              { path: 'data.activityId', op: 'eq', value: 'quiz-3' },
              { path: 'data.percent', op: 'gte', value: 80 },
            ],
          },
        ],
      },
    ],
    ...over,
  });
  if (created.status !== 201) throw new Error(`template: ${JSON.stringify(created.body)}`);
  await admin(t, 'POST', `/templates/${created.body.id}/activate`);
  return created.body.id as string;
}

/** Earns a template's badge over HTTP (a signed grade event) and returns the credential id once issued. */
export async function earnIssued(
  t: TestLaurel,
  platform: TestPlatformRecord,
  templateId: string,
  user: { id: string; email?: string; name?: string },
): Promise<string> {
  const answer = await sendEvents(
    t,
    platform.webhookSecret,
    event(platform.id, { user, data: { activityId: 'quiz-3', score: 17, maxScore: 20 } }),
  );
  if (answer.status !== 200) throw new Error(`events: ${JSON.stringify(answer.body)}`);
  await settled(t);
  const list = await admin(
    t,
    'GET',
    `/credentials?templateId=${templateId}&userId=${encodeURIComponent(user.id)}`,
  );
  const id = list.body.items[0]?.id as string | undefined;
  if (!id) throw new Error('no credential was awarded');
  await waitFor('the credential to be issued', async () => {
    const c = await t.laurel.ctx.models.credentials.findById(id).lean();
    return c?.status === 'issued';
  });
  return id;
}
