import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * An instructor's weekly digest of one course (opted in from the instructor page). `nextDueAt` is
 * both the schedule and the claim: a run moves it a week on before sending, so two workers never
 * send the same week; a failed send moves it back a little to retry.
 */
export interface DigestSubscriptionDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  courseRef: Types.ObjectId;
  personId: Types.ObjectId;
  createdAt: Date;
  /** The end of the week the last digest covered (the next one starts there). */
  coveredUntil: Date;
  nextDueAt: Date;
  lastSentAt: Date | null;
  attempts: number;
  error: string | null;
}

const schema = new Schema<DigestSubscriptionDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    courseRef: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    coveredUntil: { type: Date, required: true },
    nextDueAt: { type: Date, required: true },
    lastSentAt: { type: Date, default: null },
    attempts: { type: Number, default: 0 },
    error: { type: String, default: null },
  },
  { collection: 'digest_subscriptions', versionKey: false },
);
schema.index({ platformId: 1, courseRef: 1, personId: 1 }, { unique: true });
schema.index({ nextDueAt: 1 });

export type DigestSubscriptionModel = Model<DigestSubscriptionDoc>;
export const digestSubscriptionModel = (c: Connection): DigestSubscriptionModel =>
  c.model<DigestSubscriptionDoc>('DigestSubscription', schema);
