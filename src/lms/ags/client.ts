import { outboundRequest, type OutboundPolicy } from '../../security/outboundFetch.js';

/**
 * AGS 2.0 reads through Laurel's outbound guard (address policy, time limit, size limit, no
 * redirects): the tool's line items of a course and each one's results, every page of each
 * (`Link: <…>; rel="next"`, on the LMS's own origin only).
 */

const MEDIA = {
  lineItemContainer: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  resultContainer: 'application/vnd.ims.lis.v2.resultcontainer+json',
} as const;

/** At most this many pages of one list (a loop guard; 100 pages of 100 is 10 000 learners). */
const MAX_PAGES = 100;

export type AgsLineItem = {
  id: string;
  label: string | null;
  scoreMaximum: number | null;
  resourceId: string | null;
  resourceLinkId: string | null;
  tag: string | null;
};

export type AgsResultRow = {
  userId: string;
  resultScore: number | null;
  resultMaximum: number | null;
  /** Not in AGS 2.0's result, but Moodle gives it (and some others): when the score was recorded. */
  timestamp: string | null;
};

/** An AGS call that failed: `status` 0 when no answer came. */
export class AgsCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AgsCallError';
  }
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The `rel="next"` target of a Link header, or null. */
export function nextLink(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return null;
  for (const part of value.split(',')) {
    const m = /<([^>]*)>\s*((?:;[^;]*)*)/.exec(part.trim());
    // Moodle (up to 5.1 at least) quotes rel values with typographic quotes: rel=“next”.
    if (m && /;\s*rel\s*=\s*["“]?([^"“”;]*\s)?next(\s[^"“”;]*)?["”]?/i.test(m[2] ?? '')) return m[1] ?? null;
  }
  return null;
}

/** The results URL of a line item: `/results` after its path, its query kept (Moodle's `?type_id=`). */
export function resultsUrlOf(lineItemId: string, limit?: number): string {
  const url = new URL(lineItemId);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/results`;
  return withLimit(url.toString(), limit);
}

/** Asks for pages of `limit` (AGS's `limit` parameter), unless the URL already names one. */
function withLimit(value: string, limit?: number): string {
  if (!limit) return value;
  const url = new URL(value);
  if (!url.searchParams.has('limit')) url.searchParams.set('limit', String(limit));
  return url.toString();
}

async function readAll(
  policy: OutboundPolicy,
  first: string,
  accept: string,
  token: () => Promise<string>,
): Promise<unknown[]> {
  const origin = new URL(first).origin;
  const rows: unknown[] = [];
  let url: string | null = first;
  for (let page = 0; url && page < MAX_PAGES; page++) {
    let answer;
    try {
      answer = await outboundRequest(policy, url, {
        method: 'GET',
        // Exactly one media type: Moodle's services.php answers 400 "No handler found" to a GET whose
        // Accept is anything but one of the resource's own types (or holds */*).
        headers: { authorization: `Bearer ${await token()}`, accept },
      });
    } catch (err) {
      throw new AgsCallError(0, `${url} could not be reached: ${(err as Error).message}`);
    }
    const body = answer.body.toString('utf8');
    if (answer.status < 200 || answer.status > 299)
      throw new AgsCallError(answer.status, `${url} answered ${answer.status}: ${body.slice(0, 300)}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new AgsCallError(answer.status, `${url} answered something that is not JSON`);
    }
    if (!Array.isArray(parsed)) throw new AgsCallError(answer.status, `${url} answered no list`);
    rows.push(...(parsed as unknown[]));
    const next = nextLink(answer.headers.link);
    url = next && new URL(next, url).origin === origin ? new URL(next, url).toString() : null;
  }
  return rows;
}

/** The tool's line items of a course (a tool sees only its own). */
export async function fetchLineItems(
  policy: OutboundPolicy,
  lineItemsUrl: string,
  token: () => Promise<string>,
  options: { limit?: number } = {},
): Promise<AgsLineItem[]> {
  const rows = await readAll(policy, withLimit(lineItemsUrl, options.limit), MEDIA.lineItemContainer, token);
  const items: AgsLineItem[] = [];
  for (const row of rows) {
    const r = (row ?? {}) as Record<string, unknown>;
    const id = text(r.id);
    if (!id) continue;
    items.push({
      id,
      label: text(r.label),
      scoreMaximum: num(r.scoreMaximum),
      resourceId: text(r.resourceId),
      resourceLinkId: text(r.resourceLinkId),
      tag: text(r.tag),
    });
  }
  return items;
}

/** The results of one line item. */
export async function fetchResults(
  policy: OutboundPolicy,
  lineItemId: string,
  token: () => Promise<string>,
  options: { limit?: number } = {},
): Promise<AgsResultRow[]> {
  const rows = await readAll(policy, resultsUrlOf(lineItemId, options.limit), MEDIA.resultContainer, token);
  const results: AgsResultRow[] = [];
  for (const row of rows) {
    const r = (row ?? {}) as Record<string, unknown>;
    const userId = text(r.userId);
    if (!userId) continue;
    results.push({
      userId,
      resultScore: num(r.resultScore),
      resultMaximum: num(r.resultMaximum),
      timestamp: text(r.timestamp),
    });
  }
  return results;
}
