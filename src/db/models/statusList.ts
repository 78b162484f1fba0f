import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * A W3C Bitstring Status List (revocation) of one issuer, published as a signed
 * BitstringStatusListCredential at PUBLIC_URL/status-lists/:id.
 *
 * Slots are handed out by `$inc` on `nextSlot`; slot n sits at bit (multiplier × n + offset) mod
 * length, a permutation of the list, so that neighbouring bits do not tell which credentials were
 * issued together. The bits themselves are not stored here: they are rebuilt from the credentials
 * (status revoked) whenever `revision` moves past `signedRevision`.
 */
export interface StatusListDoc {
  _id: Types.ObjectId;
  issuerProfileId: Types.ObjectId;
  platformId: Types.ObjectId;
  purpose: 'revocation';
  sequence: number;
  length: number;
  nextSlot: number;
  multiplier: number;
  offset: number;
  /**
   * Bumped by every revocation of a credential on this list. The public pages key their cached
   * verification results on (revision, signedRevision), so a revocation is a new key at once.
   */
  revision: number;
  /** The revision the published (signed) list reflects. Moves with every write of `signed`, and must. */
  signedRevision: number;
  signed: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<StatusListDoc>(
  {
    issuerProfileId: { type: Schema.Types.ObjectId, required: true },
    platformId: { type: Schema.Types.ObjectId, required: true },
    purpose: { type: String, enum: ['revocation'], required: true },
    sequence: { type: Number, required: true },
    length: { type: Number, required: true },
    nextSlot: { type: Number, default: 0 },
    multiplier: { type: Number, required: true },
    offset: { type: Number, required: true },
    revision: { type: Number, default: 0 },
    signedRevision: { type: Number, default: -1 },
    signed: { type: Schema.Types.Mixed, default: null },
  },
  { timestamps: true, collection: 'status_lists', minimize: false },
);
schema.index({ issuerProfileId: 1, purpose: 1, sequence: 1 }, { unique: true });

export type StatusListModel = Model<StatusListDoc>;
export const statusListModel = (c: Connection): StatusListModel =>
  c.model<StatusListDoc>('StatusList', schema);
