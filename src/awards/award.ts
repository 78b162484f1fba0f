import { Types } from 'mongoose';
import type { Actor } from '../audit/record.js';
import type { Context } from '../context.js';
import type { CredentialDoc } from '../db/models/credential.js';
import { ONE_REPLY } from '../db/oneReply.js';
import type { PersonDoc } from '../db/models/person.js';
import { isActivePlatform } from '../db/models/platform.js';
import type { TemplateDoc } from '../db/models/template.js';
import { ConflictError, isDuplicateKey, writeErrorsOf } from '../errors.js';
import { recordAudit } from '../audit/record.js';
import { levelRank } from '../rules/index.js';
import { JOBS } from '../jobs/names.js';
import { wakeJob } from '../jobs/queue.js';

/** @deprecated the per-credential job name; awards now wait in the credential outbox (JOBS.issueCredentials). */
export const ISSUE_CREDENTIAL_JOB = JOBS.issueCredential;

export type AwardOutcome =
  | { awarded: true; credential: CredentialDoc }
  | {
      awarded: false;
      reason: 'already-live' | 'revoked-no-re-earn' | 'platform-pending';
      credential: CredentialDoc | null;
    };

export type AwardRequest = {
  template: TemplateDoc;
  personId: Types.ObjectId;
  userId: string;
  courseRef: Types.ObjectId | null;
  courseId: string | null;
  evidence: CredentialDoc['evidence'];
  actor: Actor;
  reason?: string | null;
  /** A hand award may give a badge again although the template does not allow re-earning. */
  overrideReEarn?: boolean;
  /** A badge with levels: the step reached; a live credential of a lower step is superseded by it. */
  level?: string | null;
};

export type AwardOptions = {
  /**
   * Whether no active template listens to this credential's badge.awarded event (the event
   * pipeline answers from the templates it has just checked): then the event is stored already
   * processed, since applying it would change nothing, and costs no claim, no pass and no mark.
   * A template that starts listening later (activated, or its rules changed) is recalculated, and
   * the recalculation reads stored badge.awarded events whatever their status. Without it, every
   * event is stored pending and the pipeline decides.
   */
  unheard?: (credential: CredentialDoc) => boolean;
};

const DAY_MS = 24 * 60 * 60 * 1000;

export function expiryFor(
  template: Pick<TemplateDoc, 'expiresAfterDays' | 'expiresAt'>,
  awardedAt: Date,
): Date | null {
  if (template.expiresAfterDays) return new Date(awardedAt.getTime() + template.expiresAfterDays * DAY_MS);
  return template.expiresAt ?? null;
}

const pairKey = (templateId: Types.ObjectId, personId: Types.ObjectId) => `${templateId}:${personId}`;

/**
 * Records credentials for many (template, person) pairs in a handful of round trips, whatever
 * their number: one read of the platforms, one of the pairs' live and revoked credentials, one
 * insert of the credentials (each carrying its own outbox entry, so issuing is queued by the same
 * write), one of their audit entries and one of their badge.awarded events. The unique index on
 * (template, person, liveSlot='live') keeps awards exactly once against concurrent workers and
 * replays: whoever loses the race finds the winner's credential and awards nothing.
 */
