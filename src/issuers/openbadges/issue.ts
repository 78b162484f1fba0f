import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { SYSTEM, recordAudit, type Actor } from '../../audit/record.js';
import type { Context } from '../../context.js';
import type { CredentialDoc } from '../../db/models/credential.js';
import type { LearningEventDoc } from '../../db/models/learningEvent.js';
import type { PersonDoc } from '../../db/models/person.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { ConflictError } from '../../errors.js';
import { JOBS } from '../../jobs/names.js';
import { wakeJob } from '../../jobs/queue.js';
import { buildAchievementCredential } from './build.js';
import { gradeEvidence } from './evidence.js';
import { ensureIssuerProfile, issuerSummary, signingKeyOf } from './issuerProfiles.js';
import { achievementInputFor, laurelDocumentLoader } from './laurelDocuments.js';
import { signCredential } from './sign.js';
import { allocateStatusEntries, allocateStatusEntry } from './statusLists.js';
import { openBadgeUrls } from './urls.js';

export type IssueOutcome = 'issued' | 'already-issued' | 'not-live' | 'missing' | 'not-local';

/** Another worker holds the credential: Agenda retries the job later, by which time it is done. */
export class IssuingBusyError extends Error {
  constructor(credentialId: string) {
    super(`Credential ${credentialId} is being issued by another worker; retrying later`);
    this.name = 'IssuingBusyError';
  }
}

/**
 * Signs an awarded credential as an OB 3.0 AchievementCredential and publishes it (status
 * `issued`). Safe to run any number of times and from several workers at once:
 * - an issued, revoked or expired credential is left alone, so a rerun never signs twice;
 * - a lease (`issuingUntil`) lets one worker sign at a time; the others throw IssuingBusyError;
 * - the status-list entry and recipient salt are written once, only where none is yet, so
 *   retries reuse them instead of reserving another entry;
 * - the signed document is stored only if the credential is still awarded and unsigned.
 * Templates of other sources (Credly, Accredible) are issued by their own integrations.
 */
export async function issueCredential(ctx: Context, credentialId: string): Promise<IssueOutcome> {
  if (!Types.ObjectId.isValid(credentialId)) return 'missing';
  const _id = new Types.ObjectId(credentialId);
  const current = await ctx.models.credentials.findById(_id).lean<CredentialDoc>();
  if (!current) return 'missing';
  if (current.status !== 'awarded') return current.signed ? 'already-issued' : 'not-live';
  const template = await ctx.models.templates.findById(current.templateId).lean<TemplateDoc>();
  if (!template) throw new Error(`Credential ${credentialId}: its template ${current.templateId} is gone`);
  if (template.source !== 'local') return 'not-local';

  const now = ctx.now();
  const claimed = await ctx.models.credentials
    .findOneAndUpdate(
      {
        _id,
        status: 'awarded',
        signed: null,
        $or: [{ issuingUntil: null }, { issuingUntil: { $lte: now } }],
      },
      // A crashed worker's lease lapses after CLAIM_LEASE_MS; then another signs the credential.
      { $set: { issuingUntil: new Date(now.getTime() + ctx.config.claimLeaseMs) } },
      { returnDocument: 'after' },
    )
    .lean<CredentialDoc>();
  if (!claimed) {
    const again = await ctx.models.credentials.findById(_id).lean<CredentialDoc>();
    if (!again || again.status !== 'awarded') return again?.signed ? 'already-issued' : 'not-live';
    throw new IssuingBusyError(credentialId);
  }

  const lease = claimed.issuingUntil;
  try {
    return await signAndStore(ctx, claimed, template);
  } catch (err) {
    // Let the retry (or another worker) start at once rather than wait for the lease to lapse.
    await ctx.models.credentials
      .updateOne({ _id, issuingUntil: lease }, { $set: { issuingUntil: null } })
      .catch(() => undefined);
    throw err;
  }
}

