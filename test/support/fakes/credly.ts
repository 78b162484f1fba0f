import { randomUUID } from 'node:crypto';
import { FakeService, type Reply } from './server.js';

/**
 * A local Credly (Web Service API v1) that follows ../shared/reference/credly-accredible-api.md §1:
 * `/v1/organizations/{org}/…`, HTTP Basic with the token as user and an empty password, list replies
 * `{ data, metadata }` with an absolute `next_page_url`, 201 on issue, duplicates and validation
 * refused with 422, revocation by PUT …/revoke, events readable at …/events/{id}, and an optional
 * per-minute rate limit answered 429 with Retry-After. Faults are injected with `inject`.
 */

export type FakeCredlyTemplate = {
  id: string;
  name: string;
  description: string;
  state: 'active' | 'archived' | 'draft';
  image_url: string;
  url: string;
  allow_duplicate_badges: boolean;
  updated_at: string;
};
export type FakeCredlyBadge = {
  id: string;
  state: 'pending' | 'accepted' | 'rejected' | 'revoked';
  recipient_email: string;
  issued_to_first_name: string;
  issued_to_last_name: string;
  issuer_earner_id: string | null;
  issued_at: string;
  expires_at: string | null;
  badge_template: { id: string; state: string };
  revocation_reason: string | null;
  replacement_badge_id: null;
};
type FakeEvent = { id: string; event_type: string; organization_id: string; occurred_at: string } & Record<
  string,
  unknown
>;

const ISSUED_AT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

export class FakeCredly extends FakeService {
  readonly organizationId: string;
  readonly token: string;
  readonly templates: FakeCredlyTemplate[] = [];
  readonly badges: FakeCredlyBadge[] = [];
  readonly events = new Map<string, FakeEvent>();
  /** Page size of lists (Credly's default is 50). */
  per = 50;
  /** At most this many requests a minute (Credly publishes no number; off by default). */
  rateLimitPerMinute: number | null = null;
  private window = { start: 0, count: 0 };

  constructor(options: { organizationId?: string; token?: string; name?: string } = {}) {
    super((req) => this.route(req.method, req.url, req.body, req.authorization));
    this.organizationId = options.organizationId ?? '11111111-1111-4111-8111-111111111111';
    this.token = options.token ?? 'credly-test-token-0001';
    this.orgName = options.name ?? 'Acme Learning';
  }
  private readonly orgName: string;

  /** The `baseUrl` Laurel is given: Laurel calls `<baseUrl>/organizations/…`. */
  get baseUrl(): string {
    return `${this.url}/v1`;
  }

  addTemplate(over: Partial<FakeCredlyTemplate> = {}): FakeCredlyTemplate {
    const n = this.templates.length + 1;
    const t: FakeCredlyTemplate = {
      id: over.id ?? `aaaaaaaa-0000-4000-8000-${String(n).padStart(12, '0')}`,
      name: `Template ${n}`,
      description: `Description ${n}`,
      state: 'active',
      image_url: `https://cdn.example.test/t${n}.png`,
      url: `https://www.credly.com/org/acme/badge/template-${n}`,
      allow_duplicate_badges: false,
      updated_at: new Date().toISOString(),
      ...over,
    };
    this.templates.push(t);
    return t;
  }

  /** Records an event as Credly would, and answers the thin notification its webhook POSTs. */
  addEvent(eventType: string, object: { badge?: FakeCredlyBadge; badge_template?: FakeCredlyTemplate }) {
    const event: FakeEvent = {
      id: randomUUID(),
      event_type: eventType,
      organization_id: this.organizationId,
      occurred_at: new Date().toISOString(),
      ...(object.badge ? { badge: { ...object.badge } } : {}),
      ...(object.badge_template
        ? {
            badge_template: {
              ...object.badge_template,
              owner: { type: 'Organization', id: this.organizationId },
            },
          }
        : {}),
    };
    this.events.set(event.id, event);
    return {
      id: event.id,
      organization_id: event.organization_id,
      event_type: event.event_type,
      occurred_at: event.occurred_at,
    };
  }

