/**
 * A handle on a running test LMS platform: addresses, roster and gradebook seeding, launch preparation, and
 * what it recorded. `startTestPlatform` (server.ts) makes one.
 */
import type { Server } from 'node:http';
import { lineItemView } from './ags.js';
import {
  absolute,
  lineItemsUrl,
  lineItemUrl,
  membershipsUrl,
  PATHS,
  type PlatformContext,
} from './context.js';
import type { DemoData } from './demo.js';
import {
  deliverLiveEvent,
  LIVE_EVENTS_PATHS,
  liveEventEnvelope,
  signLiveEvent,
  type LiveEventInput,
  type LiveEventSignOptions,
} from './live-events.js';
import { createLaunch, launchStartPath, loginParams, loginUrlWithQuery } from './oidc.js';
import { issueRegistrationToken } from './registration.js';
import type { StorageTamper } from './storage.js';
import type {
  Course,
  CourseInput,
  CourseRole,
  Enrolment,
  Flavour,
  GradeResult,
  LaunchOptions,
  LineItemInput,
  MemberStatus,
  PendingLaunch,
  PlatformRegistrationInfo,
  PlatformUser,
  ToolClient,
  UserInput,
} from './types.js';

export interface PreparedLaunch extends PendingLaunch {
  /** Platform page that auto-POSTs the login initiation to the tool. */
  startUrl: string;
  /** Platform URL that redirects (GET) to the tool's login initiation with the parameters in the query. */
  startUrlGet: string;
  /** The tool's login initiation URL with the parameters in the query (the GET variant, direct). */
  loginUrl: string;
  params: Record<string, string>;
}

export class TestPlatform {
  constructor(
    private readonly ctx: PlatformContext,
    private readonly server: Server,
    readonly demo: DemoData | undefined,
  ) {}

  get flavour(): Flavour {
    return this.ctx.profile.flavour;
  }
  get name(): string {
    return this.ctx.name;
  }
  get url(): string {
    return this.ctx.url;
  }
  get issuer(): string {
    return this.ctx.issuer;
  }
  get toolUrl(): string {
    return this.ctx.toolUrl;
  }
  get clientId(): string {
    return this.ctx.defaultClientId;
  }
  get deploymentId(): string {
    return this.client().deploymentIds[0];
  }
  get authLoginUrl(): string {
    return absolute(this.ctx, PATHS.auth);
  }
  get authTokenUrl(): string {
    return absolute(this.ctx, PATHS.token);
  }
  get jwksUrl(): string {
    return absolute(this.ctx, PATHS.jwks);
  }
  get openidConfigurationUrl(): string {
    return absolute(this.ctx, PATHS.openidConfiguration);
  }
  get registrationEndpoint(): string {
    return absolute(this.ctx, PATHS.register);
  }
  get deepLinkReturnUrl(): string {
    return absolute(this.ctx, PATHS.deepLinkReturn);
  }

  /** A registered tool: the pre-configured one by default, or one made by dynamic registration. */
  client(clientId = this.clientId): ToolClient {
    return this.ctx.store.client(clientId);
  }

  /** Installs the tool once more (a Canvas sub-account, a Moodle tool type): a new deployment id. */
  addDeployment(clientId = this.clientId): string {
    const deploymentId = this.ctx.store.newDeploymentId();
    this.client(clientId).deploymentIds.push(deploymentId);
    return deploymentId;
  }

  /** The body of Laurel's `POST /api/v1/platforms` for this platform. */
  registrationInfo(clientId = this.clientId): PlatformRegistrationInfo {
    return {
      name: this.name,
      lms: this.flavour,
      issuer: this.issuer,
      clientId,
      authLoginUrl: this.authLoginUrl,
      authTokenUrl: this.authTokenUrl,
      jwksUrl: this.jwksUrl,
      deploymentIds: [...this.client(clientId).deploymentIds],
    };
  }