/** The part of issuing done under the lease: status entry, build, sign, store. */
async function signAndStore(
  ctx: Context,
  leased: CredentialDoc,
  template: TemplateDoc,
): Promise<IssueOutcome> {
  const { _id } = leased;
  let claimed = leased;
  const credentialId = String(_id);
  const profile = await ensureIssuerProfile(ctx, claimed.platformId);
  const documentLoader = laurelDocumentLoader(ctx);
  if (claimed.statusListId == null || !claimed.recipientSalt) {
    const { list, index } = await allocateStatusEntry(ctx, profile, documentLoader);
    const withEntry = await ctx.models.credentials
      .findOneAndUpdate(
        { _id, statusListId: null },
        {
          $set: {
            statusListId: list._id,
            statusListIndex: index,
            issuerProfileId: profile._id,
            recipientSalt: randomBytes(16).toString('hex'),
          },
        },
        { returnDocument: 'after' },
      )
      .lean<CredentialDoc>();
    // If another run wrote its entry first, that one stands (the slot reserved here stays unused).
    const current = withEntry ?? (await ctx.models.credentials.findById(_id).lean<CredentialDoc>());
    if (!current) return 'missing';
    claimed = current;
  }

  const [person, events] = await Promise.all([
    ctx.models.people.findById(claimed.personId).lean<PersonDoc>(),
    evidenceEvents(ctx, claimed),
  ]);
  const urls = openBadgeUrls(ctx.config.publicUrl);
  const unsigned = buildAchievementCredential({
    id: urls.credential(claimed._id),
    issuer: issuerSummary(ctx, profile),
    achievement: achievementInputFor(ctx, template, profile, claimed.level),
    recipient: {
      email: person?.email ?? null,
      fallback: person?.sub
        ? { identityType: 'ltiUserId', value: person.sub }
        : { identityType: 'systemId', value: claimed.userId },
      salt: claimed.recipientSalt!,
    },
    awardedAt: claimed.awardedAt,
    validUntil: claimed.expiresAt,
    evidence: gradeEvidence(events),
    status: { listUrl: urls.statusList(claimed.statusListId!), index: claimed.statusListIndex! },
  });
  const signed = await signCredential({
    credential: unsigned,
    key: await signingKeyOf(ctx, profile),
    documentLoader,
    date: ctx.now(),
  });

  const issuedAt = ctx.now();
  const stored = await ctx.models.credentials.updateOne(
    { _id, status: 'awarded', signed: null },
    { $set: { signed, status: 'issued', issuedAt, issuingUntil: null, outbox: null, error: null } },
  );
  if (stored.modifiedCount !== 1) {
    const after = await ctx.models.credentials.findById(_id).lean<CredentialDoc>();
    return after?.signed ? 'already-issued' : 'not-live';
  }
  await recordAudit(ctx.models, {
    actor: SYSTEM,
    action: 'credential.issued',
    platformId: claimed.platformId,
    courseRef: claimed.courseRef,
    target: { type: 'credential', id: credentialId },
    details: { issuer: urls.issuer(profile._id), statusListIndex: claimed.statusListIndex },
  });
  return 'issued';
}

/** The learning events named by the credential's evidence, in the order they happened. */
async function evidenceEvents(ctx: Context, credential: CredentialDoc): Promise<LearningEventDoc[]> {
  const ids = [...new Set(credential.evidence.map((e) => e.eventId).filter((id): id is string => !!id))];
  if (ids.length === 0) return [];
  return ctx.models.events
    .find({ platformId: credential.platformId, eventId: { $in: ids } })
    .sort({ occurredAt: 1 })
    .lean<LearningEventDoc[]>();
}

/**
 * Credentials still awarded a while after their award: their job was lost or gave up. The
 * recurring sweep queues them again (issuing is idempotent, so a duplicate job is harmless).
 */
export async function findStalledAwards(ctx: Context, olderThanMs: number, limit = 200): Promise<string[]> {
  const before = new Date(ctx.now().getTime() - olderThanMs);
  const stalled = await ctx.models.credentials
    .find(
      { status: 'awarded', signed: null, outbox: { $ne: 'issue' }, awardedAt: { $lte: before } },
      { _id: 1, templateId: 1 },
    )
    .limit(limit)
    .lean<Pick<CredentialDoc, '_id' | 'templateId'>[]>();
  if (stalled.length === 0) return [];
  // Credly and Accredible awards wait on their own integrations, not on this job.
  const local = await ctx.models.templates
    .find(
      { _id: { $in: [...new Set(stalled.map((c) => String(c.templateId)))] }, source: 'local' },
      { _id: 1 },
    )
    .lean();
  const localIds = new Set(local.map((t) => String(t._id)));
  return stalled.filter((c) => localIds.has(String(c.templateId))).map((c) => String(c._id));
}

