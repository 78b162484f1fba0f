import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A learner's backpack session, outside any course: the cookie holds a random token and only its
 * SHA-256 is stored, so a copy of the database opens no session. It reaches the backpack of the
 * people listed (one person after a launch; every person with the verified address after an e-mailed
 * link) and nothing of any course. The TTL index drops it once it has expired.
 */
export interface BackpackSessionDoc {
  /** SHA-256 (hex) of the cookie's token. */
  _id: string;
  people: { platformId: Types.ObjectId; personId: Types.ObjectId }[];
  /** The address proved by an e-mailed link, or the LMS's address of the launch's person. */
  email: string | null;
  via: 'launch' | 'email';
  createdAt: Date;
  expiresAt: Date;
}

const schema = new Schema<BackpackSessionDoc>(
  {
    _id: { type: String, required: true },
    people: { type: Schema.Types.Mixed, required: true },
    email: { type: String, default: null },
    via: { type: String, enum: ['launch', 'email'], required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'backpack_sessions', versionKey: false },
);
schema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type BackpackSessionModel = Model<BackpackSessionDoc>;
export const backpackSessionModel = (c: Connection): BackpackSessionModel =>
  c.model<BackpackSessionDoc>('BackpackSession', schema);
