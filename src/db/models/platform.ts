import { Schema, type Connection, type Model, type Types } from 'mongoose';

export type LmsKind = 'moodle' | 'canvas' | 'other';

/**
 * `pending`: registered by LTI Dynamic Registration without a registration link, waiting for an
 * administrator's approval; it cannot launch, send events or be awarded to. Documents from before
 * the field existed have none and are active.
 */
export type PlatformStatus = 'active' | 'pending';

/**
 * What a validly signed launch from a deployment Laurel has not seen does: `auto` records the
 * deployment and launches (an installation of the same authorised client, signed by the LMS's own
 * key); `approve` refuses it and lists it as pending until an administrator adds it.
 */
export type DeploymentPolicy = 'auto' | 'approve';

/** A deployment that launched under the `approve` policy and waits for an administrator. */
export type PendingDeployment = { deploymentId: string; firstSeenAt: Date; lastSeenAt: Date };

/** An LMS registered with Laurel: its LTI endpoints and the secret its events are signed with. */
export interface PlatformDoc {
  _id: Types.ObjectId;
  name: string;
  lms: LmsKind;
  issuer: string;
  clientId: string;
  authLoginUrl: string;
  authTokenUrl: string;
  jwksUrl: string;
  deploymentIds: string[];
  /**
   * Absent: `auto` for dynamically registered platforms (Canvas tells the deployment id only with
   * the first launch of an installation), `approve` for those an administrator registered with
   * their deployment ids (see deploymentPolicyOf).
   */
  deploymentPolicy?: DeploymentPolicy | null;
  /** Deployments refused under `approve`, newest last, at most MAX_PENDING_DEPLOYMENTS. */
  pendingDeployments?: PendingDeployment[];
  /**
   * Another registration of the same LMS (same issuer, another client id: a dynamic and a manual
   * registration of one Moodle): its courses and people are this platform's (identityPlatformIdOf).
   */
  sameLmsAs?: Types.ObjectId | null;
  /** Sealed with ENCRYPTION_KEY; never answered after registration. */
  webhookSecretSealed: string;
  /** The secret before the last rotation, accepted until previousSecretUntil. */
  previousWebhookSecretSealed?: string | null;
  previousSecretUntil?: Date | null;
  registeredBy: 'api' | 'cli' | 'dynamic-registration' | 'demo';
  /** Absent on platforms stored before statuses existed: those are active. */
  status?: PlatformStatus;
  /**
   * The name the LMS gave itself in a dynamic registration (Canvas's account name): only a
   * suggestion for the administrator, never used as the platform's or its issuer's name unchecked.
   */
  suggestedName?: string | null;
  /**
   * Origins the LMS showed Laurel's pages from, learned from its signed launches (the return URL):
   * Canvas's issuer and login host are not the school's own Canvas address that frames Laurel.
   */
  frameOrigins?: string[];
  /**
   * Canvas: the key set that signs the platform's Live Events (absent: the one Instructure publishes,
   * CANVAS_LIVE_EVENTS_JWKS_URL in src/lms/canvas/keys.ts).
   */
  liveEventsJwksUrl?: string | null;
  /**
   * Canvas: the root account whose Live Events this platform accepts (`metadata.root_account_lti_guid`,
   * the launch's tool_platform guid). Every hosted Canvas signs with the same keys, so this binds the
   * receiver to one school; absent: any account (the setup guide says to set it).
   */
  liveEventsRootAccountGuid?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<PlatformDoc>(
  {
    name: { type: String, required: true },
    lms: { type: String, enum: ['moodle', 'canvas', 'other'], required: true },
    issuer: { type: String, required: true },
    clientId: { type: String, required: true },
    authLoginUrl: { type: String, required: true },
    authTokenUrl: { type: String, required: true },
    jwksUrl: { type: String, required: true },
    deploymentIds: { type: [String], default: [] },
    deploymentPolicy: { type: String, enum: ['auto', 'approve', null], default: null },
    pendingDeployments: {
      type: [
        {
          _id: false,
          deploymentId: { type: String, required: true },
          firstSeenAt: { type: Date, required: true },
          lastSeenAt: { type: Date, required: true },
        },
      ],
      default: undefined,
    },
    sameLmsAs: { type: Schema.Types.ObjectId, default: null },
    webhookSecretSealed: { type: String, required: true },
    previousWebhookSecretSealed: { type: String, default: null },
    previousSecretUntil: { type: Date, default: null },
    registeredBy: { type: String, required: true },
    status: { type: String, enum: ['active', 'pending'], default: 'active' },
    suggestedName: { type: String, default: null },
    frameOrigins: { type: [String], default: undefined },
    liveEventsJwksUrl: { type: String, default: null },
    liveEventsRootAccountGuid: { type: String, default: null },
  },
  { timestamps: true, collection: 'platforms' },
);
schema.index({ issuer: 1, clientId: 1 }, { unique: true });
schema.index({ issuer: 1 });
schema.index({ status: 1 }, { partialFilterExpression: { status: 'pending' } });

export type PlatformModel = Model<PlatformDoc>;
export const platformModel = (c: Connection): PlatformModel => c.model<PlatformDoc>('Platform', schema);

/** Whether a platform may launch, send events and be awarded to. */
export const isActivePlatform = (p: Pick<PlatformDoc, 'status'>): boolean => p.status !== 'pending';

/** The policy in force for new deployments (the stored one, else by how the platform came). */
export const deploymentPolicyOf = (
  p: Pick<PlatformDoc, 'deploymentPolicy' | 'registeredBy'>,
): DeploymentPolicy => p.deploymentPolicy ?? (p.registeredBy === 'dynamic-registration' ? 'auto' : 'approve');

/** The platform whose courses and people a platform's launches and events use (see sameLmsAs). */
export const identityPlatformIdOf = (p: Pick<PlatformDoc, '_id' | 'sameLmsAs'>): Types.ObjectId =>
  p.sameLmsAs ?? p._id;
