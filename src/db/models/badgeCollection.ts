import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A learner's named, ordered collection of badges (their own credentials and imported badges). While
 * shared it has a `shareId` (random, in its public link); withdrawing a link moves the id to
 * `withdrawnShareIds`, so that link answers 410 for good and a new share gets a new id.
 */
export type CollectionItem = { kind: 'credential' | 'imported'; id: Types.ObjectId };

export interface BadgeCollectionDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  personId: Types.ObjectId;
  name: string;
  description: string;
  items: CollectionItem[];
  shareId: string | null;
  withdrawnShareIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<BadgeCollectionDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    items: { type: Schema.Types.Mixed, default: () => [] },
    shareId: { type: String, default: null },
    withdrawnShareIds: { type: [String], default: [] },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'badge_collections', versionKey: false, minimize: false },
);
schema.index({ platformId: 1, personId: 1, createdAt: -1 });
schema.index({ shareId: 1 });
schema.index({ withdrawnShareIds: 1 });

export type BadgeCollectionModel = Model<BadgeCollectionDoc>;
export const badgeCollectionModel = (c: Connection): BadgeCollectionModel =>
  c.model<BadgeCollectionDoc>('BadgeCollection', schema);
