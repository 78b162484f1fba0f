import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Actor } from './auditEntry.js';
import type { LmsKind } from './platform.js';

/** Links are deleted this long after they expire (used or not); the audit log keeps their story. */
export const REGISTRATION_LINK_RETENTION_S = 30 * 24 * 3600;

/**
 * A one-time LTI Dynamic Registration link an administrator made: only the SHA-256 of its code is
 * stored, so the database alone cannot register anything. `usedAt` is set when a registration
 * claims the link (atomically, so one link registers one platform) and `usedBy` once the platform
 * is stored; a registration that fails after claiming gives the link back.
 */
export interface RegistrationLinkDoc {
  _id: Types.ObjectId;
  codeHash: string;
  /** The platform's name (and so its issuer profile's), as the administrator chose it. */
  name: string | null;
  lms: LmsKind | null;
  expiresAt: Date;
  usedAt: Date | null;
  usedBy: Types.ObjectId | null;
  createdBy: Actor;
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<RegistrationLinkDoc>(
  {
    codeHash: { type: String, required: true },
    name: { type: String, default: null },
    lms: { type: String, enum: ['moodle', 'canvas', 'other', null], default: null },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
    usedBy: { type: Schema.Types.ObjectId, default: null },
    createdBy: { type: Schema.Types.Mixed, required: true },
  },
  { timestamps: true, collection: 'registration_links', minimize: false },
);
schema.index({ codeHash: 1 }, { unique: true });
schema.index({ expiresAt: 1 }, { expireAfterSeconds: REGISTRATION_LINK_RETENTION_S });

export type RegistrationLinkModel = Model<RegistrationLinkDoc>;
export const registrationLinkModel = (c: Connection): RegistrationLinkModel =>
  c.model<RegistrationLinkDoc>('RegistrationLink', schema);