export async function awardMany(
  ctx: Context,
  requests: AwardRequest[],
  options: AwardOptions = {},
): Promise<AwardOutcome[]> {
  if (requests.length === 0) return [];
  const { models } = ctx;
  const platformIds = [
    ...new Map(requests.map((r) => [String(r.template.platformId), r.template.platformId])).values(),
  ];
  // The platforms' status and the pairs' credentials side by side (neither depends on the other).
  // Without the signed documents: recalculations, levels and events applied again ask again for
  // pairs already complete, so many requests find a live credential, and its few kilobytes of proof
  // are never looked at here.
  const [platforms, existing] = await Promise.all([
    models.platforms
      .find({ _id: { $in: platformIds } }, { status: 1 })
      .lean<{ _id: Types.ObjectId; status?: 'active' | 'pending' }[]>(),
    models.credentials
      .find(
        {
          platformId: { $in: platformIds },
          personId: { $in: requests.map((r) => r.personId) },
          templateId: { $in: requests.map((r) => r.template._id) },
          $or: [{ liveSlot: 'live' }, { status: 'revoked' }],
        },
        { signed: 0 },
      )
      .batchSize(ONE_REPLY)
      .lean<CredentialDoc[]>(),
  ]);
  const pending = new Set(platforms.filter((p) => !isActivePlatform(p)).map((p) => String(p._id)));
  const live = new Map<string, CredentialDoc>();
  const revoked = new Map<string, CredentialDoc>();
  for (const c of existing) {
    // A revocation after a regrade does not stop the badge being earned again when the grade comes back.
    if (c.liveSlot !== 'live' && c.revokedFor === 'regrade') continue;
    (c.liveSlot === 'live' ? live : revoked).set(pairKey(c.templateId, c.personId), c);
  }
  const upgrades: { at: number; held: CredentialDoc }[] = [];

  const outcomes: AwardOutcome[] = new Array(requests.length);
  const toInsert: { at: number; doc: Record<string, unknown> }[] = [];
  const seen = new Map<string, number>();
  const awardedAt = ctx.now();
  requests.forEach((r, i) => {
    const key = pairKey(r.template._id, r.personId);
    if (pending.has(String(r.template.platformId)))
      return (outcomes[i] = { awarded: false, reason: 'platform-pending', credential: null });
    const held = live.get(key);
    if (held && !seen.has(key) && r.level && r.template.levels && isHigherLevel(r.template, r.level, held)) {
      seen.set(key, i);
      upgrades.push({ at: i, held });
      return;
    }
    if (held || seen.has(key))
      return (outcomes[i] = { awarded: false, reason: 'already-live', credential: held ?? null });
    const gone = revoked.get(key);
    if (gone && !r.template.allowReEarn && !r.overrideReEarn)
      return (outcomes[i] = { awarded: false, reason: 'revoked-no-re-earn', credential: gone });
    seen.set(key, i);
    const doc = newCredentialDoc(ctx, r, awardedAt);
    toInsert.push({ at: i, doc });
  });

  const lost = new Set<number>();
  if (toInsert.length) {
    try {
      await models.credentials.collection.insertMany(
        toInsert.map((x) => x.doc),
        { ordered: false },
      );
    } catch (err) {
      const errors = writeErrorsOf(err);
      if (errors.length === 0 || errors.some((w) => !isDuplicateKey(w))) throw err;
      for (const w of errors) lost.add(w.index);
    }
  }
  const won = toInsert.filter((_, k) => !lost.has(k));
  if (lost.size) {
    // Another worker awarded these meanwhile: theirs stands.
    const losers = toInsert.filter((_, k) => lost.has(k));
    const winners = await models.credentials
      .find({
        $or: losers.map((x) => ({
          templateId: x.doc.templateId as Types.ObjectId,
          personId: x.doc.personId as Types.ObjectId,
          liveSlot: 'live',
        })),
      })
      .lean<CredentialDoc[]>();
    const byPair = new Map(winners.map((c) => [pairKey(c.templateId, c.personId), c]));
    for (const x of losers) {
      const r = requests[x.at]!;
      const winner = byPair.get(pairKey(r.template._id, r.personId));
      // The other worker awarded a lower level: this one supersedes it.
      if (winner && r.level && r.template.levels && isHigherLevel(r.template, r.level, winner)) {
        upgrades.push({ at: x.at, held: winner });
        continue;
      }
      outcomes[x.at] = {
        awarded: false,
        reason: 'already-live',
        credential:
          byPair.get(pairKey(x.doc.templateId as Types.ObjectId, x.doc.personId as Types.ObjectId)) ?? null,
      };
    }
  }
  // Upgrades are rare (a learner reaching a higher level): one at a time, each exactly once.
  for (const u of upgrades) {
    const outcome = await upgradeLevel(ctx, requests[u.at]!, u.held, awardedAt);
    if (outcome.awarded)
      won.push({ at: u.at, doc: outcome.credential as unknown as Record<string, unknown> });
    else outcomes[u.at] = outcome;
  }
  for (const x of won) outcomes[x.at] = { awarded: true, credential: x.doc as unknown as CredentialDoc };
  // Requests for a pair awarded earlier in this same call.
  requests.forEach((r, i) => {
    const first = seen.get(pairKey(r.template._id, r.personId));
    if (first !== undefined && first !== i && outcomes[i]?.awarded === false) {
      const winner = outcomes[first];
      if (winner?.awarded)
        outcomes[i] = { awarded: false, reason: 'already-live', credential: winner.credential };
    }
  });
  if (won.length === 0) return outcomes;

  const credentials = won.map((x) => x.doc as unknown as CredentialDoc);
  // The audit entries and the badge.awarded events together, once the credentials are stored: a
  // crash before either lands leaves the events that led here to be applied again, which finds the
  // credentials live and awards nothing, as when the two were written one after the other.
  const audited = models.audit.collection.insertMany(
    won.map((x) => {
      const r = requests[x.at]!;
      const c = x.doc as unknown as CredentialDoc;
      return {
        at: awardedAt,
        actor: r.actor,
        action: 'credential.awarded',
        platformId: c.platformId,
        courseRef: c.courseRef,
        target: { type: 'credential', id: String(c._id) },
        reason: r.reason ?? null,
        details: { templateId: String(c.templateId), personId: String(c.personId), userId: r.userId },
      };
    }),
  );
  const pendingEvents = await Promise.all([audited, announceAwards(ctx, credentials, options.unheard)]);
  const wakes: string[] = pendingEvents[1] ? [JOBS.processEvents] : [];
  if (credentials.some((c) => c.outbox === 'issue')) wakes.push(JOBS.issueCredentials);
  if (credentials.some((c) => c.outbox === 'provider-issue')) wakes.push(JOBS.providerOutbox);
  // Pathways that name these badges move on (src/pathways/updates.ts, from pathwaysPending above).
  wakes.push(JOBS.updatePathways);
  await Promise.all(wakes.map((name) => wakeJob(ctx.jobs, name)));
  return outcomes;
}