/** Failed attempts before a credential is given up as `failed` (a retry starts it again). */
export const MAX_ISSUE_ATTEMPTS = 5;

/** Puts stalled awards (a lost job, or made before the outbox existed) back into the outbox. */
export async function requeueStalledAwards(ctx: Context, olderThanMs: number): Promise<number> {
  const stalled = await findStalledAwards(ctx, olderThanMs, 1000);
  if (stalled.length === 0) return 0;
  const result = await ctx.models.credentials.updateMany(
    { _id: { $in: stalled.map((id) => new Types.ObjectId(id)) }, status: 'awarded', signed: null },
    { $set: { outbox: 'issue' } },
  );
  return result.modifiedCount;
}

/**
 * Signs the credentials waiting in the outbox, a batch at a time, until none is left or the budget
 * is spent. A batch is claimed with one update (a lease and a token), its status-list entries are
 * reserved with one `$inc`, and each credential is written once with its entry, salt and signed
 * document together, then their audit entries in one insert. A credential whose signing throws is
 * tried again later with a growing delay, and after MAX_ISSUE_ATTEMPTS becomes `failed` with the
 * reason: still live, shown to instructors, and issued again by a retry.
 */
export async function issuePendingCredentials(
  ctx: Context,
  budget = 1000,
): Promise<{ issued: number; failed: number; gaveUp: number }> {
  const totals = { issued: 0, failed: 0, gaveUp: 0 };
  while (totals.issued + totals.failed < budget) {
    const batch = await claimOutbox(ctx, ctx.config.issueBatchSize);
    if (batch.length === 0) break;
    const result = await issueClaimed(ctx, batch);
    totals.issued += result.issued;
    totals.failed += result.failed;
    totals.gaveUp += result.gaveUp;
  }
  return totals;
}

async function claimOutbox(ctx: Context, limit: number): Promise<CredentialDoc[]> {
  const now = ctx.now();
  const free: Record<string, unknown> = {
    outbox: 'issue',
    status: 'awarded',
    $or: [{ issuingUntil: null }, { issuingUntil: { $lte: now } }],
  };
  const candidates = await ctx.models.credentials
    .find(free)
    .sort({ awardedAt: 1 })
    .limit(limit)
    .lean<CredentialDoc[]>();
  if (candidates.length === 0) return [];
  const issuingClaim = randomBytes(12).toString('hex');
  const issuingUntil = new Date(now.getTime() + ctx.config.claimLeaseMs);
  const taken = await ctx.models.credentials.updateMany(
    { _id: { $in: candidates.map((c) => c._id) }, ...free },
    { $set: { issuingUntil, issuingClaim } },
  );
  if (taken.modifiedCount === candidates.length)
    return candidates.map((c) => ({ ...c, issuingUntil, issuingClaim }));
  if (taken.modifiedCount === 0) return [];
  return ctx.models.credentials.find({ issuingClaim }).lean<CredentialDoc[]>();
}

type Signed = { credential: CredentialDoc; set: Record<string, unknown>; listIndex: number };

