import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * How far the notice scan has read the credentials: `award` by credential id (ids grow with the
 * award time), `revocation` by revocation time. The scan reads past the cursor and moves it only over
 * what it has claimed, so a crash repeats a little work and never skips a credential.
 */
export interface NoticeCursorDoc {
  _id: 'award' | 'revocation';
  afterId: Types.ObjectId | null;
  afterAt: Date | null;
}

const schema = new Schema<NoticeCursorDoc>(
  {
    _id: { type: String, required: true },
    afterId: { type: Schema.Types.ObjectId, default: null },
    afterAt: { type: Date, default: null },
  },
  { collection: 'notice_cursors', versionKey: false },
);

export type NoticeCursorModel = Model<NoticeCursorDoc>;
export const noticeCursorModel = (c: Connection): NoticeCursorModel =>
  c.model<NoticeCursorDoc>('NoticeCursor', schema);