/**
 * Every field a new credential stores that an award does not set, with the schema's defaults, as
 * mongoose makes them: read once per model from a document built by mongoose itself, so that a
 * batch of awards does not build (and cast, and copy) a mongoose document for each credential,
 * which cost more than the rest of the award. The defaults are all constants (the one function
 * default, `evidence`, is always set by the award), so sharing them between documents is safe.
 */
const defaultsByModel = new WeakMap<object, Record<string, unknown>>();
function credentialDefaults(ctx: Context): Record<string, unknown> {
  let defaults = defaultsByModel.get(ctx.models.credentials);
  if (!defaults) {
    const { _id: _, ...rest } = new ctx.models.credentials({}).toObject({
      depopulate: true,
      versionKey: false,
    }) as Record<string, unknown>;
    defaults = rest;
    defaultsByModel.set(ctx.models.credentials, defaults);
  }
  return defaults;
}

/**
 * The document of a new award, as `new ctx.models.credentials(fields).toObject()` makes it (the
 * award's fields are of the schema's types already, so there is nothing to cast): the defaults,
 * a fresh id, then the award's own fields.
 */
export function newCredentialDoc(ctx: Context, r: AwardRequest, awardedAt: Date): Record<string, unknown> {
  return {
    _id: new Types.ObjectId(),
    ...credentialDefaults(ctx),
    ...awardFieldsOf(r, awardedAt),
  };
}

/** What an award sets on a new credential (newCredentialDoc). */
export function awardFieldsOf(r: AwardRequest, awardedAt: Date): Record<string, unknown> {
  return {
    platformId: r.template.platformId,
    templateId: r.template._id,
    personId: r.personId,
    courseRef: r.courseRef ?? r.template.courseRef,
    courseId: r.courseId ?? r.template.courseId,
    userId: r.userId,
    status: 'awarded',
    liveSlot: 'live',
    awardedAt,
    awardedBy: r.actor,
    awardReason: r.reason ?? null,
    evidence: r.evidence,
    expiresAt: expiryFor(r.template, awardedAt),
    level: r.level ?? null,
    // Credly and Accredible badges are issued through their APIs (src/providers/outbox.ts).
    outbox: r.template.source === 'local' ? 'issue' : 'provider-issue',
    // Pathways naming this badge are counted again (src/pathways, the update-pathways job).
    pathwaysPending: true,
  };
}

/** Whether `level` is a higher step of the template's ladder than the one `held` is for. */
function isHigherLevel(template: TemplateDoc, level: string, held: Pick<CredentialDoc, 'level'>): boolean {
  if (!template.levels) return false;
  return levelRank(template.levels, level) > levelRank(template.levels, held.level ?? null);
}

const MAX_UPGRADE_ROUNDS = 5;

