import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** One HTTP answer, body as text. */
export type FetchedDocument = { url: string; status: number; contentType: string | null; body: string };

/**
 * How the verifier reaches other issuers' documents (hosted OB 2.0 assertions, issuer profiles,
 * keys, status lists). Injected, so tests answer from a local server and a caller can forbid the
 * network altogether. Contexts are never fetched: they come bundled.
 */
export type Fetcher = (url: string, options?: { accept?: string }) => Promise<FetchedDocument>;

/** A fetcher that refuses everything: verification from what the caller supplied only. */
export const offlineFetcher: Fetcher = async (url) => {
  throw new Error(`Not fetching ${url}: verification is offline`);
};

const PRIVATE_V4 = [
  /^0\./,
  /^10\./,
  /^127\./,
  /^169\.254\./,
  /^172\.(1[6-9]|2\d|3[01])\./,
  /^192\.168\./,
  /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./,
];
const isPrivateAddress = (address: string): boolean =>
  isIP(address) === 6
    ? address === '::1' ||
      address === '::' ||
      /^f[cd]/i.test(address) ||
      /^fe80/i.test(address) ||
      (address.startsWith('::ffff:') && isPrivateAddress(address.slice(7)))
    : PRIVATE_V4.some((re) => re.test(address));

/**
 * Fetches over HTTP(S) with a timeout and a size cap. Addresses on private networks are refused
 * unless allowed, so a badge someone uploads cannot make Laurel probe its own network.
 */
export function httpFetcher(
  options: { timeoutMs?: number; maxBytes?: number; allowPrivateAddresses?: boolean } = {},
): Fetcher {
  const { timeoutMs = 5000, maxBytes = 1024 * 1024, allowPrivateAddresses = false } = options;
  return async (url, { accept = 'application/ld+json, application/json;q=0.9, */*;q=0.1' } = {}) => {
    let target = new URL(url);
    // Redirects are followed by hand so that each hop passes the same address check.
    for (let hop = 0; hop < 4; hop++) {
      if (target.protocol !== 'https:' && target.protocol !== 'http:')
        throw new Error(`Not fetching ${target}: only http(s) URLs are fetched`);
      if (!allowPrivateAddresses) {
        const { address } = await lookup(target.hostname.replace(/^\[|\]$/g, ''));
        if (isPrivateAddress(address)) throw new Error(`Not fetching ${target}: it is on a private network`);
      }
      const res = await fetch(target, {
        headers: { accept },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        target = new URL(location, target);
        continue;
      }
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > maxBytes) throw new Error(`Not reading ${target}: ${length} bytes is over ${maxBytes}`);
      const buffer = Buffer.from(await res.arrayBuffer());
      if (buffer.length > maxBytes) throw new Error(`Not reading ${target}: over ${maxBytes} bytes`);
      return {
        url: target.toString(),
        status: res.status,
        contentType: res.headers.get('content-type'),
        body: buffer.toString('utf8'),
      };
    }
    throw new Error(`Not fetching ${url}: too many redirects`);
  };
}

/** Fetches a URL (without its fragment) and parses it as JSON; a non-2xx answer is an error naming the status. */
export async function fetchJson(fetcher: Fetcher, url: string): Promise<unknown> {
  const res = await fetcher(url.replace(/#.*$/, ''));
  if (res.status < 200 || res.status > 299) throw new Error(`${url} answered HTTP ${res.status}`);
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new Error(`${url} did not answer JSON`);
  }
}
