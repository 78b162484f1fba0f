import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A group of a course's activities as the LMS names it: Canvas's assignment groups ("Labs",
 * "Quizzes"), from its `assignment_group_created` / `assignment_group_updated` Live Events. Its name
 * is the tag of the assignments in it (lms_activities.groupId), for counts of activities by tag.
 */
export interface LmsActivityGroupDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  /** The LMS's course id, as events give `course.id`. */
  courseId: string;
  /** The group's id in its local form. */
  groupId: string;
  name: string;
  /** When the LMS said this (an older description never overwrites a newer one). */
  describedAt: Date;
  source: 'canvas';
}

const schema = new Schema<LmsActivityGroupDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    courseId: { type: String, required: true },
    groupId: { type: String, required: true },
    name: { type: String, required: true },
    describedAt: { type: Date, required: true },
    source: { type: String, enum: ['canvas'], required: true },
  },
  { timestamps: true, collection: 'lms_activity_groups' },
);
schema.index({ platformId: 1, courseId: 1, groupId: 1 }, { unique: true });

export type LmsActivityGroupModel = Model<LmsActivityGroupDoc>;

/** The model on a connection; the same one however often it is asked for. */
export const lmsActivityGroupModel = (c: Connection): LmsActivityGroupModel =>
  (c.models.LmsActivityGroup as LmsActivityGroupModel | undefined) ??
  c.model<LmsActivityGroupDoc>('LmsActivityGroup', schema);
