import { Schema, type Connection, type Model, type Types } from 'mongoose';

export type LmsKind = 'moodle' | 'canvas' | 'other';

/** An LMS registered with Laurel: its LTI endpoints and the secret its events are signed with. */
export interface PlatformDoc {
  _id: Types.ObjectId;
  name: string;
  lms: LmsKind;
  issuer: string;
  clientId: string;
  authLoginUrl: string;
  authTokenUrl: string;
  jwksUrl: string;
  deploymentIds: string[];
  /** Sealed with ENCRYPTION_KEY; never answered after registration. */
  webhookSecretSealed: string;
  /** The secret before the last rotation, accepted until previousSecretUntil. */
  previousWebhookSecretSealed?: string | null;
  previousSecretUntil?: Date | null;
  registeredBy: 'api' | 'cli' | 'dynamic-registration' | 'demo';
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<PlatformDoc>(
  {
    name: { type: String, required: true },
    lms: { type: String, enum: ['moodle', 'canvas', 'other'], required: true },
    issuer: { type: String, required: true },
    clientId: { type: String, required: true },
    authLoginUrl: { type: String, required: true },
    authTokenUrl: { type: String, required: true },
    jwksUrl: { type: String, required: true },
    deploymentIds: { type: [String], default: [] },
    webhookSecretSealed: { type: String, required: true },
    previousWebhookSecretSealed: { type: String, default: null },
    previousSecretUntil: { type: Date, default: null },
    registeredBy: { type: String, required: true },
  },
  { timestamps: true, collection: 'platforms' },
);
schema.index({ issuer: 1, clientId: 1 }, { unique: true });
schema.index({ issuer: 1 });

export type PlatformModel = Model<PlatformDoc>;
export const platformModel = (c: Connection): PlatformModel => c.model<PlatformDoc>('Platform', schema);
