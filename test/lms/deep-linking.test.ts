/** Deep linking: the request claim, and the return endpoint verifying the tool's signed response. */
import { CLAIM, followAutoSubmit, launch, ROLE } from '../support/lms-platform/index.js';
import { makeKey } from './fake-tool.js';
import { startRig, type Rig } from './helpers.js';

interface Settings {
  deep_link_return_url: string;
  accept_types: string[];
  accept_presentation_document_targets: string[];
  accept_multiple: boolean;
  data: string;
}

describe.each(['moodle', 'canvas'] as const)('%s deep linking', (flavour) => {
  let rig: Rig;
  let settings: Settings;
  beforeEach(async () => {
    rig = await startRig(flavour);
    const result = await launch(rig.platform, {
      courseId: rig.courseId,
      sub: rig.instructor,
      messageType: 'LtiDeepLinkingRequest',
    });
    expect(result.status).toBe(200);
    expect(result.body).toContain('Deep linking');
    expect(result.claims![CLAIM.messageType]).toBe('LtiDeepLinkingRequest');
    expect(result.claims).not.toHaveProperty(CLAIM.resourceLink);
    expect(result.claims![CLAIM.roles]).toContain(`${ROLE.MEMBERSHIP}Instructor`);
    settings = result.claims![CLAIM.dlSettings] as Settings;
  });
  afterEach(() => rig.close());

  const postReturn = (jwt: string) =>
    fetch(settings.deep_link_return_url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ JWT: jwt }),
    });

  const badge = {
    type: 'ltiResourceLink',
    title: 'Quiz champion badge',
    url: 'http://localhost/lti/launch?badge=1',
    custom: { badge_template: 'tpl-1' },
    lineItem: { scoreMaximum: 10, label: 'Badge quiz', tag: 'laurel' },
  };

  test('the request carries the deep-linking settings', () => {
    expect(settings.deep_link_return_url).toBe(rig.platform.deepLinkReturnUrl);
    expect(settings.accept_types).toEqual(['ltiResourceLink']);
    expect(settings.accept_presentation_document_targets).toContain('iframe');
    expect(settings.accept_multiple).toBe(true);
    expect(typeof settings.data).toBe('string');
  });

  test('a well-signed response is verified, recorded, and its items added to the course', async () => {
    const res = await postReturn(rig.tool.deepLinkResponse({ data: settings.data, items: [badge] }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Added Quiz champion badge');
    expect(rig.platform.deepLinkResponses).toHaveLength(1);
    const record = rig.platform.deepLinkResponses[0];
    expect(record).toMatchObject({
      clientId: rig.platform.clientId,
      courseId: rig.courseId,
      contentItems: [badge],
    });
    expect(record.created[0].lineItemId).toBeDefined();
    const labels = rig.platform.lineItems(rig.courseId).map((i) => i.label);
    expect(labels).toContain('Badge quiz');

    const link = record.created[0].resourceLinkId;
    const relaunch = await launch(rig.platform, {
      courseId: rig.courseId,
      sub: rig.learner,
      resourceLinkId: link,
    });
    expect(relaunch.claims![CLAIM.resourceLink]).toMatchObject({ id: link, title: 'Quiz champion badge' });
    expect(relaunch.claims![CLAIM.targetLinkUri]).toBe(badge.url);
    expect(relaunch.claims![CLAIM.custom]).toMatchObject({ badge_template: 'tpl-1' });
    expect((relaunch.claims![CLAIM.ags] as { lineitem: string }).lineitem).toContain(
      `/line_items/${record.created[0].lineItemId}`,
    );
  });

  test('a response signed with a key the tool does not publish is refused', async () => {
    const res = await postReturn(
      rig.tool.deepLinkResponse({ data: settings.data, items: [badge], key: makeKey() }),
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('bad_signature');
    expect(rig.platform.deepLinkResponses).toHaveLength(0);
  });

  test.each([
    ['data not echoed', { data: undefined }, 'data claim'],
    ['another data value', { data: 'forged' }, 'data claim'],
    ['an unknown deployment', { deploymentId: 'nope' }, 'deployment_id'],
    ['another audience', { claims: { aud: 'https://elsewhere.example' } }, 'audience'],
    ['no nonce', { claims: { nonce: undefined } }, 'nonce'],
    ['a launch message type', { claims: { [CLAIM.messageType]: 'LtiResourceLinkRequest' } }, 'message_type'],
  ])('%s is refused', async (_name, change, message) => {
    const opts = { data: settings.data, items: [badge], ...change };
    const res = await postReturn(rig.tool.deepLinkResponse(opts));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(message);
    expect(rig.platform.deepLinkResponses).toHaveLength(0);
  });

  test('the data of a request can be used once', async () => {
    expect(
      (await postReturn(rig.tool.deepLinkResponse({ data: settings.data, items: [badge] }))).status,
    ).toBe(200);
    expect(
      (await postReturn(rig.tool.deepLinkResponse({ data: settings.data, items: [badge] }))).status,
    ).toBe(400);
  });

  test('an empty selection is accepted and says nothing was added', async () => {
    const res = await postReturn(rig.tool.deepLinkResponse({ data: settings.data, items: [] }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Nothing was added');
  });
});

test("the driver follows the tool's auto-submitted response back to the platform", async () => {
  const rig = await startRig('moodle');
  try {
    rig.tool.deepLinkItems = [{ type: 'ltiResourceLink', title: 'Laurel badge board' }];
    const request = await launch(rig.platform, {
      courseId: rig.courseId,
      sub: rig.instructor,
      messageType: 'LtiDeepLinkingRequest',
    });
    expect(request.body).toContain('Deep linking');
    const back = await followAutoSubmit(request);
    expect(back?.status).toBe(200);
    expect(back?.url).toBe(rig.platform.deepLinkReturnUrl);
    expect(back?.body).toContain('Added Laurel badge board');
    expect(rig.platform.deepLinkResponses[0].created).toEqual([
      expect.objectContaining({ title: 'Laurel badge board' }),
    ]);
  } finally {
    await rig.close();
  }
});
