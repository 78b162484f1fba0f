import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * What a learner chose to show of their learner record (CLR) on its public page, one document per
 * person: the credentials to include, and while shared a `shareId` (random, in its link).
 * Withdrawing the link moves the id to `withdrawnShareIds`, so it answers 410 for good; a new
 * share gets a new id. A hidden badge is never shown, whatever was chosen.
 */
export interface LearnerRecordShareDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  personId: Types.ObjectId;
  credentialIds: Types.ObjectId[];
  shareId: string | null;
  withdrawnShareIds: string[];
  updatedAt: Date;
}

const schema = new Schema<LearnerRecordShareDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    credentialIds: { type: [Schema.Types.ObjectId], default: [] },
    shareId: { type: String, default: null },
    withdrawnShareIds: { type: [String], default: [] },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'learner_record_shares', versionKey: false, minimize: false },
);
schema.index({ platformId: 1, personId: 1 }, { unique: true });
schema.index({ shareId: 1 });
schema.index({ withdrawnShareIds: 1 });

export type LearnerRecordShareModel = Model<LearnerRecordShareDoc>;
export const learnerRecordShareModel = (c: Connection): LearnerRecordShareModel =>
  c.model<LearnerRecordShareDoc>('LearnerRecordShare', schema);