async function issueClaimed(
  ctx: Context,
  batch: CredentialDoc[],
): Promise<{ issued: number; failed: number; gaveUp: number }> {
  const { models } = ctx;
  const [templates, people, events] = await Promise.all([
    models.templates
      .find({ _id: { $in: [...new Set(batch.map((c) => String(c.templateId)))] } })
      .lean<TemplateDoc[]>(),
    models.people.find({ _id: { $in: batch.map((c) => c.personId) } }).lean<PersonDoc[]>(),
    evidenceEventsOf(ctx, batch),
  ]);
  const templateOf = new Map(templates.map((t) => [String(t._id), t]));
  const personOf = new Map(people.map((p) => [String(p._id), p]));
  const documentLoader = laurelDocumentLoader(ctx);
  const urls = openBadgeUrls(ctx.config.publicUrl);
  const signed: Signed[] = [];
  const failures: { credential: CredentialDoc; error: string }[] = [];
  const notLocal: CredentialDoc[] = [];

  const byPlatform = new Map<string, CredentialDoc[]>();
  for (const c of batch) {
    const t = templateOf.get(String(c.templateId));
    if (t && t.source !== 'local') {
      notLocal.push(c);
      continue;
    }
    byPlatform.set(String(c.platformId), [...(byPlatform.get(String(c.platformId)) ?? []), c]);
  }
  for (const credentials of byPlatform.values()) {
    try {
      const profile = await ensureIssuerProfile(ctx, credentials[0]!.platformId);
      const key = await signingKeyOf(ctx, profile);
      const issuer = issuerSummary(ctx, profile);
      const needSlots = credentials.filter((c) => c.statusListId == null || !c.recipientSalt);
      const slots = needSlots.length
        ? await allocateStatusEntries(ctx, profile, documentLoader, needSlots.length)
        : [];
      const slotOf = new Map(needSlots.map((c, i) => [String(c._id), slots[i]!]));
      for (const c of credentials) {
        try {
          const template = templateOf.get(String(c.templateId));
          if (!template) throw new Error(`its template ${c.templateId} is gone`);
          const slot = slotOf.get(String(c._id));
          const entry = slot
            ? {
                statusListId: slot.list._id,
                statusListIndex: slot.index,
                issuerProfileId: profile._id,
                recipientSalt: randomBytes(16).toString('hex'),
              }
            : {
                statusListId: c.statusListId!,
                statusListIndex: c.statusListIndex!,
                issuerProfileId: c.issuerProfileId ?? profile._id,
                recipientSalt: c.recipientSalt!,
              };
          const person = personOf.get(String(c.personId));
          const unsigned = buildAchievementCredential({
            id: urls.credential(c._id),
            issuer,
            achievement: achievementInputFor(ctx, template, profile, c.level),
            recipient: {
              email: person?.email ?? null,
              fallback: person?.sub
                ? { identityType: 'ltiUserId', value: person.sub }
                : { identityType: 'systemId', value: c.userId },
              salt: entry.recipientSalt,
            },
            awardedAt: c.awardedAt,
            validUntil: c.expiresAt,
            evidence: gradeEvidence(events.get(String(c._id)) ?? []),
            status: { listUrl: urls.statusList(entry.statusListId), index: entry.statusListIndex },
          });
          const document = await signCredential({
            credential: unsigned,
            key,
            documentLoader,
            date: ctx.now(),
          });
          signed.push({
            credential: c,
            set: { ...entry, signed: document },
            listIndex: entry.statusListIndex,
          });
        } catch (err) {
          failures.push({ credential: c, error: err instanceof Error ? err.message : String(err) });
        }
      }
    } catch (err) {
      for (const c of credentials)
        failures.push({ credential: c, error: err instanceof Error ? err.message : String(err) });
    }
  }

  const issuedAt = ctx.now();
  const ops = [
    // The entry, the salt and the signed document in one write, only while this run's claim holds.
    ...signed.map(({ credential, set }) => ({
      updateOne: {
        filter: {
          _id: credential._id,
          status: 'awarded',
          signed: null,
          issuingClaim: credential.issuingClaim,
        },
        update: {
          $set: {
            ...set,
            status: 'issued',
            issuedAt,
            issuingUntil: null,
            issuingClaim: null,
            outbox: null,
            error: null,
          },
        },
      },
    })),
    ...failures.map(({ credential, error }) => {
      const attempts = (credential.issueAttempts ?? 0) + 1;
      const giveUp = attempts >= MAX_ISSUE_ATTEMPTS;
      return {
        updateOne: {
          filter: { _id: credential._id, status: 'awarded', issuingClaim: credential.issuingClaim },
          update: {
            $set: {
              issueAttempts: attempts,
              error: error.slice(0, 500),
              issuingClaim: null,
              ...(giveUp
                ? { status: 'failed', outbox: null, issuingUntil: null }
                : { issuingUntil: new Date(issuedAt.getTime() + 10_000 * 2 ** attempts) }),
            },
          },
        },
      };
    }),
    // Credly and Accredible badges (a retry lands here) move to their own outbox (src/providers).
    ...notLocal.map((credential) => ({
      updateOne: {
        filter: { _id: credential._id, issuingClaim: credential.issuingClaim },
        update: { $set: { outbox: 'provider-issue', issuingUntil: null, issuingClaim: null } },
      },
    })),
  ];
  if (ops.length) await models.credentials.collection.bulkWrite(ops, { ordered: false });
  if (notLocal.length) await wakeJob(ctx.jobs, JOBS.providerOutbox);
  for (const f of failures)
    ctx.logger.warn(
      { credentialId: String(f.credential._id), error: f.error },
      'issuing a credential failed',
    );

  // Audit what landed (a credential revoked while it was signed keeps its unused entry and no document).
  const landed = signed.length
    ? await models.credentials
        .find({ _id: { $in: signed.map((s) => s.credential._id) }, status: 'issued', issuedAt }, { _id: 1 })
        .lean()
    : [];
  const landedIds = new Set(landed.map((c) => String(c._id)));
  const issued = signed.filter((s) => landedIds.has(String(s.credential._id)));
  const gaveUp = failures.filter((f) => (f.credential.issueAttempts ?? 0) + 1 >= MAX_ISSUE_ATTEMPTS);
  const audit = [
    ...issued.map((s) => ({
      at: issuedAt,
      actor: SYSTEM,
      action: 'credential.issued',
      platformId: s.credential.platformId,
      courseRef: s.credential.courseRef,
      target: { type: 'credential', id: String(s.credential._id) },
      reason: null,
      details: { issuer: urls.issuer(s.set.issuerProfileId as Types.ObjectId), statusListIndex: s.listIndex },
    })),
    ...gaveUp.map((f) => ({
      at: issuedAt,
      actor: SYSTEM,
      action: 'credential.failed',
      platformId: f.credential.platformId,
      courseRef: f.credential.courseRef,
      target: { type: 'credential', id: String(f.credential._id) },
      reason: f.error.slice(0, 500),
      details: { attempts: MAX_ISSUE_ATTEMPTS },
    })),
  ];
  if (audit.length) await models.audit.collection.insertMany(audit);
  return { issued: issued.length, failed: failures.length, gaveUp: gaveUp.length };
}

