import {
  dataServicesToken,
  ensureLiveEventsSubscription,
  liveEventsDeliveryUrl,
  SubscriptionError,
} from '../../src/lms/canvas/subscription.js';
import { LIVE_EVENT_TYPES } from '../../src/lms/canvas/mapping.js';
import { lmsOutboundPolicy } from '../../src/lti/registration.js';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { finishApp } from '../../src/web/app.js';
import { canvasSubscriptionRouter } from '../../src/web/api/webhooks/canvas.js';
import { ADMIN_KEY } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import { startLaurelForLti } from '../lti/helpers.js';
import { gradeChangeBody, startCanvas, type CanvasSetup } from './helpers.js';

describe('subscribing a Canvas platform to Live Events (Data Services API, the tool’s LTI service token)', () => {
  let t: TestLaurel;
  let c: CanvasSetup;
  beforeAll(async () => {
    t = await startLaurelForLti();
    c = await startCanvas(t);
  });
  afterAll(async () => {
    await c?.platform.close();
    await t?.stop();
  });

  it('creates one signed HTTPS subscription to Laurel’s receiver, keeps it on the next call, and Canvas then delivers', async () => {
    const policy = lmsOutboundPolicy(t.laurel.config);
    const platform = { _id: c.id, issuer: c.platform.issuer, clientId: c.platform.clientId };
    const deliveryUrl = liveEventsDeliveryUrl(t.url, platform);
    expect(deliveryUrl).toBe(c.webhookUrl);
    const input = {
      canvasUrl: c.platform.url,
      accountId: c.platform.rootAccount.ltiContextId,
      contextId: c.platform.rootAccount.uuid,
      deliveryUrl,
      accessToken: await dataServicesToken(t.laurel.lti.provider, platform),
    };
    expect(await ensureLiveEventsSubscription(policy, input)).toMatchObject({ action: 'created' });
    expect(await ensureLiveEventsSubscription(policy, input)).toMatchObject({ action: 'unchanged' });
    const subs = c.platform.liveEventSubscriptions;
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatchObject({
      ContextType: 'root_account',
      ContextId: c.platform.rootAccount.uuid,
      Format: 'live-event',
      TransportType: 'https',
      TransportMetadata: { Url: c.webhookUrl },
    });
    expect([...subs[0]!.EventTypes].sort()).toEqual([...LIVE_EVENT_TYPES].sort());

    // Event types added later widen the subscription instead of making another.
    subs[0]!.EventTypes = subs[0]!.EventTypes.filter((e) => e !== 'course_completed');
    expect(await ensureLiveEventsSubscription(policy, input)).toMatchObject({ action: 'updated' });
    expect(subs[0]!.EventTypes).toContain('course_completed');

    const ada = c.platform.demo!.users.ada;
    const delivered = await c.platform.emitLiveEvent({
      eventName: 'grade_change',
      courseId: c.platform.demo!.courses.chemistry.id,
      body: gradeChangeBody({
        assignmentId: '42',
        assignmentName: 'Lab 3',
        userId: ada.lmsUserId,
        score: 9,
        pointsPossible: 10,
      }),
    });
    expect(delivered).toEqual([expect.objectContaining({ url: c.webhookUrl, status: 200 })]);
    expect(delivered[0]!.body.stored).toBe(1);
  });

  it('POST /platforms/:id/canvas/live-events-subscription subscribes with the admin key (ready to mount beside ltijs)', async () => {
    const app = express();
    app.use('/api/v1', canvasSubscriptionRouter(t.laurel.ctx, t.laurel.lti.provider));
    finishApp(app, pino({ level: 'silent' }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/platforms`;
    const post = async (id: string, body: unknown, key = ADMIN_KEY) => {
      const res = await fetch(`${base}/${id}/canvas/live-events-subscription`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    try {
      const body = { canvasUrl: c.platform.url, accountId: c.platform.rootAccount.ltiContextId };
      expect((await post(c.id, body, 'wrong')).status).toBe(401);
      expect((await post(c.id, { accountId: 'x' })).status).toBe(400);
      const answer = await post(c.id, body);
      expect(answer.status).toBe(200);
      // The first test made it already: kept, not made twice.
      expect(answer.body).toMatchObject({ action: 'unchanged', deliveryUrl: c.webhookUrl });
      expect(c.platform.liveEventSubscriptions).toHaveLength(1);
      const wrongAccount = await post(c.id, { ...body, accountId: 'not-the-root-account' });
      expect(wrongAccount.status).toBe(502);
      expect(wrongAccount.body.error).toBe('canvas_refused');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('says why when Canvas refuses (a token without the scopes)', async () => {
    await expect(
      ensureLiveEventsSubscription(lmsOutboundPolicy(t.laurel.config), {
        canvasUrl: c.platform.url,
        accountId: c.platform.rootAccount.ltiContextId,
        deliveryUrl: c.webhookUrl,
        accessToken: 'not-a-token',
      }),
    ).rejects.toMatchObject({ status: 401, name: SubscriptionError.name });
  });
});
