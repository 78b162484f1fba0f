import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { SYSTEM, recordAudit } from '../../audit/record.js';
import type { Context } from '../../context.js';
import type { CredentialDoc } from '../../db/models/credential.js';
import type { LearningEventDoc } from '../../db/models/learningEvent.js';
import type { PersonDoc } from '../../db/models/person.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { buildAchievementCredential } from './build.js';
import { gradeEvidence } from './evidence.js';
import { ensureIssuerProfile, issuerSummary, signingKeyOf } from './issuerProfiles.js';
import { achievementInputFor, laurelDocumentLoader } from './laurelDocuments.js';
import { signCredential } from './sign.js';
import { allocateStatusEntry } from './statusLists.js';
import { openBadgeUrls } from './urls.js';

/** How long one worker holds a credential while signing it; a crashed worker's claim lapses after this. */
const ISSUING_LEASE_MS = 2 * 60_000;

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
      { $set: { issuingUntil: new Date(now.getTime() + ISSUING_LEASE_MS) } },
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
    achievement: achievementInputFor(ctx, template, profile),
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
    { $set: { signed, status: 'issued', issuedAt, issuingUntil: null } },
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
    .find({ status: 'awarded', signed: null, awardedAt: { $lte: before } }, { _id: 1, templateId: 1 })
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
