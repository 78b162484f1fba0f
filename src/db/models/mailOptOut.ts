import { Schema, type Connection, type Model } from 'mongoose';

/** An address that unsubscribed from Laurel's notices (sign-in links, asked for, are still sent). */
export interface MailOptOutDoc {
  /** The address, lower-cased. */
  _id: string;
  at: Date;
}

const schema = new Schema<MailOptOutDoc>(
  { _id: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'mail_opt_outs', versionKey: false },
);

export type MailOptOutModel = Model<MailOptOutDoc>;
export const mailOptOutModel = (c: Connection): MailOptOutModel =>
  c.model<MailOptOutDoc>('MailOptOut', schema);
