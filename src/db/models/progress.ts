import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { LevelMeasure } from '../../rules/index.js';

/** One learner's progress on one template. Updated with atomic operators only. */
export interface ProgressDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  templateId: Types.ObjectId;
  personId: Types.ObjectId;
  courseRef: Types.ObjectId | null;
  /** Ids of the fulfilled requirements. */
  fulfilled: string[];
  /** When each requirement was fulfilled, and by which event. */
  fulfilments: {
    requirementId: string;
    at: Date;
    eventId: string | null;
    /** Regrades (src/rules/regrade.ts): what the fulfilling grade graded, and the latest grade that met it. */
    subject?: string;
    confirmedAt?: Date;
  }[];
  ratio: number;
  /** A badge with levels: the learner's best and latest score on the levels' measure. */
  measure?: LevelMeasure | null;
  completedAt: Date | null;
  /** Counts of activities ("any 3 labs"): per requirement, the activity ids counted so far. */
  counted?: Record<string, string[]> | null;
  /**
   * Bumped by every write. A processing run writes the state it computed only where `rev` is still
   * what it read (optimistic concurrency), so `fulfilled`, `ratio` and `completedAt` always move
   * together; missing on documents written before it existed (read as 0).
   */
  rev?: number;
  /** A random token of the last processing write, so a run can tell whether its own write landed. */
  writeToken?: string | null;
  updatedAt: Date;
  createdAt: Date;
}

const schema = new Schema<ProgressDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    templateId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    courseRef: { type: Schema.Types.ObjectId, default: null },
    fulfilled: { type: [String], default: [] },
    fulfilments: { type: Schema.Types.Mixed, default: () => [] },
    ratio: { type: Number, default: 0 },
    measure: { type: Schema.Types.Mixed, default: null },
    completedAt: { type: Date, default: null },
    counted: { type: Schema.Types.Mixed, default: null },
    rev: { type: Number, default: 0 },
    writeToken: { type: String, default: null },
  },
  { timestamps: true, collection: 'progress', versionKey: false },
);
schema.index({ templateId: 1, personId: 1 }, { unique: true });
schema.index({ platformId: 1, personId: 1 });
schema.index({ templateId: 1, ratio: -1 });

export type ProgressModel = Model<ProgressDoc>;
export const progressModel = (c: Connection): ProgressModel => c.model<ProgressDoc>('Progress', schema);
