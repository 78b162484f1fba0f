/**
 * Issue 17, item 9: the event endpoint judges nothing of a body before its signature holds. A fake
 * signature used to get invalid_json and too_many_events answers (and so a free validator).
 */
import { SIGNATURE_NOT_VERIFIED } from '../../src/events/ingest.js';
import { signatureHeader } from '../../src/events/signature.js';
import { event, registerTestPlatform, sendEvents, type TestPlatformRecord } from '../support/api.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';

describe('POST /api/v1/events checks the signature before the body', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  const stored = () => t.laurel.ctx.models.events.countDocuments({ source: 'generic' });
  const FAKE = 'f'.repeat(64);
  const brokenJson = () => `{"platform": ${JSON.stringify(platform.id)}, "events": [{"id": "x",`;
  const manyEvents = () => ({ events: Array.from({ length: 600 }, () => event(platform.id)) });

  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const expectNotVerified = (answer: { status: number; body: any }) => {
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('unauthorised');
    expect(answer.body.message).toBe(SIGNATURE_NOT_VERIFIED);
  };

  it('answers a fake signature on invalid JSON with 401, never invalid_json', async () => {
    expectNotVerified(await sendEvents(t, FAKE, null, { raw: brokenJson() }));
    expectNotVerified(await sendEvents(t, FAKE, null, { raw: '{"id": ' }));
    expectNotVerified(await sendEvents(t, FAKE, null, { raw: '' }));
  });

  it('answers a fake signature on 600 events with 401, never too_many_events', async () => {
    const before = await stored();
    expectNotVerified(await sendEvents(t, FAKE, manyEvents()));
    expect(await stored()).toBe(before);
  });

  it('answers a valid signature on 600 events with 413', async () => {
    const answer = await sendEvents(t, platform.webhookSecret, manyEvents());
    expect(answer.status).toBe(413);
    expect(answer.body.error).toBe('too_many_events');
  });

  it('answers a valid signature on invalid JSON with 400', async () => {
    const answer = await sendEvents(t, platform.webhookSecret, null, { raw: brokenJson() });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_json');
  });

  it('answers a fake signature on malformed events with 401, not with their rejections', async () => {
    const before = await stored();
    for (const body of [
      { events: [event(platform.id, { type: 'activity.exploded' })] },
      { events: [] },
      event(platform.id, { occurredAt: '1970-01-01T00:00:00Z', user: { id: 'a\u0000b' } }),
      [event(platform.id)],
      'just a string',
    ])
      expectNotVerified(await sendEvents(t, FAKE, body));
    expect(await stored()).toBe(before);
  });

  it('answers an unknown platform, a body naming none, and a wrong secret alike', async () => {
    expectNotVerified(await sendEvents(t, platform.webhookSecret, event('https://nowhere.example.edu')));
    expectNotVerified(await sendEvents(t, platform.webhookSecret, event('0123456789abcdef01234567')));
    expectNotVerified(await sendEvents(t, platform.webhookSecret, { events: [{ id: 'no-platform' }] }));
    expectNotVerified(await sendEvents(t, FAKE, event(platform.id)));
  });

  it('refuses a missing, malformed or stale header before reading the body, and keeps answering', async () => {
    const body = JSON.stringify(manyEvents());
    for (const signature of ['', 't=abc,v1=zz', `t=${Math.floor(Date.now() / 1000)}`]) {
      const answer = await sendEvents(t, platform.webhookSecret, null, { raw: body, signature });
      expect(answer.status).toBe(401);
      expect(answer.body.message).toContain('X-Laurel-Signature');
    }
    const stale = await sendEvents(t, platform.webhookSecret, null, {
      raw: body,
      signature: signatureHeader(platform.webhookSecret, body, Date.now() - 10 * 60_000),
    });
    expect(stale.status).toBe(401);
    expect(stale.body.message).toContain('5 minutes');
    // The connection and the process still serve the next request.
    expect((await sendEvents(t, platform.webhookSecret, event(platform.id))).status).toBe(200);
  });

  it('still answers 413 for a body over 1 MiB, whatever its signature', async () => {
    const huge = JSON.stringify(event(platform.id, { data: { blob: 'x'.repeat(1024 * 1024) } }));
    for (const secret of [FAKE, platform.webhookSecret]) {
      const answer = await sendEvents(t, secret, null, { raw: huge });
      expect(answer.status).toBe(413);
    }
  });

  it('refuses the events of a platform still waiting for approval like an unknown one, storing nothing', async () => {
    const pending = await registerTestPlatform(t);
    await t.laurel.ctx.models.platforms.collection.updateOne(
      { issuer: pending.issuer },
      { $set: { status: 'pending' } },
    );
    const before = await stored();
    // platforms/service.ts knows no pending platform by reference and gives it no secret.
    expectNotVerified(await sendEvents(t, pending.webhookSecret, event(pending.id)));
    expectNotVerified(await sendEvents(t, pending.webhookSecret, event(pending.issuer)));
    expect(await stored()).toBe(before);
  });
});
