import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Actor } from './auditEntry.js';

/**
 * A learner following a pathway, and what they achieved on it. Completed steps are recorded with
 * their time and never taken back by a later recount or an edit of the pathway; `completedAt` and
 * `badgeCredentialId` are set once. `currentStep` (the step they are at, or 'done') answers the
 * instructor's count of learners per step through one index. While shared, `shareId` is in a public
 * link; withdrawing moves it to `withdrawnShareIds`, so the old link answers 410 for good.
 */
export interface PathwayEnrolmentDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  pathwayId: Types.ObjectId;
  personId: Types.ObjectId;
  via: 'subscribed' | 'enrolled';
  enrolledBy: Actor;
  enrolledAt: Date;
  completedSteps: { stepId: string; at: Date }[];
  currentStep: string | null;
  completedAt: Date | null;
  badgeCredentialId: Types.ObjectId | null;
  shareId: string | null;
  withdrawnShareIds: string[];
  updatedAt: Date;
}

const schema = new Schema<PathwayEnrolmentDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    pathwayId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    via: { type: String, enum: ['subscribed', 'enrolled'], required: true },
    enrolledBy: { type: Schema.Types.Mixed, required: true },
    enrolledAt: { type: Date, required: true },
    completedSteps: { type: Schema.Types.Mixed, default: () => [] },
    currentStep: { type: String, default: null },
    completedAt: { type: Date, default: null },
    badgeCredentialId: { type: Schema.Types.ObjectId, default: null },
    shareId: { type: String, default: null },
    withdrawnShareIds: { type: [String], default: [] },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'pathway_enrolments', versionKey: false, minimize: false },
);
schema.index({ pathwayId: 1, personId: 1 }, { unique: true });
schema.index({ platformId: 1, personId: 1 });
schema.index({ pathwayId: 1, currentStep: 1 });
schema.index({ shareId: 1 });
schema.index({ withdrawnShareIds: 1 });

export type PathwayEnrolmentModel = Model<PathwayEnrolmentDoc>;
export const pathwayEnrolmentModel = (c: Connection): PathwayEnrolmentModel =>
  c.model<PathwayEnrolmentDoc>('PathwayEnrolment', schema);
