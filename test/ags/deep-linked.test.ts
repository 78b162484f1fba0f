/**
 * Issue 19, item 3 end to end: an instructor places a Laurel activity with a gradebook column through
 * deep linking; the LMS makes the column from the content item's lineItem; a grade entered there is read
 * by the AGS poll, becomes activity.grade.updated and makes the award. No plugin, no Live Events.
 */
import { pollAgsResults } from '../../src/lms/ags/poll.js';
import { admin, settled } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { followAutoSubmit, launch, parseForms, type LaunchResult } from '../support/lms-platform/index.js';
import { startLaurelForLti, startRegisteredPlatform, type RegisteredPlatform } from '../lti/helpers.js';

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not in time`);
}

/** Opens "Select content" as the instructor and posts the form with these fields; the page answered. */
async function deepLink(reg: RegisteredPlatform, courseId: string, fields: Record<string, string>) {
  const p = reg.platform;
  const page = await launch(p, {
    courseId,
    sub: p.demo!.users.instructor.sub,
    messageType: 'LtiDeepLinkingRequest',
  });
  expect(new URL(page.url).pathname).toBe('/course/deep-link');
  const form = parseForms(page.body).find((f) => f.action === '/course/deep-link')!;
  const body = new URLSearchParams(form.fields.filter(([name]) => !(name in fields)));
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  const res = await fetch(new URL(form.action, page.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: body.toString(),
  });
  return { page, res, html: await res.text() };
}

describe.each(['moodle', 'canvas'] as const)(
  '%s: a deep-linked Laurel activity with a gradebook column',
  (flavour) => {
    let t: TestLaurel;
    let reg: RegisteredPlatform;
    const p = () => reg.platform;
    const chem = () => p().demo!.courses.chemistry;

    beforeAll(async () => {
      t = await startLaurelForLti();
      reg = await startRegisteredPlatform(t, flavour);
    });
    afterAll(async () => {
      await reg?.platform.close();
      await t?.stop();
    });

    it('offers the column on the deep-linking page, and says what is wrong with a bad maximum', async () => {
      const { page } = await deepLink(reg, chem().id, {});
      expect(page.body).toContain('Give it a column in the gradebook');
      expect(page.body).toContain('Maximum points');
      const bad = await deepLink(reg, chem().id, { title: 'Lab safety', graded: 'on', scoreMaximum: '-5' });
      expect(bad.res.status).toBe(400);
      expect(bad.html).toContain('Maximum points: a number above 0');
      expect(bad.html).toContain('aria-invalid="true"');
      // The instructor's entries stay in the form.
      expect(bad.html).toContain('value="Lab safety"');
      const noName = await deepLink(reg, chem().id, { title: '  ' });
      expect(noName.res.status).toBe(400);
      expect(noName.html).toContain('Give the item a name.');
      expect(p().deepLinkResponses).toHaveLength(0);
    });

    it('asks nothing about a column when the LMS says it ignores line items (accept_lineitem false)', async () => {
      const probe = await launch(p(), {
        courseId: chem().id,
        sub: p().demo!.users.instructor.sub,
        messageType: 'LtiDeepLinkingRequest',
      });
      const settings = probe.claims![
        'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings'
      ] as object;
      const page = await launch(p(), {
        courseId: chem().id,
        sub: p().demo!.users.instructor.sub,
        messageType: 'LtiDeepLinkingRequest',
        claims: {
          'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings': {
            ...settings,
            accept_lineitem: false,
          },
        },
      });
      expect(new URL(page.url).pathname).toBe('/course/deep-link');
      expect(page.body).toContain('Name in the course');
      expect(page.body).not.toContain('Give it a column in the gradebook');
    });

    it('adds a plain Badges item without a column by default', async () => {
      const before = p().lineItems(chem().id, p().clientId).length;
      const { page, res, html } = await deepLink(reg, chem().id, {});
      expect(res.status).toBe(200);
      await followAutoSubmit({ ...page, url: res.url, body: html } as LaunchResult);
      const record = p().deepLinkResponses.at(-1)!;
      expect(record.contentItems[0]).toMatchObject({ type: 'ltiResourceLink', title: 'Badges' });
      expect(record.contentItems[0]).not.toHaveProperty('lineItem');
      expect(record.created[0]!.lineItemId).toBeUndefined();
      expect(p().lineItems(chem().id, p().clientId)).toHaveLength(before);
    });

    it('turns a grade entered in the column the LMS made into an event and the badge', async () => {
      const { page, res, html } = await deepLink(reg, chem().id, {
        title: 'Lab safety check',
        graded: 'on',
        scoreMaximum: '50',
      });
      expect(res.status).toBe(200);
      const back = await followAutoSubmit({ ...page, url: res.url, body: html } as LaunchResult);
      expect(back?.status).toBe(200);

      // The content item carries the lineItem as LTI Deep Linking 2.0 has it …
      const record = p().deepLinkResponses.at(-1)!;
      const item = record.contentItems[0] as { title: string; lineItem: Record<string, unknown> };
      expect(item.title).toBe('Lab safety check');
      expect(item.lineItem).toEqual({
        scoreMaximum: 50,
        label: 'Lab safety check',
        resourceId: expect.stringMatching(/^laurel-[A-Za-z0-9_-]{12}$/),
        tag: 'laurel',
      });
      const resourceId = item.lineItem.resourceId as string;
      // … and the LMS made the column, tied to the new resource link.
      const lineItemId = record.created[0]!.lineItemId!;
      expect(lineItemId).toBeDefined();
      const column = p()
        .lineItems(chem().id, p().clientId)
        .find((i) => i.localId === lineItemId)!;
      expect(column).toMatchObject({
        label: 'Lab safety check',
        scoreMaximum: 50,
        resourceId,
        tag: 'laurel',
        resourceLinkId: record.created[0]!.resourceLinkId,
      });

      // A badge on that activity (the id a rule names is the column's resourceId).
      const created = await admin(t, 'POST', '/templates', {
        platformId: reg.id,
        courseId: chem().id,
        name: 'Safe in the lab',
        description: 'Passed the lab safety check.',
        criteria: '80% or more in the lab safety check.',
        groups: [
          {
            requirements: [
              {
                event: 'activity.grade.updated',
                rules: [
                  { path: 'data.activityId', op: 'eq', value: resourceId },
                  { path: 'data.percent', op: 'gte', value: 80 },
                ],
              },
            ],
          },
        ],
        penalties: [],
      });
      expect(created.status).toBe(201);
      const templateId = created.body.id as string;
      expect((await admin(t, 'POST', `/templates/${templateId}/activate`)).status).toBe(200);

      // The learner opens the activity: the launch names the column as its line item.
      const ada = p().demo!.users.ada;
      const learner = await launch(p(), {
        courseId: chem().id,
        sub: ada.sub,
        resourceLinkId: record.created[0]!.resourceLinkId,
      });
      expect(new URL(learner.url).pathname).toBe('/course/learner');
      expect(
        (learner.claims!['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint'] as { lineitem: string })
          .lineitem,
      ).toBe(column.id);

      // The teacher grades her 44/50 in the LMS's gradebook; the poll reads it.
      p().setResult(chem().id, lineItemId, ada.sub, 44, 50);
      const polled = await pollAgsResults(t.laurel.ctx);
      expect(polled).toMatchObject({ failed: 0, stored: 1 });
      const events = await t.laurel.ctx.models.events.find({ platformId: reg.id, source: 'ags' }).lean();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'activity.grade.updated',
        user: { id: ada.sub },
        data: {
          activityId: resourceId,
          activityName: 'Lab safety check',
          score: 44,
          maxScore: 50,
          percent: 88,
          lineItemId: column.id,
          resourceLinkId: record.created[0]!.resourceLinkId,
        },
      });

      await settled(t);
      const credentials = async () =>
        (await admin(t, 'GET', `/credentials?templateId=${templateId}&userId=${encodeURIComponent(ada.sub)}`))
          .body.items as { status: string }[];
      await waitFor('Ada’s credential', async () => (await credentials()).length > 0);
      expect(await credentials()).toHaveLength(1);
      // The next poll finds nothing new: one event, one credential.
      expect(await pollAgsResults(t.laurel.ctx)).toMatchObject({ stored: 0 });
    });
  },
);