/**
 * A learner reached a higher level than the credential they hold: the held one is superseded (not
 * revoked: its status-list bit stays as it is; it leaves the live slot) and the higher one recorded.
 * Exactly once under concurrent workers: only one of them moves the held credential out of the live
 * slot (a conditional update), and the unique live slot takes one insert; a worker that finds a
 * lower level in the slot after losing the insert supersedes that one in turn, one that finds the
 * same or a higher level awards nothing.
 */
async function upgradeLevel(
  ctx: Context,
  r: AwardRequest,
  held: CredentialDoc,
  awardedAt: Date,
): Promise<AwardOutcome> {
  let current: CredentialDoc | null = held;
  for (let round = 0; round < MAX_UPGRADE_ROUNDS; round++) {
    if (current) {
      const superseded = await ctx.models.credentials
        .findOneAndUpdate(
          { _id: current._id, liveSlot: 'live' },
          {
            $set: {
              status: 'superseded',
              liveSlot: String(current._id),
              supersededAt: awardedAt,
              supersededBy: { level: r.level ?? null },
              regradeRevokeAt: null,
              // Superseded before it was signed: it is not signed afterwards.
              ...(current.outbox === 'issue' || current.outbox === 'provider-issue' ? { outbox: null } : {}),
            },
          },
          { returnDocument: 'after' },
        )
        .lean<CredentialDoc>();
      if (superseded)
        await recordAudit(ctx.models, {
          actor: r.actor,
          action: 'credential.superseded',
          platformId: superseded.platformId,
          courseRef: superseded.courseRef,
          target: { type: 'credential', id: String(superseded._id) },
          details: {
            templateId: String(superseded.templateId),
            from: superseded.level ?? null,
            to: r.level ?? null,
          },
        });
    }
    const doc = newCredentialDoc(ctx, r, awardedAt);
    try {
      await ctx.models.credentials.collection.insertOne(doc);
      return { awarded: true, credential: doc as unknown as CredentialDoc };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    current = await ctx.models.credentials
      .findOne({ templateId: r.template._id, personId: r.personId, liveSlot: 'live' })
      .lean<CredentialDoc>();
    if (current && !isHigherLevel(r.template, r.level!, current))
      return { awarded: false, reason: 'already-live', credential: current };
  }
  throw new Error(
    `the level of badge ${String(r.template._id)} for person ${String(r.personId)} kept changing under this run`,
  );
}

/**
 * Records one credential (by hand, or from a single award) and queues its issuance. Throws a
 * ConflictError when the platform waits for approval.
 */
export async function awardCredential(
  ctx: Context,
  input: Omit<AwardRequest, 'personId'> & { person: Pick<PersonDoc, '_id'> },
): Promise<AwardOutcome> {
  const { person, ...rest } = input;
  const [outcome] = await awardMany(ctx, [{ ...rest, personId: person._id }]);
  if (!outcome!.awarded && outcome!.reason === 'platform-pending')
    throw new ConflictError(
      'platform_pending',
      'The platform of this badge waits for an administrator’s approval; it gets no credentials until then.',
    );
  return outcome!;
}

/**
 * An award is itself a learning event (badge.awarded), so that badges requiring this one
 * progress through the same pipeline. Inserted once per credential (its id is in the event id);
 * answers whether any was stored pending (for the pipeline to apply).
 */
async function announceAwards(
  ctx: Context,
  credentials: CredentialDoc[],
  unheard?: AwardOptions['unheard'],
): Promise<boolean> {
  const now = ctx.now();
  let pending = false;
  try {
    await ctx.models.events.collection.insertMany(
      credentials.map((credential) => {
        const settled = unheard?.(credential) ?? false;
        if (!settled) pending = true;
        return {
          platformId: credential.platformId,
          eventId: `laurel:awarded:${credential._id}`,
          type: 'badge.awarded',
          occurredAt: credential.awardedAt,
          receivedAt: now,
          source: 'laurel',
          course: credential.courseId ? { id: credential.courseId, title: null } : null,
          user: { id: credential.userId, email: null, name: null },
          data: { templateId: String(credential.templateId), credentialId: String(credential._id) },
          courseRef: credential.courseRef,
          personRef: credential.personId,
          status: settled ? 'processed' : 'pending',
          attempts: 0,
          lockedUntil: null,
          claim: null,
          processedAt: settled ? now : null,
          error: null,
        };
      }),
      { ordered: false },
    );
  } catch (err) {
    const errors = writeErrorsOf(err);
    if (errors.length === 0 || errors.some((w) => !isDuplicateKey(w))) throw err;
  }
  return pending;
}
