import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A person on one platform. Launches name them by LTI `sub`, events and rosters by the LMS's
 * own user id or the sub; every id seen for them is kept in `ids`.
 */
export interface PersonDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  ids: string[];
  sub?: string | null;
  lmsUserId?: string | null;
  name?: string | null;
  email?: string | null;
  /** Course roles as last seen, keyed by the course's document id. */
  roles: Map<string, string[]>;
  createKey: string;
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<PersonDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    ids: { type: [String], required: true },
    sub: { type: String, default: null },
    lmsUserId: { type: String, default: null },
    name: { type: String, default: null },
    email: { type: String, default: null, lowercase: true, trim: true },
    roles: { type: Map, of: [String], default: {} },
    createKey: { type: String, required: true },
  },
  { timestamps: true, collection: 'people' },
);
schema.index({ createKey: 1 }, { unique: true });
schema.index({ platformId: 1, ids: 1 });
schema.index({ platformId: 1, email: 1 });

export type PersonModel = Model<PersonDoc>;
export const personModel = (c: Connection): PersonModel => c.model<PersonDoc>('Person', schema);
