import { callJson, withReadRetries, type ProviderDeps, type ProviderRequest } from './http.js';

/**
 * Credly's Web Service API v1 (../shared/reference/credly-accredible-api.md §1): everything under
 * `<base>/organizations/{org}/…`, the organisation's token as HTTP Basic user with an empty password.
 */

export type CredlyEnvironment = 'sandbox' | 'production';

export const CREDLY_API_BASE: Record<CredlyEnvironment, string> = {
  production: 'https://api.credly.com/v1',
  sandbox: 'https://sandbox-api.credly.com/v1',
};
/** Where a badge is shown to people: the web host of the environment. */
export const CREDLY_WEB_BASE: Record<CredlyEnvironment, string> = {
  production: 'https://www.credly.com',
  sandbox: 'https://sandbox.credly.com',
};

export type CredlyTemplate = {
  id: string;
  name: string;
  description?: string | null;
  state: string;
  image_url?: string | null;
  url?: string | null;
  owner?: { id?: string } | null;
  updated_at?: string | null;
};
export type CredlyBadge = {
  id: string;
  state: 'pending' | 'accepted' | 'rejected' | 'revoked' | string;
  recipient_email?: string | null;
  issuer_earner_id?: string | null;
  badge_template?: { id: string } | null;
  revocation_reason?: string | null;
  /** Not in the reference's field list; used when a deployment sends it. */
  badge_url?: string | null;
};
export type CredlyEvent = {
  id: string;
  event_type: string;
  organization_id: string;
  occurred_at?: string;
  badge?: CredlyBadge;
  badge_template?: CredlyTemplate;
};
type ListReply<T> = {
  data: T[];
  metadata?: { total_pages?: number; next_page_url?: string | null; current_page?: number };
};

export type CredlyIssue = {
  recipient_email: string;
  issued_to_first_name: string;
  issued_to_last_name: string;
  badge_template_id: string;
  issued_at: string;
  issuer_earner_id: string;
  expires_at?: string | null;
};

/** `YYYY-MM-DD HH:MM:SS +0000`, the form Credly's issue call requires. */
export function credlyTime(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} +0000`;
}

/** Most pages followed in one listing, whatever `total_pages` says (a loop guard). */
const MAX_PAGES = 200;

export class CredlyClient {
  private readonly root: string;
  private readonly auth: string;
  constructor(
    private readonly deps: ProviderDeps,
    readonly settings: {
      organizationId: string;
      authToken: string;
      environment: CredlyEnvironment;
      baseUrl?: string | null;
    },
  ) {
    const base = (settings.baseUrl ?? CREDLY_API_BASE[settings.environment]).replace(/\/+$/, '');
    this.root = `${base}/organizations/${encodeURIComponent(settings.organizationId)}`;
    this.auth = `Basic ${Buffer.from(`${settings.authToken}:`).toString('base64')}`;
  }

  private call(method: ProviderRequest['method'], pathOrUrl: string, body?: unknown) {
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.root}${pathOrUrl}`;
    return callJson(this.deps, 'credly', { method, url, headers: { authorization: this.auth }, body });
  }
  private read<T>(path: string): Promise<T> {
    // Credly seems to count per minute (reference §1): a 429 without Retry-After waits a minute.
    return withReadRetries(this.deps, async () => (await this.call('GET', path)) as T, {
      rateLimitMs: 60_000,
    });
  }

  /** The harmless call that checks the settings (what Open edX does too). */
  async organization(): Promise<{ id: string; name?: string }> {
    return (await this.read<{ data: { id: string; name?: string } }>('')).data;
  }

  /** Every page of the organisation's badge templates (all states, so archived ones are seen). */
  async templates(): Promise<CredlyTemplate[]> {
    const out: CredlyTemplate[] = [];
    let next: string | null = '/badge_templates?page=1';
    for (let page = 1; next && page <= MAX_PAGES; page++) {
      const reply: ListReply<CredlyTemplate> = await this.read<ListReply<CredlyTemplate>>(next);
      out.push(...reply.data);
      const total = reply.metadata?.total_pages ?? page;
      next = page < total ? (reply.metadata?.next_page_url ?? null) : null;
    }
    return out;
  }

  async template(id: string): Promise<CredlyTemplate> {
    return (await this.read<{ data: CredlyTemplate }>(`/badge_templates/${encodeURIComponent(id)}`)).data;
  }

  /** POST …/badges: never retried here (the caller decides, after looking the badge up). */
  async issue(body: CredlyIssue): Promise<CredlyBadge> {
    return ((await this.call('POST', '/badges', body)) as { data: CredlyBadge }).data;
  }

  /** The badges of one earner id on one template (the look-up before a retry). */
  async findBadges(issuerEarnerId: string, templateId: string): Promise<CredlyBadge[]> {
    const filter = encodeURIComponent(`issuer_earner_id::${issuerEarnerId}|badge_template_id::${templateId}`);
    return (await this.read<ListReply<CredlyBadge>>(`/badges?filter=${filter}`)).data;
  }

  async badge(id: string): Promise<CredlyBadge> {
    return (await this.read<{ data: CredlyBadge }>(`/badges/${encodeURIComponent(id)}`)).data;
  }

  async revoke(id: string, reason: string): Promise<CredlyBadge> {
    const reply = (await this.call('PUT', `/badges/${encodeURIComponent(id)}/revoke`, {
      reason,
      suppress_revoke_notification_email: false,
    })) as { data: CredlyBadge };
    return reply.data;
  }

  async event(id: string): Promise<CredlyEvent> {
    return (await this.read<{ data: CredlyEvent }>(`/events/${encodeURIComponent(id)}`)).data;
  }

  /** The badge's public page at Credly. */
  badgeUrl(badge: Pick<CredlyBadge, 'id' | 'badge_url'>): string {
    return badge.badge_url ?? `${CREDLY_WEB_BASE[this.settings.environment]}/badges/${badge.id}`;
  }
}