  addCourse(input: CourseInput): Course {
    return this.ctx.store.addCourse(input);
  }
  addUser(input: UserInput): PlatformUser {
    return this.ctx.store.addUser(input);
  }
  enrol(courseId: string, sub: string, roles: CourseRole[], status: MemberStatus = 'Active'): Enrolment {
    return this.ctx.store.enrol(courseId, sub, roles, status);
  }
  unenrol(courseId: string, sub: string): void {
    this.ctx.store.unenrol(courseId, sub);
  }
  course(id: string): Course {
    return this.ctx.store.course(id);
  }
  user(sub: string): PlatformUser {
    return this.ctx.store.user(sub);
  }
  members(courseId: string): { user: PlatformUser; enrolment: Enrolment }[] {
    return this.ctx.store.members(courseId);
  }

  /** Adds a gradebook column owned by a tool (default: the pre-configured one); `url` is its AGS id. */
  addLineItem(courseId: string, input: LineItemInput): { id: string; url: string } & Record<string, unknown> {
    const item = this.ctx.store.addLineItem(courseId, {
      ...input,
      clientId: input.clientId ?? this.clientId,
    });
    return { ...lineItemView(this.ctx, item), id: item.id, url: lineItemUrl(this.ctx, courseId, item.id) };
  }
  lineItems(courseId: string, clientId?: string): Record<string, unknown>[] {
    return this.ctx.store
      .lineItems(courseId, clientId)
      .map((i) => ({ ...lineItemView(this.ctx, i), localId: i.id }));
  }
  /** Sets a learner's result on a line item, as a teacher grading in the LMS would. */
  setResult(
    courseId: string,
    lineItemId: string,
    sub: string,
    resultScore: number,
    resultMaximum: number,
    comment?: string,
  ): GradeResult {
    if (!this.ctx.store.lineItem(courseId, lineItemId))
      throw new Error(`no line item ${lineItemId} in ${courseId}`);
    this.ctx.store.user(sub);
    return this.ctx.store.setResult({
      lineItemId,
      sub,
      resultScore,
      resultMaximum,
      ...(comment !== undefined ? { comment } : {}),
      timestamp: new Date().toISOString(),
    });
  }
  result(courseId: string, lineItemId: string, sub: string): GradeResult | undefined {
    return this.ctx.store.lineItem(courseId, lineItemId) ? this.ctx.store.result(lineItemId, sub) : undefined;
  }
  lineItemsUrl(courseId: string): string {
    return lineItemsUrl(this.ctx, courseId);
  }
  lineItemUrl(courseId: string, lineItemId: string): string {
    return lineItemUrl(this.ctx, courseId, lineItemId);
  }
  membershipsUrl(courseId: string): string {
    return membershipsUrl(this.ctx, courseId);
  }

  /** Prepares a launch and tells every way to start it. */
  prepareLaunch(opts: LaunchOptions): PreparedLaunch {
    const launch = createLaunch(this.ctx, opts);
    return {
      ...launch,
      startUrl: `${this.url}${launchStartPath(launch, 'POST')}`,
      startUrlGet: `${this.url}${launchStartPath(launch, 'GET')}`,
      loginUrl: loginUrlWithQuery(this.ctx, launch),
      params: loginParams(this.ctx, launch),
    };
  }
  /** URL of a platform page that starts the launch: auto-POST form (default) or a redirect with the query (GET). */
  launchStartUrl(opts: LaunchOptions & { method?: 'POST' | 'GET' }): string {
    const launch = this.prepareLaunch(opts);
    return opts.method === 'GET' ? launch.startUrlGet : launch.startUrl;
  }
  /** The tool's login initiation URL with the parameters in the query string. */
  loginInitiationUrl(opts: LaunchOptions): string {
    return this.prepareLaunch(opts).loginUrl;
  }

  /** `toolUrl/lti/register?openid_configuration=…&registration_token=…` with a fresh one-time token. */
  registrationStartUrl(opts: { registrationUrl?: string } = {}): string {
    const url = new URL(opts.registrationUrl ?? `${this.toolUrl}/lti/register`);
    url.searchParams.set('openid_configuration', this.openidConfigurationUrl);
    url.searchParams.set('registration_token', issueRegistrationToken(this.ctx));
    return url.toString();
  }

