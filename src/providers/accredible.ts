import { callJson, withReadRetries, type ProviderDeps, type ProviderRequest } from './http.js';

/**
 * Accredible's API (../shared/reference/credly-accredible-api.md §2): `<base>/v1/…` (searches of
 * credentials under `/v2/`), authorised by `Authorization: Token token=<API key>`.
 */

export type AccredibleEnvironment = 'sandbox' | 'production' | 'eu';

export const ACCREDIBLE_API_BASE: Record<AccredibleEnvironment, string> = {
  production: 'https://api.accredible.com',
  eu: 'https://eu.api.accredible.com',
  sandbox: 'https://sandbox.api.accredible.com',
};

export type AccredibleGroup = {
  id: number;
  name: string;
  course_name?: string | null;
  course_description?: string | null;
  course_link?: string | null;
  primary_design_id?: number | null;
  updated_at?: string | null;
};
export type AccredibleCredential = {
  id: number;
  url?: string | null;
  group_id?: number;
  issued_on?: string | null;
  expired_on?: string | null;
  approve?: boolean;
  recipient?: { id?: string | null; email?: string | null; name?: string | null } | null;
};
type GroupsReply = { groups: AccredibleGroup[]; meta?: { next_page?: number | null; total_pages?: number } };

export type AccredibleCreate = {
  recipient: { name: string; email: string; id: string };
  group_id: number;
  issued_on: string;
  expired_on?: string | null;
  complete: true;
};

const MAX_PAGES = 200;
const PAGE_SIZE = 50;

/** `YYYY-MM-DD`, Accredible's date form. */
export const accredibleDate = (at: Date) => at.toISOString().slice(0, 10);

/** Whether an Accredible credential is no longer valid on `now` (its expiry date has passed). */
export function accredibleExpired(c: Pick<AccredibleCredential, 'expired_on'>, now: Date): boolean {
  return !!c.expired_on && c.expired_on <= accredibleDate(now);
}

export class AccredibleClient {
  private readonly base: string;
  private readonly auth: string;
  constructor(
    private readonly deps: ProviderDeps,
    readonly settings: { apiKey: string; environment: AccredibleEnvironment; baseUrl?: string | null },
  ) {
    this.base = (settings.baseUrl ?? ACCREDIBLE_API_BASE[settings.environment]).replace(/\/+$/, '');
    this.auth = `Token token=${settings.apiKey}`;
  }

  private call(method: ProviderRequest['method'], path: string, body?: unknown) {
    return callJson(this.deps, 'accredible', {
      method,
      url: `${this.base}${path}`,
      headers: { authorization: this.auth },
      body,
    });
  }
  private read<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return withReadRetries(this.deps, async () => (await this.call(method, path, body)) as T, {
      // Accredible counts in 30 s buckets and sends no Retry-After: a 429 waits one bucket.
      rateLimitMs: 30_000,
      maxWaitMs: 60_000,
    });
  }

  /** The harmless call that checks the key: the first group (a search, which changes nothing). */
  async check(): Promise<{ groups: number }> {
    const reply = await this.read<GroupsReply & { meta?: { total_count?: number } }>(
      'POST',
      '/v1/issuer/groups/search',
      { page: 1, page_size: 1 },
    );
    return { groups: reply.meta?.total_count ?? reply.groups.length };
  }

  /** Every page of groups (POST /v1/issuer/groups/search, the replacement of the deprecated all_groups). */
  async groups(): Promise<AccredibleGroup[]> {
    const out: AccredibleGroup[] = [];
    let page: number | null = 1;
    for (let n = 0; page && n < MAX_PAGES; n++) {
      const reply: GroupsReply = await this.read<GroupsReply>('POST', '/v1/issuer/groups/search', {
        page,
        page_size: PAGE_SIZE,
      });
      out.push(...reply.groups);
      page = reply.meta?.next_page ?? null;
    }
    return out;
  }

  async designImage(designId: number): Promise<string | null> {
    const reply = await this.read<{ design?: { rasterized_content_url?: string | null } }>(
      'GET',
      `/v1/designs/${designId}`,
    );
    return reply.design?.rasterized_content_url ?? null;
  }

  /** POST /v1/credentials: never retried here (the caller looks the credential up first). */
  async create(credential: AccredibleCreate): Promise<AccredibleCredential> {
    return (
      (await this.call('POST', '/v1/credentials', { credential })) as { credential: AccredibleCredential }
    ).credential;
  }

  /** The credentials of one recipient id in one group (the look-up before a retry). */
  async find(recipientId: string, groupId: number): Promise<AccredibleCredential[]> {
    const reply = await this.read<{ credentials?: AccredibleCredential[] }>(
      'POST',
      '/v2/credentials/search',
      {
        query: { 'group.id': groupId, recipient_id: recipientId },
      },
    );
    return reply.credentials ?? [];
  }

  async credential(id: string): Promise<AccredibleCredential> {
    return (
      await this.read<{ credential: AccredibleCredential }>(
        'GET',
        `/v1/credentials/${encodeURIComponent(id)}`,
      )
    ).credential;
  }

  /** Accredible has no revoke call: the credential expires (Open edX's choice too). */
  async expire(id: string, on: Date): Promise<AccredibleCredential> {
    const reply = (await this.call('PUT', `/v1/credentials/${encodeURIComponent(id)}`, {
      credential: { expired_on: accredibleDate(on) },
    })) as { credential: AccredibleCredential };
    return reply.credential;
  }
}
