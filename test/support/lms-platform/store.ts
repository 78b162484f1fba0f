/**
 * The platform's memory: roster (courses, people, enrolments), registered tools, resource links, gradebook,
 * the short-lived protocol state (launches in flight, tokens, used jtis) and what it recorded for tests.
 */
import type { FlavourProfile } from './flavour.js';
import type {
  AccessToken,
  Course,
  CourseInput,
  CourseRole,
  DeepLinkResponseRecord,
  Enrolment,
  GradeResult,
  IssuedIdToken,
  LineItem,
  LineItemInput,
  MemberStatus,
  PendingLaunch,
  PlatformUser,
  Refusal,
  RegistrationRecord,
  ResourceLink,
  ScoreReceived,
  ToolClient,
  UserInput,
} from './types.js';

export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}

export interface DeepLinkRequestState {
  clientId: string;
  deploymentId: string;
  courseId: string;
  sub: string;
  expiresAt: number;
}

export class PlatformStore {
  readonly courses = new Map<string, Course>();
  readonly users = new Map<string, PlatformUser>();
  private readonly enrolments = new Map<string, Map<string, Enrolment>>();
  readonly clients = new Map<string, ToolClient>();
  readonly resourceLinks = new Map<string, ResourceLink>();
  private readonly lineItemsById = new Map<string, LineItem>();
  private readonly results = new Map<string, Map<string, GradeResult>>();
  /** Launches in flight, by launch id (the authorisation endpoint finds them by lti_message_hint). */
  readonly launches = new Map<string, PendingLaunch>();
  /** Deep-linking requests in flight, by the opaque `data` the platform sent. */
  readonly deepLinkRequests = new Map<string, DeepLinkRequestState>();
  readonly accessTokens = new Map<string, AccessToken>();
  /** `clientId jti` → expiry (ms) of client assertions already used. */
  readonly usedJtis = new Map<string, number>();
  /** Registration tokens issued, by their jti. */
  readonly registrationTokens = new Map<string, { clientId: string; used: boolean }>();

  readonly deepLinkResponses: DeepLinkResponseRecord[] = [];
  readonly scoresReceived: ScoreReceived[] = [];
  readonly registrations: RegistrationRecord[] = [];
  readonly tokensIssued: AccessToken[] = [];
  readonly idTokensIssued: IssuedIdToken[] = [];
  readonly refusals: Refusal[] = [];

  private nextUser: number;
  private nextCourse: number;
  private nextResourceLink = 1;
  private nextLineItem = 1;
  private nextClient = 1;
  private nextDeployment = 1;

  constructor(readonly profile: FlavourProfile) {
    this.nextUser = profile.firstUserId;
    this.nextCourse = profile.firstCourseId;
  }

  newCourseId(): string {
    while (this.courses.has(String(this.nextCourse))) this.nextCourse++;
    return String(this.nextCourse++);
  }

  addCourse(input: CourseInput): Course {
    const course: Course = {
      id: input.id,
      contextId: input.contextId ?? this.profile.contextIdFor(input.id),
      title: input.title,
      label: input.label ?? shortLabel(input.title),
      ...(input.sourcedId !== undefined ? { sourcedId: input.sourcedId } : {}),
    };
    this.courses.set(course.id, course);
    if (!this.enrolments.has(course.id)) this.enrolments.set(course.id, new Map());
    return course;
  }

  course(id: string): Course {
    const course = this.courses.get(id);
    if (!course) throw new NotFoundError(`course ${id}`);
    return course;
  }

  addUser(input: UserInput): PlatformUser {
    const moodleStyle = this.profile.flavour === 'moodle';
    const lmsUserId = input.lmsUserId ?? (moodleStyle && input.sub ? input.sub : this.newUserId());
    const [first, ...rest] = input.name.trim().split(' ');
    const givenName = input.givenName ?? first;
    const familyName = input.familyName ?? rest.join(' ');
    const email =
      input.email ?? `${[givenName, familyName].filter(Boolean).join('.')}@example.edu`.toLowerCase();
    const user: PlatformUser = {
      sub: input.sub ?? this.profile.subFor(lmsUserId),
      lmsUserId,
      name: input.name,
      givenName,
      familyName,
      email,
      username: input.username ?? email.split('@')[0],
      admin: input.admin ?? false,
      ...(input.sourcedId !== undefined ? { sourcedId: input.sourcedId } : {}),
      ...(input.picture !== undefined ? { picture: input.picture } : {}),
    };
    this.users.set(user.sub, user);
    for (const [courseId, roles] of Object.entries(input.roles ?? {})) this.enrol(courseId, user.sub, roles);
    return user;
  }

  private newUserId(): string {
    const taken = new Set([...this.users.values()].map((u) => u.lmsUserId));
    while (taken.has(String(this.nextUser))) this.nextUser++;
    return String(this.nextUser++);
  }

  user(sub: string): PlatformUser {
    const user = this.users.get(sub);
    if (!user) throw new NotFoundError(`user ${sub}`);
    return user;
  }

