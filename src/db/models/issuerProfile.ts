import { Schema, type Connection, type Model, type Types } from 'mongoose';

/** One Ed25519 signing key of an issuer; the secret half is sealed with ENCRYPTION_KEY. */
export interface IssuerKey {
  /** The public key as a multibase string (`z6Mk…`); also the last segment of the key's URL. */
  publicKeyMultibase: string;
  secretKeySealed: string;
  createdAt: Date;
  /** Set when a newer key took over; a retired key still verifies what it signed. */
  retiredAt: Date | null;
}

/**
 * The issuer of the credentials awarded on one platform: who the credential says issued it, and
 * the keys that sign for it. Published at PUBLIC_URL/issuers/:id (OB 3.0 Profile) and
 * PUBLIC_URL/ob2/issuers/:id (OB 2.0 Issuer).
 */
export interface IssuerProfileDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  name: string;
  url: string | null;
  email: string | null;
  description: string | null;
  imageId: string | null;
  keys: IssuerKey[];
  createdAt: Date;
  updatedAt: Date;
}

const keySchema = new Schema<IssuerKey>(
  {
    publicKeyMultibase: { type: String, required: true },
    secretKeySealed: { type: String, required: true },
    createdAt: { type: Date, required: true },
    retiredAt: { type: Date, default: null },
  },
  { _id: false },
);

const schema = new Schema<IssuerProfileDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    url: { type: String, default: null },
    email: { type: String, default: null },
    description: { type: String, default: null },
    imageId: { type: String, default: null },
    keys: { type: [keySchema], default: [] },
  },
  { timestamps: true, collection: 'issuer_profiles' },
);
// One issuer per platform: concurrent first issuances create it once.
schema.index({ platformId: 1 }, { unique: true });

export type IssuerProfileModel = Model<IssuerProfileDoc>;
export const issuerProfileModel = (c: Connection): IssuerProfileModel =>
  c.model<IssuerProfileDoc>('IssuerProfile', schema);