/** The evidence events of many credentials in one read, per credential, in the order they happened. */
async function evidenceEventsOf(
  ctx: Context,
  credentials: CredentialDoc[],
): Promise<Map<string, LearningEventDoc[]>> {
  const ids = [
    ...new Set(
      credentials.flatMap((c) => c.evidence.map((e) => e.eventId)).filter((id): id is string => !!id),
    ),
  ];
  const out = new Map<string, LearningEventDoc[]>();
  if (ids.length === 0) return out;
  const events = await ctx.models.events
    .find({
      platformId: {
        $in: [...new Set(credentials.map((c) => String(c.platformId)))].map((id) => new Types.ObjectId(id)),
      },
      eventId: { $in: ids },
    })
    .sort({ occurredAt: 1 })
    .lean<LearningEventDoc[]>();
  // Each event's position in the sorted read, by platform and id: a credential picks its own in
  // time linear in its evidence (comparing every credential with every event grew with the square
  // of the batch).
  const at = new Map<string, number>();
  events.forEach((e, i) => at.set(`${String(e.platformId)}:${e.eventId}`, i));
  for (const c of credentials) {
    const platform = String(c.platformId);
    const mine = [
      ...new Set(
        c.evidence
          .map((e) => (e.eventId ? at.get(`${platform}:${e.eventId}`) : undefined))
          .filter((i): i is number => i !== undefined),
      ),
    ].sort((a, b) => a - b);
    out.set(
      String(c._id),
      mine.map((i) => events[i]!),
    );
  }
  return out;
}

/**
 * POST /credentials/:id/retry: a `failed` credential goes back to `awarded` with its attempts
 * forgotten, into the outbox, and a worker is woken to issue it.
 */
export async function retryCredential(
  ctx: Context,
  credential: Pick<CredentialDoc, '_id' | 'status'>,
  actor: Actor,
): Promise<CredentialDoc> {
  const retried = await ctx.models.credentials
    .findOneAndUpdate(
      { _id: credential._id, status: 'failed' },
      {
        $set: {
          status: 'awarded',
          outbox: 'issue',
          issueAttempts: 0,
          error: null,
          issuingUntil: null,
          issuingClaim: null,
        },
      },
      { returnDocument: 'after' },
    )
    .lean<CredentialDoc>();
  if (!retried)
    throw new ConflictError(
      'not_failed',
      `Credential ${credential._id} is ${credential.status}, not failed.`,
    );
  await recordAudit(ctx.models, {
    actor,
    action: 'credential.retried',
    platformId: retried.platformId,
    courseRef: retried.courseRef,
    target: { type: 'credential', id: String(retried._id) },
  });
  await wakeJob(ctx.jobs, JOBS.issueCredentials);
  return retried;
}
