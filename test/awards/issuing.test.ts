import type { Types } from 'mongoose';
import type { Context } from '../../src/context.js';
import { MAX_ISSUE_ATTEMPTS, issuePendingCredentials } from '../../src/issuers/openbadges/issue.js';
import { openBadgeJobs } from '../../src/issuers/openbadges/jobs.js';
import { markStatusListStale } from '../../src/issuers/openbadges/statusLists.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { admin, registerTestPlatform, type TestPlatformRecord } from '../support/api.js';

/**
 * Issuing from the outbox, the failed state and its retry, and the recovery sweep, on a web-role
 * Laurel (nothing issues in the background: each test runs the issuing itself).
 */
describe('issuing credentials from the outbox', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  let templateId: string;
  let people = 0;
  beforeAll(async () => {
    t = await startTestLaurel({ LAUREL_ROLE: 'web' });
    platform = await registerTestPlatform(t);
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId: 'issuing',
      name: 'Issuing badge',
      groups: [{ requirements: [{ event: 'course.completed' }] }],
    });
    templateId = created.body.id;
    expect((await admin(t, 'POST', `/templates/${templateId}/activate`)).status).toBe(200);
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** A credential awarded by hand (through the API), so it waits in the outbox. */
  async function award(): Promise<string> {
    people++;
    const { models } = t.laurel.ctx;
    const template = await models.templates.findById(templateId).lean();
    await models.people.create({
      platformId: template!.platformId,
      ids: [`issuing-${people}`],
      createKey: `${String(template!.platformId)}:issuing-${people}`,
    });
    const answer = await admin(t, 'POST', '/credentials', {
      templateId,
      userId: `issuing-${people}`,
      reason: 'test',
    });
    expect(answer.status).toBe(201);
    return answer.body.id;
  }
  const load = (id: string) => t.laurel.ctx.models.credentials.findById(id).lean();
  const at = (ctx: Context, ms: number): Context => ({ ...ctx, now: () => new Date(Date.now() + ms) });
  /** As after a wrong ENCRYPTION_KEY: the sealed signing key cannot be opened. */
  const broken = (ctx: Context): Context => ({
    ...ctx,
    sealer: {
      ...ctx.sealer,
      open: () => {
        throw new Error('unsupported state or unable to authenticate data');
      },
    },
  });

  it('signs many awarded credentials in one run, each with its own status entry', async () => {
    const ids = [await award(), await award(), await award()];
    for (const id of ids) expect(await load(id)).toMatchObject({ status: 'awarded', outbox: 'issue' });
    const run = await issuePendingCredentials(t.laurel.ctx);
    expect(run.issued).toBeGreaterThanOrEqual(3);
    const issued = await Promise.all(ids.map(load));
    expect(issued.every((c) => c?.status === 'issued' && c.signed && c.outbox === null)).toBe(true);
    expect(new Set(issued.map((c) => `${c!.statusListId}:${c!.statusListIndex}`)).size).toBe(3);
    const audit = await t.laurel.ctx.models.audit.countDocuments({
      action: 'credential.issued',
      'target.id': { $in: ids },
    });
    expect(audit).toBe(3);
  });

  it('gives up after repeated failures as `failed` with the reason, and a retry issues it', async () => {
    const id = await award();
    const ctx = t.laurel.ctx;
    for (let attempt = 1; attempt <= MAX_ISSUE_ATTEMPTS; attempt++) {
      // Each attempt after the previous one's back-off delay.
      const run = await issuePendingCredentials(broken(at(ctx, attempt * 60 * 60_000)));
      expect(run.failed).toBeGreaterThanOrEqual(1);
      const c = await load(id);
      expect(c?.issueAttempts).toBe(attempt);
    }
    const failed = await load(id);
    expect(failed).toMatchObject({ status: 'failed', outbox: null, liveSlot: 'live', signed: null });
    expect(failed?.error).toMatch(/cannot be opened with this ENCRYPTION_KEY/);
    // Nothing retries it by itself any more.
    expect((await issuePendingCredentials(at(ctx, 100 * 60 * 60_000))).issued).toBe(0);

    const listed = await admin(t, 'GET', `/credentials/${id}`);
    expect(listed.body).toMatchObject({ status: 'failed' });
    expect(listed.body.error).toMatch(/ENCRYPTION_KEY/);
    // Still live: a second hand award is refused.
    const again = await admin(t, 'POST', '/credentials', {
      templateId,
      userId: failed!.userId,
      reason: 'again',
    });
    expect(again.status).toBe(409);

    const retried = await admin(t, 'POST', `/credentials/${id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'awarded', error: null });
    expect((await admin(t, 'POST', `/credentials/${id}/retry`)).status).toBe(409);
    await issuePendingCredentials(ctx);
    expect(await load(id)).toMatchObject({ status: 'issued', issueAttempts: 0, error: null });
  });

  it('answers 409 to a retry of a credential that did not fail, and 404 to an unknown one', async () => {
    const id = await award();
    const answer = await admin(t, 'POST', `/credentials/${id}/retry`);
    expect(answer.status).toBe(409);
    expect(answer.body.error).toBe('not_failed');
    expect((await admin(t, 'POST', '/credentials/0123456789abcdef01234567/retry')).status).toBe(404);
  });

  it('sweeps an award that never reached the outbox back into it (a crash between award and queue)', async () => {
    await issuePendingCredentials(t.laurel.ctx);
    const id = await award();
    const { models } = t.laurel.ctx;
    // As an award recorded before the outbox existed, or whose queueing was lost.
    await models.credentials.updateOne(
      { _id: id },
      { $set: { outbox: null, awardedAt: new Date(Date.now() - 60 * 60_000) } },
    );
    expect((await issuePendingCredentials(t.laurel.ctx)).issued).toBe(0);
    const swept = await openBadgeJobs.sweep(t.laurel.ctx);
    expect(swept.requeued).toBeGreaterThanOrEqual(1);
    expect(await load(id)).toMatchObject({ outbox: 'issue' });
    await issuePendingCredentials(t.laurel.ctx);
    expect(await load(id)).toMatchObject({ status: 'issued' });
  });

  it('sweeps a status list left behind by a crash between a revocation and its rebuild', async () => {
    const id = await award();
    const ctx = t.laurel.ctx;
    await issuePendingCredentials(ctx);
    const issued = await load(id);
    const listId = issued!.statusListId as Types.ObjectId;
    await openBadgeJobs.sweep(ctx);
    const before = await ctx.models.statusLists.findById(listId).lean();
    expect(before!.signedRevision).toBe(before!.revision);
    // The revocation's writes, and then the crash: the rebuild job was never queued.
    await markStatusListStale(ctx, issued!);
    await ctx.models.credentials.updateOne(
      { _id: id },
      { $set: { status: 'revoked', liveSlot: id, revokedAt: new Date(), revokedReason: 'crash' } },
    );
    const stale = await ctx.models.statusLists.findById(listId).lean();
    expect(stale!.revision).toBeGreaterThan(stale!.signedRevision);
    const swept = await openBadgeJobs.sweep(ctx);
    expect(swept.lists).toBeGreaterThanOrEqual(1);
    const after = await ctx.models.statusLists.findById(listId).lean();
    expect(after!.signedRevision).toBe(after!.revision);
    expect(after!.signed).not.toEqual(before!.signed);
  });
});