  enrol(courseId: string, sub: string, roles: CourseRole[], status: MemberStatus = 'Active'): Enrolment {
    this.course(courseId);
    this.user(sub);
    const enrolment: Enrolment = { courseId, sub, roles: [...roles], status };
    this.enrolments.get(courseId)!.set(sub, enrolment);
    return enrolment;
  }

  unenrol(courseId: string, sub: string): void {
    this.enrolments.get(courseId)?.delete(sub);
  }

  enrolment(courseId: string, sub: string): Enrolment | undefined {
    return this.enrolments.get(courseId)?.get(sub);
  }

  members(courseId: string): { user: PlatformUser; enrolment: Enrolment }[] {
    this.course(courseId);
    return [...this.enrolments.get(courseId)!.values()].map((enrolment) => ({
      user: this.user(enrolment.sub),
      enrolment,
    }));
  }

  newClientId(): string {
    let id = this.profile.newClientId(this.nextClient++);
    while (this.clients.has(id)) id = this.profile.newClientId(this.nextClient++);
    return id;
  }

  newDeploymentId(): string {
    return this.profile.newDeploymentId(this.nextDeployment++);
  }

  client(clientId: string): ToolClient {
    const client = this.clients.get(clientId);
    if (!client) throw new NotFoundError(`client ${clientId}`);
    return client;
  }

  addResourceLink(link: Omit<ResourceLink, 'id'> & { id?: string }): ResourceLink {
    const id = link.id ?? this.profile.newResourceLinkId(this.nextResourceLink++);
    const created: ResourceLink = { ...link, id };
    this.resourceLinks.set(id, created);
    return created;
  }

  /**
   * The link a launch without an explicit resource link uses: one per course and tool. On Moodle it is an
   * External tool activity, which owns a grade item; on Canvas it is the course navigation placement (ungraded).
   */
  defaultResourceLink(courseId: string, clientId: string): ResourceLink {
    const existing = [...this.resourceLinks.values()].find(
      (l) => l.courseId === courseId && l.clientId === clientId && l.title === this.defaultLinkTitle(),
    );
    if (existing) return existing;
    const link = this.addResourceLink({ courseId, clientId, title: this.defaultLinkTitle() });
    if (this.profile.flavour === 'moodle') {
      const item = this.addLineItem(courseId, {
        label: link.title,
        scoreMaximum: 100,
        resourceLinkId: link.id,
        clientId,
      });
      link.lineItemId = item.id;
    }
    return link;
  }

  private defaultLinkTitle(): string {
    return this.profile.flavour === 'moodle' ? 'Laurel badges' : 'Badges';
  }

  addLineItem(courseId: string, input: LineItemInput & { clientId: string }): LineItem {
    this.course(courseId);
    const item: LineItem = {
      id: String(this.nextLineItem++),
      courseId,
      clientId: input.clientId,
      label: input.label,
      scoreMaximum: input.scoreMaximum,
      ...(input.resourceId !== undefined ? { resourceId: input.resourceId } : {}),
      ...(input.tag !== undefined ? { tag: input.tag } : {}),
      ...(input.resourceLinkId !== undefined ? { resourceLinkId: input.resourceLinkId } : {}),
    };
    this.lineItemsById.set(item.id, item);
    this.results.set(item.id, new Map());
    return item;
  }

  lineItem(courseId: string, id: string): LineItem | undefined {
    const item = this.lineItemsById.get(id);
    return item && item.courseId === courseId ? item : undefined;
  }

  lineItems(courseId: string, clientId?: string): LineItem[] {
    return [...this.lineItemsById.values()].filter(
      (i) => i.courseId === courseId && (clientId === undefined || i.clientId === clientId),
    );
  }

  deleteLineItem(id: string): void {
    this.lineItemsById.delete(id);
    this.results.delete(id);
  }

  setResult(result: GradeResult): GradeResult {
    const forItem = this.results.get(result.lineItemId);
    if (!forItem) throw new NotFoundError(`line item ${result.lineItemId}`);
    forItem.set(result.sub, result);
    return result;
  }

  clearResult(lineItemId: string, sub: string): void {
    this.results.get(lineItemId)?.delete(sub);
  }

  result(lineItemId: string, sub: string): GradeResult | undefined {
    return this.results.get(lineItemId)?.get(sub);
  }

  resultsFor(lineItemId: string): GradeResult[] {
    return [...(this.results.get(lineItemId)?.values() ?? [])];
  }

  refuse(endpoint: string, error: string, description: string): Refusal {
    const refusal: Refusal = { endpoint, error, description, at: new Date() };
    this.refusals.push(refusal);
    return refusal;
  }
}

/** "Chemistry 101" → "CHEM101"-like short names, as course shortnames usually look. */
function shortLabel(title: string): string {
  const words = title.split(' ').filter(Boolean);
  const digits = words.filter((w) => [...w].every((c) => c >= '0' && c <= '9')).join('');
  const letters = words
    .filter((w) => ![...w].every((c) => c >= '0' && c <= '9'))
    .map((w) => w.slice(0, words.length > 1 ? 4 : 8))
    .join('')
    .toUpperCase();
  return `${letters.slice(0, 8)}${digits}`;
}
