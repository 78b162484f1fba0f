/** Assignment and Grade Services: line items, results and scores, with their media types. */
import { MEDIA, SCOPE, SERVICE_SCOPES } from '../support/lms-platform/index.js';
import { accessToken, startRig, type Rig } from './helpers.js';

describe.each(['moodle', 'canvas'] as const)('%s gradebook', (flavour) => {
  let rig: Rig;
  let token: string;
  beforeAll(async () => {
    rig = await startRig(flavour);
    token = await accessToken(rig, [...SERVICE_SCOPES]);
  });
  afterAll(() => rig.close());

  const call = (
    url: string,
    init: { method?: string; type?: string; body?: unknown; accept?: string } = {},
  ) =>
    fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.type ? { 'content-type': init.type } : {}),
        ...(init.accept ? { accept: init.accept } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });

  const score = (userId: string, scoreGiven: number, timestamp = new Date().toISOString()) => ({
    userId,
    scoreGiven,
    scoreMaximum: 10,
    activityProgress: 'Completed',
    gradingProgress: 'FullyGraded',
    timestamp,
    comment: 'Well done',
  });

  async function createItem(label: string, scoreMaximum = 100): Promise<Record<string, unknown>> {
    const res = await call(rig.platform.lineItemsUrl(rig.courseId), {
      method: 'POST',
      type: MEDIA.lineItem,
      body: { label, scoreMaximum, tag: 'badge', resourceId: `res-${label}` },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toContain(MEDIA.lineItem);
    return (await res.json()) as Record<string, unknown>;
  }

  test('a GET asking for more than one media type: Moodle finds no handler (400), Canvas answers', async () => {
    const item = await createItem('Accept check');
    const url = rig.platform.lineItemsUrl(rig.courseId);
    const loose = `${MEDIA.lineItemContainer}, application/json`;
    const results = `${String(item.id)}/results`;
    const answers = [
      (await call(url, { accept: loose })).status,
      (await call(results, { accept: `${MEDIA.resultContainer}, application/json` })).status,
      (await call(url, { accept: MEDIA.lineItemContainer })).status,
      (await call(results, { accept: MEDIA.resultContainer })).status,
      (await call(url, { accept: '*/*' })).status,
    ];
    expect(answers).toEqual(flavour === 'moodle' ? [400, 400, 200, 200, 200] : [200, 200, 200, 200, 200]);
    if (flavour === 'moodle')
      expect(await (await call(url, { accept: loose })).text()).toContain('No handler found');
  });

  test('line items: create, list (container type), read, update, delete', async () => {
    const item = await createItem('Quiz 3');
    expect(item).toMatchObject({ label: 'Quiz 3', scoreMaximum: 100, tag: 'badge' });
    expect(String(item.id).startsWith(rig.platform.lineItemsUrl(rig.courseId))).toBe(true);

    const list = await call(`${rig.platform.lineItemsUrl(rig.courseId)}?tag=badge`, {
      accept: MEDIA.lineItemContainer,
    });
    expect(list.headers.get('content-type')).toContain(MEDIA.lineItemContainer);
    expect(((await list.json()) as { id: string }[]).map((i) => i.id)).toContain(item.id);

    const put = await call(String(item.id), {
      method: 'PUT',
      type: MEDIA.lineItem,
      body: { label: 'Quiz 3b', scoreMaximum: 50 },
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ label: 'Quiz 3b', scoreMaximum: 50 });
    expect(await (await call(String(item.id))).json()).toMatchObject({ label: 'Quiz 3b' });

    expect((await call(String(item.id), { method: 'DELETE' })).status).toBe(204);
    expect((await call(String(item.id))).status).toBe(404);
  });

  test('a line item without label or scoreMaximum is refused', async () => {
    const res = await call(rig.platform.lineItemsUrl(rig.courseId), {
      method: 'POST',
      type: MEDIA.lineItem,
      body: { label: 'x' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error_description: expect.stringContaining('scoreMaximum') });
  });

  test('scores need the score media type, update results, and are recorded', async () => {
    const item = await createItem('Lab 1');
    const scores = `${String(item.id)}/scores`;
    const wrongType = await call(scores, {
      method: 'POST',
      type: 'application/json',
      body: score(rig.learner, 8),
    });
    expect(wrongType.status).toBe(415);

    const before = rig.platform.scoresReceived.length;
    const ok = await call(scores, { method: 'POST', type: MEDIA.score, body: score(rig.learner, 8) });
    expect(ok.status).toBe(200);
    expect(rig.platform.scoresReceived).toHaveLength(before + 1);
    expect(rig.platform.scoresReceived.at(-1)).toMatchObject({
      contentType: MEDIA.score,
      score: { userId: rig.learner, scoreGiven: 8 },
    });

    const results = await call(`${String(item.id)}/results`, { accept: MEDIA.resultContainer });
    expect(results.status).toBe(200);
    expect(results.headers.get('content-type')).toContain(MEDIA.resultContainer);
    expect(await results.json()).toEqual([
      expect.objectContaining({
        userId: rig.learner,
        resultScore: 80,
        resultMaximum: 100,
        comment: 'Well done',
        scoreOf: item.id,
      }),
    ]);
  });

  test('setResult seeds a learner result the results service then shows (filtered by user_id)', async () => {
    const item = await createItem('Essay');
    const localId = String(item.id).split('/').at(-1)!;
    const grace = rig.platform.demo!.users.grace.sub;
    rig.platform.setResult(rig.courseId, localId, grace, 42, 50);
    rig.platform.setResult(rig.courseId, localId, rig.learner, 30, 50);
    const res = await call(`${String(item.id)}/results?user_id=${encodeURIComponent(grace)}`);
    expect(await res.json()).toEqual([
      expect.objectContaining({ userId: grace, resultScore: 42, resultMaximum: 50 }),
    ]);
    expect(rig.platform.result(rig.courseId, localId, rig.learner)?.resultScore).toBe(30);
  });

  test('bad scores are refused: missing fields, a non-member, an older timestamp', async () => {
    const item = await createItem('Quiz 4');
    const scores = `${String(item.id)}/scores`;
    const { timestamp: _t, ...noTimestamp } = score(rig.learner, 5);
    expect((await call(scores, { method: 'POST', type: MEDIA.score, body: noTimestamp })).status).toBe(400);
    const stranger = rig.platform.addUser({ name: 'Stan Stranger' });
    expect(
      (await call(scores, { method: 'POST', type: MEDIA.score, body: score(stranger.sub, 5) })).status,
    ).toBe(422);
    const now = Date.now();
    const later = new Date(now).toISOString();
    const earlier = new Date(now - 60_000).toISOString();
    expect(
      (await call(scores, { method: 'POST', type: MEDIA.score, body: score(rig.learner, 5, later) })).status,
    ).toBe(200);
    expect(
      (await call(scores, { method: 'POST', type: MEDIA.score, body: score(rig.learner, 6, earlier) }))
        .status,
    ).toBe(409);
  });

  test('a tool sees only its own line items', async () => {
    const foreign = rig.platform.addLineItem(rig.courseId, {
      label: 'Native quiz',
      scoreMaximum: 10,
      clientId: 'another-tool',
    });
    const list = (await (await call(rig.platform.lineItemsUrl(rig.courseId))).json()) as { label: string }[];
    expect(list.map((i) => i.label)).not.toContain('Native quiz');
    expect((await call(foreign.url)).status).toBe(404);
  });

  test('results need result.readonly; line items need a lineitem scope', async () => {
    const item = await createItem('Scoped');
    const scoreOnly = await accessToken(rig, [SCOPE.score]);
    const auth = { authorization: `Bearer ${scoreOnly}` };
    expect((await fetch(`${String(item.id)}/results`, { headers: auth })).status).toBe(403);
    expect((await fetch(rig.platform.lineItemsUrl(rig.courseId), { headers: auth })).status).toBe(403);
  });
});
