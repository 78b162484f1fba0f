import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One fixed rate-limit window: requests counted per client key and window start. Shared by every
 * web process through MongoDB; the TTL index drops a window once it has passed.
 */
export interface RateWindowDoc {
  /** `<bucket>:<client key>:<window start in ms>` */
  _id: string;
  count: number;
  expiresAt: Date;
}

const schema = new Schema<RateWindowDoc>(
  {
    _id: { type: String, required: true },
    count: { type: Number, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'rate_windows', versionKey: false },
);
schema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type RateWindowModel = Model<RateWindowDoc>;
export const rateWindowModel = (c: Connection): RateWindowModel =>
  c.model<RateWindowDoc>('RateWindow', schema);
