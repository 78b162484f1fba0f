import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Actor } from './auditEntry.js';

/**
 * One step of a pathway. Its `id` is stable across edits (progress records name steps by it), so an
 * edit that renames, reorders or changes a step keeps what learners achieved on it.
 */
export interface PathwayStep {
  id: string;
  name: string;
  description: string;
  /** Badge templates of the platform (any course, local or Credly/Accredible) the step asks for. */
  templateIds: Types.ObjectId[];
  /** How many of them are needed; null = all of them. */
  atLeast: number | null;
  /** Ids of earlier steps that must be done first. */
  prerequisites: string[];
  /** An optional step does not hold back the pathway's completion. */
  optional: boolean;
}

/**
 * A pathway of one platform: ordered steps across its courses, and optionally a badge of its own for
 * finishing it. `courseRef` is the course it was made in (its instructors may edit it; its learners
 * see it offered); null = made by the LMS administrator for every course of the platform.
 * `templateIds` denormalises every template its steps name, so that an award finds the pathways it
 * may move through one index.
 */
export interface PathwayDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  courseRef: Types.ObjectId | null;
  name: string;
  description: string;
  steps: PathwayStep[];
  badgeTemplateId: Types.ObjectId | null;
  templateIds: Types.ObjectId[];
  /** Moves with every edit; an edit based on an older version is refused (two editors at once). */
  version: number;
  createdBy: Actor;
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<PathwayDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    courseRef: { type: Schema.Types.ObjectId, default: null },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    // Mixed: the shape is validated by src/pathways/validate.ts before it gets here.
    steps: { type: Schema.Types.Mixed, default: () => [] },
    badgeTemplateId: { type: Schema.Types.ObjectId, default: null },
    templateIds: { type: [Schema.Types.ObjectId], default: [] },
    version: { type: Number, default: 1 },
    createdBy: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'pathways', versionKey: false, minimize: false },
);
schema.index({ platformId: 1, courseRef: 1, createdAt: -1 });
// An award looks up the pathways that name its template.
schema.index({ platformId: 1, templateIds: 1 });

export type PathwayModel = Model<PathwayDoc>;
export const pathwayModel = (c: Connection): PathwayModel => c.model<PathwayDoc>('Pathway', schema);
