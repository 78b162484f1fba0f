import { Schema, type Connection, type Model, type Types } from 'mongoose';

export type Actor = {
  type: 'admin' | 'instructor' | 'system' | 'lms';
  id: string | null;
  name?: string | null;
};

/** Who did what, when and why: every award, revocation and configuration change. */
export interface AuditEntryDoc {
  _id: Types.ObjectId;
  at: Date;
  actor: Actor;
  action: string;
  platformId: Types.ObjectId | null;
  courseRef: Types.ObjectId | null;
  target: { type: string; id: string };
  reason: string | null;
  details: Record<string, unknown>;
}

const schema = new Schema<AuditEntryDoc>(
  {
    at: { type: Date, required: true },
    actor: { type: Schema.Types.Mixed, required: true },
    action: { type: String, required: true },
    platformId: { type: Schema.Types.ObjectId, default: null },
    courseRef: { type: Schema.Types.ObjectId, default: null },
    target: { type: Schema.Types.Mixed, required: true },
    reason: { type: String, default: null },
    details: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: 'audit_log', versionKey: false, minimize: false },
);
schema.index({ platformId: 1, at: -1 });
schema.index({ 'target.type': 1, 'target.id': 1, at: -1 });

export type AuditEntryModel = Model<AuditEntryDoc>;
export const auditEntryModel = (c: Connection): AuditEntryModel =>
  c.model<AuditEntryDoc>('AuditEntry', schema);
