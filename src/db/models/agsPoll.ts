import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * What the AGS results poll (src/lms/ags/poll.ts) keeps: the courses whose gradebook Laurel can read
 * through AGS (the `lineitems` URL of a launch's AGS claim, per platform), and per line item and
 * learner the last result turned into an event, so that a run stores only new or changed scores.
 */
export interface AgsCourseDoc {
  _id: Types.ObjectId;
  /** The platform whose service token reads the course (the one the launch came through). */
  platformId: Types.ObjectId;
  /** The AGS claim's `lineitems` URL. */
  lineItemsUrl: string;
  /** The LTI context id of the course: `course.id` of the events made from its results. */
  contextId: string;
  contextTitle?: string | null;
  lastPolledAt?: Date | null;
  /** Why the last poll failed (null after a good one); the next run tries again. */
  lastError?: string | null;
  /** Failed polls in a row; the course waits until `retryAt` (exponential backoff) before the next. */
  failures: number;
  retryAt?: Date | null;
  createdAt?: Date;
  updatedAt?: Date;
}

const courseSchema = new Schema<AgsCourseDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    lineItemsUrl: { type: String, required: true },
    contextId: { type: String, required: true },
    contextTitle: { type: String, default: null },
    lastPolledAt: { type: Date, default: null },
    lastError: { type: String, default: null },
    failures: { type: Number, default: 0 },
    retryAt: { type: Date, default: null },
  },
  { timestamps: true, collection: 'ags_courses' },
);
courseSchema.index({ platformId: 1, lineItemsUrl: 1 }, { unique: true });

/** The last result of one learner on one line item that became an event. */
export interface AgsResultSeenDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  /** The line item's AGS id (its URL). */
  lineItemId: string;
  /** The result's `userId` (the LTI `sub`). */
  userId: string;
  /** Score, maximum and timestamp of the result as seen: a different mark is a new or changed score. */
  mark: string;
  /** How many different marks were seen: part of the event id, so that 90 → 70 → 90 makes three events. */
  seq: number;
  eventId: string;
  seenAt: Date;
}

const seenSchema = new Schema<AgsResultSeenDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    lineItemId: { type: String, required: true },
    userId: { type: String, required: true },
    mark: { type: String, required: true },
    seq: { type: Number, required: true },
    eventId: { type: String, required: true },
    seenAt: { type: Date, required: true },
  },
  { collection: 'ags_results_seen' },
);
seenSchema.index({ platformId: 1, lineItemId: 1, userId: 1 }, { unique: true });

export type AgsCourseModel = Model<AgsCourseDoc>;
export type AgsResultSeenModel = Model<AgsResultSeenDoc>;

export const agsCourseModel = (c: Connection): AgsCourseModel =>
  (c.models.AgsCourse as AgsCourseModel | undefined) ?? c.model<AgsCourseDoc>('AgsCourse', courseSchema);
export const agsResultSeenModel = (c: Connection): AgsResultSeenModel =>
  (c.models.AgsResultSeen as AgsResultSeenModel | undefined) ??
  c.model<AgsResultSeenDoc>('AgsResultSeen', seenSchema);
