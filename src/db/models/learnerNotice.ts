import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * One notice to a learner about a credential (`award:<id>` or `revocation:<id>`): the unique id makes
 * each notice claimed once. `sending` with a lease while a worker sends it (a crash leaves the lease
 * to run out, then it is sent again), `sent` after, `skipped` when there is no address or the address
 * unsubscribed.
 */
export interface LearnerNoticeDoc {
  _id: string;
  kind: 'award' | 'revocation';
  credentialId: Types.ObjectId;
  platformId: Types.ObjectId;
  personId: Types.ObjectId;
  state: 'sending' | 'sent' | 'skipped';
  leaseUntil: Date | null;
  attempts: number;
  error: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

const schema = new Schema<LearnerNoticeDoc>(
  {
    _id: { type: String, required: true },
    kind: { type: String, enum: ['award', 'revocation'], required: true },
    credentialId: { type: Schema.Types.ObjectId, required: true },
    platformId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    state: { type: String, enum: ['sending', 'sent', 'skipped'], required: true },
    leaseUntil: { type: Date, default: null },
    attempts: { type: Number, default: 0 },
    error: { type: String, default: null },
    createdAt: { type: Date, required: true },
    sentAt: { type: Date, default: null },
  },
  { collection: 'learner_notices', versionKey: false },
);
schema.index({ state: 1, leaseUntil: 1 });
// "Is this the person's first award notice?" (the first one explains the backpack).
schema.index({ platformId: 1, personId: 1, kind: 1 });

export type LearnerNoticeModel = Model<LearnerNoticeDoc>;
export const learnerNoticeModel = (c: Connection): LearnerNoticeModel =>
  c.model<LearnerNoticeDoc>('LearnerNotice', schema);
