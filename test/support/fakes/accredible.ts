import { FakeService, type Reply } from './server.js';

/**
 * A local Accredible API that follows ../shared/reference/credly-accredible-api.md §2: paths under
 * `/v1/` (credential search under `/v2/`), `Authorization: Token token=<key>` (Rails also takes
 * `Bearer <key>`), groups paged with `meta.next_page`, credentials created with 200, no duplicate
 * protection (each POST makes a new credential), errors in its varied shapes (401 plain text,
 * 422 `{ errors: "…" }`), and an optional rate limit answered 429 without Retry-After.
 */

export type FakeGroup = {
  id: number;
  name: string;
  course_name: string;
  course_description: string;
  course_link: string | null;
  primary_design_id: number | null;
  created_at: string;
  updated_at: string;
};
export type FakeAccredibleCredential = {
  id: number;
  encoded_id: string;
  url: string;
  group_id: number;
  group_name: string;
  issued_on: string;
  expired_on: string | null;
  approve: boolean;
  complete: boolean;
  recipient: { id: string | null; name: string; email: string };
};

export class FakeAccredible extends FakeService {
  readonly apiKey: string;
  readonly groups: FakeGroup[] = [];
  readonly credentials: FakeAccredibleCredential[] = [];
  readonly designs = new Map<number, string>();
  /** At most this many requests per 30 s bucket (off by default). */
  rateLimitPer30s: number | null = null;
  private bucket = { start: 0, count: 0 };
  private nextCredentialId = 20000001;

  constructor(options: { apiKey?: string } = {}) {
    super((req) => this.route(req.method, req.url, req.body, req.authorization));
    this.apiKey = options.apiKey ?? 'accredible-test-key-0001';
  }

  /** The `baseUrl` Laurel is given: Laurel calls `<baseUrl>/v1/…`. */
  get baseUrl(): string {
    return this.url;
  }

  addGroup(over: Partial<FakeGroup> = {}): FakeGroup {
    const n = this.groups.length + 1;
    const designId = 500 + n;
    this.designs.set(designId, `https://cdn.example.test/d${designId}.png`);
    const g: FakeGroup = {
      id: 1000 + n,
      name: `group-${n}`,
      course_name: `Course ${n}`,
      course_description: `Pass course ${n}`,
      course_link: `https://courses.example.test/${n}`,
      primary_design_id: designId,
      created_at: '2024-01-02T10:00:00.000Z',
      updated_at: '2024-01-02T10:00:00.000Z',
      ...over,
    };
    this.groups.push(g);
    return g;
  }

  private limited(): Reply | null {
    if (this.rateLimitPer30s === null) return null;
    const now = Date.now();
    if (now - this.bucket.start >= 30_000) this.bucket = { start: now, count: 0 };
    this.bucket.count++;
    return this.bucket.count > this.rateLimitPer30s ? { status: 429, text: 'Too Many Requests' } : null;
  }

  private groupsPage(page: number, pageSize: number): Reply {
    const size = Math.min(Math.max(1, pageSize || 50), 100);
    const totalPages = Math.max(1, Math.ceil(this.groups.length / size));
    const p = Math.max(1, page || 1);
    return {
      status: 200,
      body: {
        groups: this.groups.slice((p - 1) * size, p * size),
        meta: {
          current_page: p,
          next_page: p < totalPages ? p + 1 : null,
          prev_page: p > 1 ? p - 1 : null,
          total_pages: totalPages,
          total_count: this.groups.length,
        },
      },
    };
  }

  private route(method: string, url: URL, body: unknown, authorization: string | undefined): Reply {
    if (authorization !== `Token token=${this.apiKey}` && authorization !== `Bearer ${this.apiKey}`)
      return { status: 401, text: 'HTTP Token: Access denied.' };
    const limited = this.limited();
    if (limited) return limited;
    const path = url.pathname.replace(/\/$/, '');
    const b = (body ?? {}) as Record<string, any>;
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/v1/issuer/all_groups')
      return this.groupsPage(Number(url.searchParams.get('page')), Number(url.searchParams.get('page_size')));
    if (method === 'POST' && path === '/v1/issuer/groups/search')
      return this.groupsPage(Number(b.page), Number(b.page_size));
    if (method === 'GET' && (m = /^\/v1\/issuer\/groups\/(\d+)$/.exec(path))) {
      const g = this.groups.find((x) => x.id === Number(m![1]));
      return g
        ? { status: 200, body: { group: g } }
        : { status: 404, body: { success: false, data: 'Group does not exist' } };
    }
    if (method === 'GET' && (m = /^\/v1\/designs\/(\d+)$/.exec(path))) {
      const image = this.designs.get(Number(m[1]));
      return image
        ? { status: 200, body: { design: { id: Number(m[1]), rasterized_content_url: image } } }
        : { status: 404, body: { error: 'Not found' } };
    }
    if (method === 'POST' && path === '/v1/credentials') return this.create(b.credential);
    if (method === 'POST' && path === '/v2/credentials/search') {
      const q = (b.query ?? {}) as Record<string, unknown>;
      const found = this.credentials.filter(
        (c) =>
          (q['group.id'] === undefined || c.group_id === Number(q['group.id'])) &&
          (q.recipient_id === undefined || c.recipient.id === String(q.recipient_id)),
      );
      return {
        status: 200,
        body: { credentials: found, meta: { current_page: 1, next_page: null, total_count: found.length } },
      };
    }
    if ((m = /^\/v1\/credentials\/(\d+)$/.exec(path))) {
      const c = this.credentials.find((x) => x.id === Number(m![1]));
      if (!c) return { status: 404, body: { errors: 'Not found' } };
      if (method === 'GET') return { status: 200, body: { credential: c } };
      if (method === 'PUT') {
        const change = (b.credential ?? {}) as Partial<FakeAccredibleCredential>;
        if (change.expired_on !== undefined) c.expired_on = change.expired_on;
        if (change.approve !== undefined) c.approve = change.approve;
        return { status: 200, body: { credential: c } };
      }
      if (method === 'DELETE') {
        this.credentials.splice(this.credentials.indexOf(c), 1);
        return { status: 200, body: { credential: c } };
      }
    }
    return { status: 404, body: { error: 'Not found' } };
  }

  private create(input: Record<string, any> | undefined): Reply {
    if (!input || typeof input !== 'object')
      return { status: 422, body: { errors: 'credential is required' } };
    const group = this.groups.find((g) => g.id === Number(input.group_id) || g.name === input.group_name);
    if (!group) return { status: 422, body: { errors: 'Invalid Group' } };
    const r = (input.recipient ?? {}) as Record<string, unknown>;
    if (typeof r.email !== 'string' || !r.email)
      return { status: 422, body: { errors: { 'recipient.email': ["can't be blank"] } } };
    if (typeof r.name !== 'string' || !r.name)
      return { status: 422, body: { errors: { 'recipient.name': ["can't be blank"] } } };
    const id = this.nextCredentialId++;
    const c: FakeAccredibleCredential = {
      id,
      encoded_id: `enc${id}`,
      url: `https://www.credential.net/${id}`,
      group_id: group.id,
      group_name: group.name,
      issued_on:
        typeof input.issued_on === 'string' ? input.issued_on : new Date().toISOString().slice(0, 10),
      expired_on: typeof input.expired_on === 'string' ? input.expired_on : null,
      approve: input.approve !== false,
      complete: input.complete !== false,
      recipient: { id: r.id == null ? null : String(r.id), name: r.name, email: r.email },
    };
    this.credentials.push(c);
    return { status: 200, body: { credential: c } };
  }
}
