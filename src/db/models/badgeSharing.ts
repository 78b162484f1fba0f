import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * How a learner shares one of their credentials. No document means public (the default). `link`:
 * every public page and document answers 404, except through the holder's own link (which carries
 * a key); `hidden`: 404 everywhere, the holder's link included. Kept beside the credential, not in
 * it, so that the award and issuing paths never write it.
 */
export type BadgeVisibility = 'public' | 'link' | 'hidden';

export interface BadgeSharingDoc {
  /** The credential's id. */
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  personId: Types.ObjectId;
  visibility: BadgeVisibility;
  updatedAt: Date;
}

const schema = new Schema<BadgeSharingDoc>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    platformId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    visibility: { type: String, enum: ['public', 'link', 'hidden'], required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'badge_sharings', versionKey: false },
);
schema.index({ platformId: 1, personId: 1 });

export type BadgeSharingModel = Model<BadgeSharingDoc>;
export const badgeSharingModel = (c: Connection): BadgeSharingModel =>
  c.model<BadgeSharingDoc>('BadgeSharing', schema);
