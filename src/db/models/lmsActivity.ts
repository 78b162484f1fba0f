import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * One gradable thing of an LMS course as the LMS's own feed describes it, so that the badge builder
 * can offer it by name before (or without) any grade for it: the Moodle plugin's activity lists
 * (`activityId` = the course module id, or `gradeitem-<id>` for a manual grade item) and Canvas Live
 * Events' assignment events (the assignment's local id). `courseId` is the LMS's course id, as events
 * give `course.id`. Fields a feed does not know stay null.
 */
export interface LmsActivityDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  courseId: string;
  activityId: string;
  name?: string | null;
  /** The LMS's kind of activity: Moodle's module name (`quiz`, `assign`, …, `manual`), Canvas's type. */
  kind?: string | null;
  maxScore?: number | null;
  /** The grade item's minimum (Moodle), where the range does not start at 0. */
  minScore?: number | null;
  /** The LMS's grade item id (Moodle). */
  gradeItemId?: string | null;
  /** The LMS's tags of it: Moodle's course-module tags, Canvas's assignment group (by name). */
  tags?: string[] | null;
  /** Canvas: the id of its assignment group, whose name is a tag (null elsewhere). */
  groupId?: string | null;
  /** Tags the instructor gave it in Laurel, beside the LMS's. */
  instructorTags?: string[] | null;
  /** Shown to learners (Moodle's course module visibility). */
  visible?: boolean | null;
  /** `deleted`: removed in the LMS (kept so that the rules naming it still read). */
  state: 'active' | 'deleted';
  /** When the LMS said this (Canvas: the event's time; an older description never overwrites a newer one). */
  describedAt?: Date | null;
  source: 'moodle' | 'canvas';
  createdAt?: Date;
  updatedAt?: Date;
}

const schema = new Schema<LmsActivityDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    courseId: { type: String, required: true },
    activityId: { type: String, required: true },
    name: { type: String, default: null },
    kind: { type: String, default: null },
    maxScore: { type: Number, default: null },
    minScore: { type: Number, default: null },
    gradeItemId: { type: String, default: null },
    tags: { type: [String], default: undefined },
    groupId: { type: String, default: null },
    instructorTags: { type: [String], default: undefined },
    visible: { type: Boolean, default: null },
    state: { type: String, enum: ['active', 'deleted'], default: 'active' },
    describedAt: { type: Date, default: null },
    source: { type: String, enum: ['moodle', 'canvas'], required: true },
  },
  { timestamps: true, collection: 'lms_activities' },
);
schema.index({ platformId: 1, courseId: 1, activityId: 1 }, { unique: true });

export type LmsActivityModel = Model<LmsActivityDoc>;

/** The model on a connection; the same one however often it is asked for. */
export const lmsActivityModel = (c: Connection): LmsActivityModel =>
  (c.models.LmsActivity as LmsActivityModel | undefined) ?? c.model<LmsActivityDoc>('LmsActivity', schema);