  /** What this stand-in holds, in words. */
  summary(): string {
    const lines = [
      `Local Credly stand-in for organisation ${this.organizationId} (${this.orgName})`,
      '',
      'Badge templates:',
      ...this.templates.map((t) => `  ${t.name} [${t.state}] ${t.id}`),
      '',
      'Badges issued:',
      ...(this.badges.length
        ? this.badges.map(
            (b) =>
              `  ${b.issued_to_first_name} ${b.issued_to_last_name} <${b.recipient_email}>: ${
                this.templates.find((t) => t.id === b.badge_template.id)?.name ?? b.badge_template.id
              } [${b.state}] ${b.id}`,
          )
        : ['  (none yet)']),
    ];
    return `${lines.join('\n')}\n`;
  }

  private error(status: number, message: string, field?: string): Reply {
    return { status, body: { errors: [{ message, ...(field ? { field } : {}) }] } };
  }

  private limited(): Reply | null {
    if (this.rateLimitPerMinute === null) return null;
    const now = Date.now();
    if (now - this.window.start >= 60_000) this.window = { start: now, count: 0 };
    this.window.count++;
    if (this.window.count <= this.rateLimitPerMinute) return null;
    const wait = Math.ceil((this.window.start + 60_000 - now) / 1000);
    return {
      status: 429,
      body: { errors: [{ message: 'Too Many Requests' }] },
      headers: { 'retry-after': String(wait) },
    };
  }

