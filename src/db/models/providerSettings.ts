import { Schema, type Connection, type Model, type Types } from 'mongoose';

export type ProviderName = 'credly' | 'accredible';
export const PROVIDER_NAMES: readonly ProviderName[] = ['credly', 'accredible'];

/**
 * A platform's settings for one badge service (Credly or Accredible). The secret (Credly's
 * authorization token, Accredible's API key) is sealed (src/security/encryption.ts) and shown again
 * only as its last four characters (`secretHint`).
 */
export interface ProviderSettingsDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  provider: ProviderName;
  environment: string;
  /** Replaces the environment's API base URL (tests, private deployments). */
  baseUrl: string | null;
  /** Credly only. */
  organizationId: string | null;
  secretSealed: string;
  secretHint: string;
  /** The answer of the harmless call made when the settings were saved or last checked. */
  check: { ok: boolean; at: Date; message: string } | null;
  lastSync: { at: Date; ok: boolean; message: string; templates: number } | null;
  /** While in the future, one worker is syncing this service's templates; others skip. */
  syncingUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<ProviderSettingsDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    provider: { type: String, enum: PROVIDER_NAMES, required: true },
    environment: { type: String, required: true },
    baseUrl: { type: String, default: null },
    organizationId: { type: String, default: null },
    secretSealed: { type: String, required: true },
    secretHint: { type: String, required: true },
    check: { type: Schema.Types.Mixed, default: null },
    lastSync: { type: Schema.Types.Mixed, default: null },
    syncingUntil: { type: Date, default: null },
  },
  { timestamps: true, collection: 'providerSettings', minimize: false },
);
schema.index({ platformId: 1, provider: 1 }, { unique: true });

export type ProviderSettingsModel = Model<ProviderSettingsDoc>;
export const providerSettingsModel = (c: Connection): ProviderSettingsModel =>
  c.model<ProviderSettingsDoc>('ProviderSettings', schema);
