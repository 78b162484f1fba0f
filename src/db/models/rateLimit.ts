import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One fixed rate-limit window: requests counted per client network (an IPv4 address, an IPv6 /64;
 * see clientNetwork in src/web/public/rateLimit.ts) and window start. Shared by every web process
 * through MongoDB; the TTL index drops a window once it has passed.
 */
export interface RateWindowDoc {
  /** `<bucket>:<client network>:<window start in ms>`, e.g. `pages:2001:db8:0:1::/64:1700000040000` */
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
