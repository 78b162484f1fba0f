import { Schema, type Connection, type Model } from 'mongoose';

/**
 * A one-time sign-in link sent by e-mail. Only the SHA-256 of its token is stored; `usedAt` is set
 * by the one update that consumes it, so it works once. The TTL index drops it after it expired.
 */
export interface SignInLinkDoc {
  _id: string;
  email: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

const schema = new Schema<SignInLinkDoc>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
  },
  { collection: 'sign_in_links', versionKey: false },
);
schema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type SignInLinkModel = Model<SignInLinkDoc>;
export const signInLinkModel = (c: Connection): SignInLinkModel =>
  c.model<SignInLinkDoc>('SignInLink', schema);
