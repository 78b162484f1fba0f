/** What every endpoint module of the platform shares: its state, keys, flavour and addresses. */
import type { FlavourProfile } from './flavour.js';
import type { PlatformKeys } from './keys.js';
import type { LiveEventsState } from './live-events.js';
import type { PlatformStore } from './store.js';

export const PATHS = {
  jwks: '/jwks',
  auth: '/auth',
  token: '/token',
  deepLinkReturn: '/deep_link_return',
  openidConfiguration: '/.well-known/openid-configuration',
  register: '/register',
  launchStart: '/launch',
  storageFrame: '/lti/post_message_forwarding',
} as const;

export interface PlatformContext {
  store: PlatformStore;
  keys: PlatformKeys;
  profile: FlavourProfile;
  /** Base URL, no trailing slash. */
  url: string;
  issuer: string;
  name: string;
  toolUrl: string;
  defaultClientId: string;
  /** Require the registration token as a Bearer header on the openid configuration too (Canvas documents it). */
  configurationRequiresToken: boolean;
  /** Whether the dynamic registration's answer carries the deployment id (Canvas: only the first launch). */
  registrationAnswersDeploymentId?: boolean;
  /** The frame name sent as `lti_storage_target` (platform storage offered), or null. */
  storageTarget: string | null;
  /** Links the home page shows under its title (e.g. the demo's event panel). */
  homeLinks?: { href: string; label: string }[];
  /** Spoils what the storage frame answers to lti.get_data (tests of a tool's refusals). */
  storageTamper?: import('./storage.js').StorageTamper | undefined;
  /** Canvas Live Events: their signing keys, the root account, Data Services subscriptions, deliveries. */
  liveEvents: LiveEventsState;
}

export function absolute(ctx: PlatformContext, path: string): string {
  return `${ctx.url}${path}`;
}

export function lineItemsUrl(ctx: PlatformContext, courseId: string): string {
  return `${ctx.url}/api/lti/courses/${encodeURIComponent(courseId)}/line_items`;
}

export function lineItemUrl(ctx: PlatformContext, courseId: string, lineItemId: string): string {
  return `${lineItemsUrl(ctx, courseId)}/${encodeURIComponent(lineItemId)}`;
}

export function membershipsUrl(ctx: PlatformContext, courseId: string): string {
  return `${ctx.url}${ctx.profile.nrpsPath(courseId)}`;
}