  /** The frame name the platform sends as `lti_storage_target`, or null when it offers no platform storage. */
  get storageTarget(): string | null {
    return this.ctx.storageTarget;
  }
  /** Spoils the storage frame's lti.get_data answers from the next page load on (undefined: honest again). */
  tamperStorage(tamper: StorageTamper | undefined): void {
    this.ctx.storageTamper = tamper;
  }

  /** Publishes a new signing key (the old one stays in the JWKS); returns its kid. */
  rotateKeys(): string {
    return this.ctx.keys.rotate().kid;
  }
  get kid(): string {
    return this.ctx.keys.kid;
  }
  /** Makes every access token issued so far expire now, so tools must ask for new ones. */
  expireAccessTokens(): void {
    for (const token of this.ctx.store.accessTokens.values()) token.expiresAt = Date.now() - 1;
  }

  // --- Canvas Live Events -------------------------------------------------------------------------------

  /** The key set that signs this platform's Live Events (Instructure's, for a real Canvas). */
  get liveEventsJwksUrl(): string {
    return absolute(this.ctx, LIVE_EVENTS_PATHS.jwks);
  }
  /** The root account: global id, uuid, lti guid (= `root_account_lti_guid`), lti_context_id (Data Services URL). */
  get rootAccount() {
    return { ...this.ctx.liveEvents.rootAccount };
  }
  /** Publishes a new Live Events signing key (the old one stays listed); returns its kid. */
  rotateLiveEventKeys(): string {
    return this.ctx.liveEvents.keys.rotate().kid;
  }
  /** The `{ metadata, body }` of a Live Event, with Canvas-shaped metadata (global ids). */
  liveEvent(input: LiveEventInput): Record<string, unknown> {
    return liveEventEnvelope(this.ctx, input);
  }
  /** A signed delivery (compact RS256 JWT) of an envelope. */
  signLiveEvent(envelope: Record<string, unknown>, options?: LiveEventSignOptions): string {
    return signLiveEvent(this.ctx, envelope, options);
  }
  /** POSTs a delivery (a token, or an envelope signed now) to `url`, as Canvas's HTTPS delivery does. */
  async deliverLiveEvent(
    url: string,
    event: string | Record<string, unknown>,
    options: LiveEventSignOptions & { asJsonString?: boolean } = {},
  ): Promise<{ status: number; body: any }> {
    const token = typeof event === 'string' ? event : this.signLiveEvent(event, options);
    const name =
      typeof event === 'string' ? '' : String((event.metadata as { event_name?: unknown }).event_name ?? '');
    return deliverLiveEvent(this.ctx, url, token, { asJsonString: options.asJsonString, eventName: name });
  }
  /**
   * Emits a Live Event to every active HTTPS subscription that asked for its type (what Canvas does when the
   * event happens); returns the deliveries' answers.
   */
  async emitLiveEvent(input: LiveEventInput): Promise<{ url: string; status: number; body: any }[]> {
    const envelope = this.liveEvent(input);
    const out: { url: string; status: number; body: any }[] = [];
    for (const sub of this.ctx.liveEvents.subscriptions) {
      if (
        sub.State !== 'Active' ||
        sub.TransportType !== 'https' ||
        !sub.EventTypes.includes(input.eventName)
      )
        continue;
      const answer = await this.deliverLiveEvent(sub.TransportMetadata.Url, envelope);
      out.push({ url: sub.TransportMetadata.Url, ...answer });
    }
    return out;
  }
  get liveEventSubscriptions() {
    return this.ctx.liveEvents.subscriptions;
  }
  get liveEventDeliveries() {
    return this.ctx.liveEvents.deliveries;
  }

  get deepLinkResponses() {
    return this.ctx.store.deepLinkResponses;
  }
  get scoresReceived() {
    return this.ctx.store.scoresReceived;
  }
  get registrations() {
    return this.ctx.store.registrations;
  }
  get tokensIssued() {
    return this.ctx.store.tokensIssued;
  }
  get idTokensIssued() {
    return this.ctx.store.idTokensIssued;
  }
  /** Every refused request (authorisation, token, services, deep-link return, registration), oldest first. */
  get refusals() {
    return this.ctx.store.refusals;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
