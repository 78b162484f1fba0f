import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A signed LMS message already taken (Canvas Live Events): `<platform id>:<jti, or the SHA-256 of the
 * token when it has none>`. A second delivery of the same token is a replay and is refused; the TTL
 * index drops the receipt once the token could no longer be accepted anyway (its `exp` plus the clock
 * skew), or after a week when it carries no `exp` (the event's own id still makes a resend a duplicate).
 */
export interface LiveEventReceiptDoc {
  _id: string;
  platformId: Types.ObjectId;
  eventName: string;
  receivedAt: Date;
  expiresAt: Date;
}

const schema = new Schema<LiveEventReceiptDoc>(
  {
    _id: { type: String, required: true },
    platformId: { type: Schema.Types.ObjectId, required: true },
    eventName: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'live_event_receipts', versionKey: false },
);
schema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type LiveEventReceiptModel = Model<LiveEventReceiptDoc>;
export const liveEventReceiptModel = (c: Connection): LiveEventReceiptModel =>
  c.model<LiveEventReceiptDoc>('LiveEventReceipt', schema);
