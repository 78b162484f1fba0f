import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Actor } from './auditEntry.js';

export type CredentialStatus = 'awarded' | 'issued' | 'failed' | 'revoked' | 'expired' | 'superseded';
export const CREDENTIAL_STATUSES: readonly CredentialStatus[] = [
  'awarded',
  'issued',
  'failed',
  'revoked',
  'expired',
  'superseded',
];
/** `failed` stays live: the badge was earned; only its issuance gave up (a retry makes it `awarded`). */
export const LIVE_STATUSES: readonly CredentialStatus[] = ['awarded', 'issued', 'failed'];

/**
 * A badge earned by a person. `liveSlot` is 'live' while the credential is live and its own id
 * afterwards, so the unique index on (template, person, liveSlot) allows any number of dead
 * credentials but only one live one, on every MongoDB (no partial index needed).
 */
export interface CredentialDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  templateId: Types.ObjectId;
  personId: Types.ObjectId;
  courseRef: Types.ObjectId | null;
  courseId: string | null;
  /** The id the person was known by when it was awarded (what the API shows as userId). */
  userId: string;
  status: CredentialStatus;
  liveSlot: string;
  awardedAt: Date;
  awardedBy: Actor;
  awardReason: string | null;
  /** Events that fulfilled the requirements, for evidence. */
  evidence: { requirementId: string; eventId: string | null; at: Date }[];
  expiresAt: Date | null;
  issuedAt: Date | null;
  revokedAt: Date | null;
  revokedReason: string | null;
  revokedBy: Actor | null;
  expiredAt: Date | null;
  /** The signed OB 3.0 AchievementCredential, once issued (src/issuers/openbadges). */
  signed?: Record<string, unknown> | null;
  issuerProfileId?: Types.ObjectId | null;
  /** Salt of the recipient identity hash, shared by the OB 3.0 and OB 2.0 forms. */
  recipientSalt?: string | null;
  statusListId?: Types.ObjectId | null;
  statusListIndex?: number | null;
  /** While set in the future, one worker is signing this credential; others wait. */
  issuingUntil?: Date | null;
  /**
   * The outbox, in the credential itself: 'issue' while a local OB 3.0 credential waits to be signed.
   * Written with the award (one insert), cleared when it is issued or gives up, so a crash between
   * the award and its wake-up loses nothing: the issuing run finds it here.
   */
  outbox?: 'issue' | 'provider-issue' | 'provider-revoke' | null;
  /** The token of the issuing run that holds the lease (`issuingUntil`). */
  issuingClaim?: string | null;
  /** Failed issuing attempts since the award (or the last retry). */
  issueAttempts?: number;
  /** Why issuance failed (status `failed`), or the last attempt's error. */
  error?: string | null;
  /**
   * Credly and Accredible (src/providers): the badge's id, state and public page at the service.
   * `externalPending` is set before each issuing call whose outcome may stay unknown, so the next
   * attempt looks the badge up at the service before posting again.
   */
  externalId?: string | null;
  externalUrl?: string | null;
  externalState?: string | null;
  externalPending?: boolean;
  /**
   * Set with the award (the same insert), cleared once the learner's pathways that name this badge
   * were counted again (src/pathways/updates.ts): a crash in between loses no pathway progress.
   */
  pathwaysPending?: boolean;
  /** A badge with levels: the step (level id) this credential is for. */
  level?: string | null;
  /**
   * Replaced by a higher level (status `superseded`): not revoked, its status-list bit untouched;
   * it left the live slot to the higher one.
   */
  supersededAt?: Date | null;
  supersededBy?: { level: string | null } | null;
  /** A regrade took a requirement back (policy `revoke`): revoked at this time unless it comes back. */
  regradeRevokeAt?: Date | null;
  regradeReason?: string | null;
  /** Why it was revoked: `regrade` (earned again when the grade comes back) or by a person. */
  revokedFor?: 'regrade' | null;
}

const schema = new Schema<CredentialDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    templateId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    courseRef: { type: Schema.Types.ObjectId, default: null },
    courseId: { type: String, default: null },
    userId: { type: String, required: true },
    status: { type: String, enum: CREDENTIAL_STATUSES, required: true },
    liveSlot: { type: String, required: true },
    awardedAt: { type: Date, required: true },
    awardedBy: { type: Schema.Types.Mixed, required: true },
    awardReason: { type: String, default: null },
    evidence: { type: Schema.Types.Mixed, default: () => [] },
    expiresAt: { type: Date, default: null },
    issuedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
    revokedReason: { type: String, default: null },
    revokedBy: { type: Schema.Types.Mixed, default: null },
    expiredAt: { type: Date, default: null },
    signed: { type: Schema.Types.Mixed, default: null },
    issuerProfileId: { type: Schema.Types.ObjectId, default: null },
    recipientSalt: { type: String, default: null },
    statusListId: { type: Schema.Types.ObjectId, default: null },
    statusListIndex: { type: Number, default: null },
    issuingUntil: { type: Date, default: null },
    outbox: { type: String, default: null },
    issuingClaim: { type: String, default: null },
    issueAttempts: { type: Number, default: 0 },
    error: { type: String, default: null },
    externalId: { type: String, default: null },
    externalUrl: { type: String, default: null },
    externalState: { type: String, default: null },
    externalPending: { type: Boolean, default: false },
    pathwaysPending: { type: Boolean },
    level: { type: String, default: null },
    supersededAt: { type: Date, default: null },
    supersededBy: { type: Schema.Types.Mixed, default: null },
    regradeRevokeAt: { type: Date, default: null },
    regradeReason: { type: String, default: null },
    revokedFor: { type: String, default: null },
  },
  { collection: 'credentials', versionKey: false, minimize: false },
);
schema.index({ templateId: 1, personId: 1, liveSlot: 1 }, { unique: true });
schema.index({ platformId: 1, personId: 1 });
schema.index({ status: 1, expiresAt: 1 });
// Rebuilding a status list reads its revoked credentials.
schema.index({ statusListId: 1, status: 1 });
// The issuing runs claim from the outbox, oldest award first.
schema.index({ outbox: 1, awardedAt: 1 });
schema.index({ issuingClaim: 1 });
// Credly's webhooks name a badge by its id there.
schema.index({ platformId: 1, externalId: 1 });
// Awards whose learners' pathways wait to be counted again (src/pathways/updates.ts).
schema.index({ pathwaysPending: 1 });
// The regrade-revocation job finds the credentials whose grace period has run out.
schema.index({ regradeRevokeAt: 1 });

export type CredentialModel = Model<CredentialDoc>;
export const credentialModel = (c: Connection): CredentialModel =>
  c.model<CredentialDoc>('Credential', schema);
