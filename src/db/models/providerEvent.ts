import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A Credly webhook event Laurel has applied, by its id: Credly retries deliveries for days, so the
 * same event arrives more than once and is applied once (unique index).
 */
export interface ProviderEventDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  provider: 'credly';
  eventId: string;
  eventType: string;
  occurredAt: Date | null;
  receivedAt: Date;
}

const schema = new Schema<ProviderEventDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    provider: { type: String, required: true },
    eventId: { type: String, required: true },
    eventType: { type: String, required: true },
    occurredAt: { type: Date, default: null },
    receivedAt: { type: Date, required: true },
  },
  { collection: 'providerEvents', versionKey: false },
);
schema.index({ platformId: 1, provider: 1, eventId: 1 }, { unique: true });

export type ProviderEventModel = Model<ProviderEventDoc>;
export const providerEventModel = (c: Connection): ProviderEventModel =>
  c.model<ProviderEventDoc>('ProviderEvent', schema);
