import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { VerificationCheck, VerificationResult } from '../../issuers/openbadges/verifyChecks.js';

/**
 * A badge a learner earned elsewhere and added to their backpack. Kept only once it verified; the
 * verification is kept with it and re-run when its page is shown (revocation can come later).
 */
export interface ImportedBadgeDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  personId: Types.ObjectId;
  source: 'file' | 'text' | 'url';
  /** What was verified, as the verifier takes it again: text (JSON, JWS, URL) or a file in base64. */
  payload: string;
  payloadEncoding: 'utf8' | 'base64';
  format: VerificationResult['format'];
  /** The credential's or assertion's id, so one badge is added once. */
  badgeId: string;
  name: string;
  description: string | null;
  issuerName: string | null;
  issuerUrl: string | null;
  /** An https image URL the badge names (shown as is), or null. */
  imageUrl: string | null;
  verification: { valid: boolean; checks: VerificationCheck[]; at: Date };
  createdAt: Date;
}

const schema = new Schema<ImportedBadgeDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    source: { type: String, enum: ['file', 'text', 'url'], required: true },
    payload: { type: String, required: true },
    payloadEncoding: { type: String, enum: ['utf8', 'base64'], required: true },
    format: { type: String, required: true },
    badgeId: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: null },
    issuerName: { type: String, default: null },
    issuerUrl: { type: String, default: null },
    imageUrl: { type: String, default: null },
    verification: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'imported_badges', versionKey: false },
);
schema.index({ platformId: 1, personId: 1, badgeId: 1 }, { unique: true });

export type ImportedBadgeModel = Model<ImportedBadgeDoc>;
export const importedBadgeModel = (c: Connection): ImportedBadgeModel =>
  c.model<ImportedBadgeDoc>('ImportedBadge', schema);
