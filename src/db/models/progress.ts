import { Schema, type Connection, type Model, type Types } from 'mongoose';

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
  fulfilments: { requirementId: string; at: Date; eventId: string | null }[];
  ratio: number;
  completedAt: Date | null;
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
    completedAt: { type: Date, default: null },
  },
  { timestamps: true, collection: 'progress', versionKey: false },
);
schema.index({ templateId: 1, personId: 1 }, { unique: true });
schema.index({ platformId: 1, personId: 1 });
schema.index({ templateId: 1, ratio: -1 });

export type ProgressModel = Model<ProgressDoc>;
export const progressModel = (c: Connection): ProgressModel => c.model<ProgressDoc>('Progress', schema);
