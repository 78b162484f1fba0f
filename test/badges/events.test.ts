import { SIGNATURE_NOT_VERIFIED } from '../../src/events/ingest.js';
import { signatureHeader } from '../../src/events/signature.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { admin, event, registerTestPlatform, sendEvents, type TestPlatformRecord } from '../support/api.js';

describe('POST /api/v1/events', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  const stored = () => t.laurel.ctx.models.events.countDocuments({ source: 'generic' });
  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('stores the good events of a batch and rejects the malformed one by its index', async () => {
    const before = await stored();
    const answer = await sendEvents(t, platform.webhookSecret, {
      events: [
        event(platform.id, { data: { activityId: 'quiz-1', score: 5, maxScore: 10 } }),
        event(platform.id, { type: 'activity.exploded', data: { activityId: 'quiz-1' } }),
        event(platform.id, { type: 'activity.completed', data: {} }),
        event(platform.id, { type: 'course.completed' }),
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.stored).toBe(2);
    expect(answer.body.duplicates).toBe(0);
    expect(answer.body.rejected.map((r: any) => r.index)).toEqual([1, 2]);
    expect(answer.body.rejected[0].error).toMatch(/^type: must be one of/);
    expect(answer.body.rejected[1].error).toBe('data.activityId: must be a non-empty string');
    expect((await stored()) - before).toBe(2);
  });

  it('answers 400 when no event of the body could be stored', async () => {
    const answer = await sendEvents(t, platform.webhookSecret, {
      events: [event(platform.id, { occurredAt: 'yesterday' }), event(platform.id, { user: { id: '' } })],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_events');
    expect(answer.body.details.map((d: any) => d.path)).toEqual(['events.0', 'events.1']);
    expect(answer.body.details[0].message).toContain('occurredAt');
  });

  it('refuses a bad signature with 401 and stores nothing', async () => {
    const before = await stored();
    const wrong = await sendEvents(t, 'f'.repeat(64), event(platform.id));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('unauthorised');
    expect(wrong.body.message).toBe(SIGNATURE_NOT_VERIFIED);
    const missing = await sendEvents(t, platform.webhookSecret, event(platform.id), { signature: '' });
    expect(missing.status).toBe(401);
    expect(missing.body.message).toContain('X-Laurel-Signature');
    // A body changed after signing no longer matches.
    const body = JSON.stringify(event(platform.id));
    const tampered = await sendEvents(t, platform.webhookSecret, null, {
      raw: body.replace('"57"', '"58"'),
      signature: signatureHeader(platform.webhookSecret, body),
    });
    expect(tampered.status).toBe(401);
    expect(await stored()).toBe(before);
  });

  it('refuses a signature more than five minutes old or ahead, and stores nothing', async () => {
    const before = await stored();
    const stale = await sendEvents(t, platform.webhookSecret, event(platform.id), {
      now: Date.now() - 301_000,
    });
    expect(stale.status).toBe(401);
    expect(stale.body.message).toContain('5 minutes');
    const ahead = await sendEvents(t, platform.webhookSecret, event(platform.id), {
      now: Date.now() + 301_000,
    });
    expect(ahead.status).toBe(401);
    const justInside = await sendEvents(t, platform.webhookSecret, event(platform.id), {
      now: Date.now() - 240_000,
    });
    expect(justInside.status).toBe(200);
    expect(await stored()).toBe(before + 1);
  });

  it('refuses an unknown platform exactly like a bad signature', async () => {
    const answer = await sendEvents(t, platform.webhookSecret, event('https://unknown.example.edu'));
    expect(answer.status).toBe(401);
    expect(answer.body.message).toBe(SIGNATURE_NOT_VERIFIED);
  });

  it('rejects an event naming another platform than the signer', async () => {
    const other = await registerTestPlatform(t);
    const answer = await sendEvents(t, platform.webhookSecret, {
      events: [event(platform.id), event(other.id)],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.stored).toBe(1);
    expect(answer.body.rejected).toEqual([
      { index: 1, error: 'platform: names a different platform than the one that signed the request' },
    ]);
  });

  it('answers 413 over 500 events or 1 MiB', async () => {
    const many = Array.from({ length: 501 }, () => event(platform.id));
    const tooMany = await sendEvents(t, platform.webhookSecret, { events: many });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.message).toContain('500');
    const huge = event(platform.id, { data: { blob: 'x'.repeat(1024 * 1024) } });
    const tooBig = await sendEvents(t, platform.webhookSecret, huge);
    expect(tooBig.status).toBe(413);
  });

  it('answers 400 for a signed body that is not JSON, and 401 when it names no platform to check against', async () => {
    const broken = `{"platform": ${JSON.stringify(platform.id)}, "id": `;
    const answer = await sendEvents(t, platform.webhookSecret, null, { raw: broken });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_json');
    // Without a platform in it, no secret can check the signature: the body is never judged.
    const anonymous = await sendEvents(t, platform.webhookSecret, null, { raw: '{"id": ' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.message).toBe(SIGNATURE_NOT_VERIFIED);
  });

  it('rejects, by index, event times before 2000 or more than a day ahead, and NUL or lone surrogates in names and ids', async () => {
    const before = await stored();
    const day = 24 * 3600 * 1000;
    const answer = await sendEvents(t, platform.webhookSecret, {
      events: [
        event(platform.id, { occurredAt: '1999-12-31T23:59:59Z' }),
        event(platform.id, { occurredAt: new Date(Date.now() + day + 3600_000).toISOString() }),
        event(platform.id, { user: { id: '57', name: 'Ada\u0000Lovelace' } }),
        event(platform.id, { course: { id: '10\ud8001' } }),
        event(platform.id, { data: { activityId: 'quiz-1', activityName: 'Quiz \udc00' } }),
        event(platform.id, { occurredAt: '2000-01-01T00:00:00Z', user: { id: '57', name: 'Zoë 🎓' } }),
        event(platform.id, { occurredAt: new Date(Date.now() + day - 3600_000).toISOString() }),
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.stored).toBe(2);
    expect(answer.body.rejected).toEqual([
      { index: 0, error: 'occurredAt: must not be before 2000-01-01T00:00:00Z' },
      { index: 1, error: expect.stringMatching(/^occurredAt: must not be more than a day ahead of now/) },
      { index: 2, error: 'user.name: must not contain NUL characters' },
      { index: 3, error: 'course.id: must not contain lone surrogates (invalid Unicode)' },
      { index: 4, error: 'data.activityName: must not contain lone surrogates (invalid Unicode)' },
    ]);
    expect((await stored()) - before).toBe(2);
  });

  it('keeps accepting the previous secret for a day after a rotation', async () => {
    const rotated = await admin(t, 'POST', `/platforms/${platform.id}/webhook-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.webhookSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(rotated.body.webhookSecret).not.toBe(platform.webhookSecret);
    expect((await sendEvents(t, rotated.body.webhookSecret, event(platform.id))).status).toBe(200);
    expect((await sendEvents(t, platform.webhookSecret, event(platform.id))).status).toBe(200);
    // A day and a minute later only the new secret works.
    await t.laurel.ctx.models.platforms.updateOne(
      { _id: platform.id },
      { $set: { previousSecretUntil: new Date(Date.now() - 60_000) } },
    );
    expect((await sendEvents(t, platform.webhookSecret, event(platform.id))).status).toBe(401);
    expect((await sendEvents(t, rotated.body.webhookSecret, event(platform.id))).status).toBe(200);
    platform.webhookSecret = rotated.body.webhookSecret;
  });

  it('stores data.percent from score and maxScore, keeping a given percent', async () => {
    const a = event(platform.id, { data: { activityId: 'q', score: 2, maxScore: 3 } });
    const b = event(platform.id, { data: { activityId: 'q', score: 2, maxScore: 3, percent: 50 } });
    const c = event(platform.id, { data: { activityId: 'q', score: 2, maxScore: 0 } });
    await sendEvents(t, platform.webhookSecret, { events: [a, b, c] });
    const find = async (id: string) =>
      (await t.laurel.ctx.models.events.findOne({ eventId: id }).lean())?.data;
    expect((await find(a.id))?.percent).toBe(66.67);
    expect((await find(b.id))?.percent).toBe(50);
    expect((await find(c.id))?.percent).toBeUndefined();
  });
});
