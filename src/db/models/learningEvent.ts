import { Schema, type Connection, type Model, type Types } from 'mongoose';

export type EventStatus = 'pending' | 'processing' | 'processed' | 'failed';

/** One learning event from an LMS, stored once per (platform, id) whatever its source. */
export interface LearningEventDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  eventId: string;
  type: string;
  occurredAt: Date;
  receivedAt: Date;
  source: string;
  course: { id: string; title?: string | null } | null;
  user: { id: string; email?: string | null; name?: string | null };
  data: Record<string, unknown>;
  courseRef: Types.ObjectId | null;
  personRef: Types.ObjectId | null;
  status: EventStatus;
  attempts: number;
  lockedUntil: Date | null;
  /** The token of the processing run that claimed this event (with `lockedUntil`), else null. */
  claim?: string | null;
  processedAt: Date | null;
  error: string | null;
}

const schema = new Schema<LearningEventDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    eventId: { type: String, required: true },
    type: { type: String, required: true },
    occurredAt: { type: Date, required: true },
    receivedAt: { type: Date, required: true },
    source: { type: String, required: true },
    course: { type: Schema.Types.Mixed, default: null },
    user: { type: Schema.Types.Mixed, required: true },
    data: { type: Schema.Types.Mixed, default: {} },
    courseRef: { type: Schema.Types.ObjectId, default: null },
    personRef: { type: Schema.Types.ObjectId, default: null },
    status: { type: String, default: 'pending' },
    attempts: { type: Number, default: 0 },
    lockedUntil: { type: Date, default: null },
    claim: { type: String, default: null },
    processedAt: { type: Date, default: null },
    error: { type: String, default: null },
  },
  { collection: 'learning_events', minimize: false, versionKey: false },
);
// Idempotency: an LMS that resends an event id is answered "duplicate", never stored twice.
schema.index({ platformId: 1, eventId: 1 }, { unique: true });
// The processing queue: oldest pending first.
schema.index({ status: 1, receivedAt: 1 });
schema.index({ platformId: 1, personRef: 1, occurredAt: 1 });
// A processing run reads back the batch it claimed by its token.
schema.index({ claim: 1 });
// The learner and instructor pages list the activities seen in a course's events (activities.ts).
schema.index({ platformId: 1, courseRef: 1, 'data.activityId': 1 });
// A recalculation reads a course's events learner by learner (src/progress/recalculation.ts).
schema.index({ platformId: 1, courseRef: 1, personRef: 1, _id: 1 });

export type LearningEventModel = Model<LearningEventDoc>;
export const learningEventModel = (c: Connection): LearningEventModel =>
  c.model<LearningEventDoc>('LearningEvent', schema);
