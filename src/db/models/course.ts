import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A course of a platform. It may be known by several ids at once (the LTI context id and the
 * LMS's own course id), and events may name it by either, so all of them live in `ids`.
 */
export interface CourseDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  ids: string[];
  contextId?: string | null;
  lmsCourseId?: string | null;
  title?: string | null;
  label?: string | null;
  /**
   * The course's end date as the LMS last said it (Canvas at launch through `$Canvas.course.endAt`,
   * the Moodle plugin's course lists); null when it said there is none or never said.
   */
  lmsEndsAt?: Date | null;
  /** The end date the instructor set in Laurel; wins over the LMS's. */
  instructorEndsAt?: Date | null;
  /** `platformId:first id`: makes concurrent first sightings of one course create one document. */
  createKey: string;
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<CourseDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    ids: { type: [String], required: true },
    contextId: { type: String, default: null },
    lmsCourseId: { type: String, default: null },
    title: { type: String, default: null },
    label: { type: String, default: null },
    lmsEndsAt: { type: Date, default: null },
    instructorEndsAt: { type: Date, default: null },
    createKey: { type: String, required: true },
  },
  { timestamps: true, collection: 'courses' },
);
schema.index({ createKey: 1 }, { unique: true });
schema.index({ platformId: 1, ids: 1 });

export type CourseModel = Model<CourseDoc>;
export const courseModel = (c: Connection): CourseModel => c.model<CourseDoc>('Course', schema);