  private list<T>(items: T[], url: URL): Reply {
    const page = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1);
    const totalPages = Math.max(1, Math.ceil(items.length / this.per));
    const slice = items.slice((page - 1) * this.per, page * this.per);
    const pageUrl = (p: number) => {
      const u = new URL(url.toString());
      u.searchParams.set('page', String(p));
      return u.toString();
    };
    return {
      status: 200,
      body: {
        data: slice,
        metadata: {
          count: slice.length,
          current_page: page,
          total_count: items.length,
          total_pages: totalPages,
          per: this.per,
          previous_page_url: page > 1 ? pageUrl(page - 1) : null,
          next_page_url: page < totalPages ? pageUrl(page + 1) : null,
        },
      },
    };
  }

  /** `key::value|key::value` filters, as Credly takes them. */
  private filtered<T extends Record<string, unknown>>(
    items: T[],
    url: URL,
    keyOf: (item: T, key: string) => unknown,
  ) {
    const filter = url.searchParams.get('filter');
    if (!filter) return items;
    const pairs = filter.split('|').map((p) => p.split('::') as [string, string]);
    return items.filter((item) => pairs.every(([k, v]) => String(keyOf(item, k) ?? '') === v));
  }

  private route(method: string, url: URL, body: unknown, authorization: string | undefined): Reply {
    // Not Credly's: the demo's page of what was issued here, for people trying Laurel.
    if (method === 'GET' && url.pathname === '/') return { status: 200, text: this.summary() };
    const expected = `Basic ${Buffer.from(`${this.token}:`).toString('base64')}`;
    const prefix = `/v1/organizations/${this.organizationId}`;
    if (!url.pathname.startsWith('/v1/organizations/')) return this.error(404, 'Not Found');
    if (authorization !== expected) return this.error(401, 'Unauthorized');
    if (!url.pathname.startsWith(prefix)) return this.error(403, 'Organization not permitted');
    const limited = this.limited();
    if (limited) return limited;
    const rest = url.pathname.slice(prefix.length).replace(/\/$/, '');
    let m: RegExpExecArray | null;
    if (method === 'GET' && rest === '')
      return {
        status: 200,
        body: { data: { id: this.organizationId, name: this.orgName, webhook_url: null } },
      };
    if (method === 'GET' && rest === '/badge_templates')
      return this.list(
        this.filtered(this.templates, url, (t, k) => (t as Record<string, unknown>)[k]),
        url,
      );
    if (method === 'GET' && (m = /^\/badge_templates\/([^/]+)$/.exec(rest))) {
      const t = this.templates.find((x) => x.id === m![1]);
      return t ? { status: 200, body: { data: t } } : this.error(404, 'Not Found');
    }
    if (method === 'POST' && rest === '/badges') return this.issue(body as Record<string, unknown>);
    if (method === 'GET' && rest === '/badges')
      return this.list(
        this.filtered(this.badges, url, (b, k) =>
          k === 'badge_template_id' ? b.badge_template.id : (b as Record<string, unknown>)[k],
        ),
        url,
      );
    if (method === 'GET' && (m = /^\/badges\/([^/]+)$/.exec(rest))) {
      const b = this.badges.find((x) => x.id === m![1]);
      return b ? { status: 200, body: { data: b, metadata: {} } } : this.error(404, 'Not Found');
    }
    if (method === 'PUT' && (m = /^\/badges\/([^/]+)\/revoke$/.exec(rest))) {
      const b = this.badges.find((x) => x.id === m![1]);
      if (!b) return this.error(404, 'Not Found');
      const reason = (body as { reason?: unknown } | null)?.reason;
      if (typeof reason !== 'string' || !reason) return this.error(422, "can't be blank", 'reason');
      if (b.state === 'revoked') return this.error(422, 'Badge has already been revoked');
      b.state = 'revoked';
      b.revocation_reason = reason;
      return { status: 200, body: { data: b, metadata: {} } };
    }
    if (method === 'GET' && (m = /^\/events\/([^/]+)$/.exec(rest))) {
      const e = this.events.get(m[1]!);
      return e ? { status: 200, body: { data: e } } : this.error(404, 'Not Found');
    }
    return this.error(404, 'Not Found');
  }

  private issue(body: Record<string, unknown> | null): Reply {
    const b = body ?? {};
    for (const field of [
      'recipient_email',
      'issued_to_first_name',
      'issued_to_last_name',
      'badge_template_id',
      'issued_at',
    ])
      if (typeof b[field] !== 'string' || !b[field]) return this.error(422, "can't be blank", field);
    if (!ISSUED_AT.test(b.issued_at as string))
      return this.error(422, 'must look like YYYY-MM-DD HH:MM:SS +ZZZZ', 'issued_at');
    const template = this.templates.find((t) => t.id === b.badge_template_id);
    if (!template) return this.error(422, 'is invalid', 'badge_template_id');
    if (template.state !== 'active')
      return this.error(422, 'Badge template is not active', 'badge_template_id');
    const duplicate = this.badges.find(
      (x) =>
        x.badge_template.id === template.id &&
        x.state !== 'revoked' &&
        (x.recipient_email === b.recipient_email ||
          (b.issuer_earner_id != null && x.issuer_earner_id === b.issuer_earner_id)),
    );
    if (duplicate && !template.allow_duplicate_badges)
      return {
        status: 422,
        body: { data: { message: 'User has already been issued this badge' }, metadata: {} },
      };
    const badge: FakeCredlyBadge = {
      id: randomUUID(),
      state: 'pending',
      recipient_email: b.recipient_email as string,
      issued_to_first_name: b.issued_to_first_name as string,
      issued_to_last_name: b.issued_to_last_name as string,
      issuer_earner_id: (b.issuer_earner_id as string | undefined) ?? null,
      issued_at: new Date().toISOString(),
      expires_at: (b.expires_at as string | null | undefined) ?? null,
      badge_template: { id: template.id, state: template.state },
      revocation_reason: null,
      replacement_badge_id: null,
    };
    this.badges.push(badge);
    return { status: 201, body: { data: badge, metadata: {} } };
  }
}
