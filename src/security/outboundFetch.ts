import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

/**
 * Laurel's requests to an LMS on behalf of someone outside (LTI Dynamic Registration): whoever starts
 * a registration names the URLs, so in production the request goes only to public addresses (unless
 * LMS_ALLOWED_HOSTS names the host or its network), connects to the very address that was checked (no
 * second DNS answer can swap in another: the check runs inside the socket's own lookup), gives up
 * after a time limit, and stops reading an answer past a size limit.
 *
 * Node's global fetch cannot take a custom lookup without the undici package, so this uses node:http
 * and node:https, which can.
 */

// ---------------------------------------------------------------------------------------------
// Address classification (pure)
// ---------------------------------------------------------------------------------------------

/** What kind of address an IP is: `public`, or the special range that makes it unfit to call. */
export type AddressRange =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade-nat'
  | 'multicast'
  | 'broadcast'
  | 'unique-local'
  | 'reserved'
  | 'invalid';

type Range<T extends number | bigint> = { base: T; bits: number; range: Exclude<AddressRange, 'public'> };

/** An IPv4 address (dotted quad) as a 32-bit number, or undefined. */
export function parseIPv4(text: string): number | undefined {
  if (isIP(text) !== 4) return undefined;
  return text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** An IPv6 address (with an optional zone id and dotted IPv4 tail) as a 128-bit number, or undefined. */
export function parseIPv6(text: string): bigint | undefined {
  const address = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIP(address) !== 6) return undefined;
  let groups = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    const v4 = parseIPv4(dotted[1]!);
    if (v4 === undefined) return undefined;
    groups = `${address.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = groups.split('::') as [string, string | undefined];
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headParts.length - tailParts.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const parts = [...headParts, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailParts];
  return parts.reduce((n, part) => (n << 16n) | BigInt(parseInt(part, 16)), 0n);
}

const v4 = (cidr: string, range: Range<number>['range']): Range<number> => {
  const [address, bits] = cidr.split('/') as [string, string];
  return { base: parseIPv4(address)!, bits: Number(bits), range };
};
const v6 = (cidr: string, range: Range<bigint>['range']): Range<bigint> => {
  const [address, bits] = cidr.split('/') as [string, string];
  return { base: parseIPv6(address)!, bits: Number(bits), range };
};

const inV4 = (address: number, base: number, bits: number) =>
  bits === 0 || address >>> (32 - bits) === base >>> (32 - bits);
const inV6 = (address: bigint, base: bigint, bits: number) =>
  bits === 0 || address >> BigInt(128 - bits) === base >> BigInt(128 - bits);

/** IPv4 ranges that are not the public internet (IANA special-purpose registry, and multicast). */
const IPV4_RANGES: Range<number>[] = [
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'carrier-grade-nat'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'reserved'),
  v4('192.88.99.0/24', 'reserved'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'reserved'),
  v4('198.51.100.0/24', 'reserved'),
  v4('203.0.113.0/24', 'reserved'),
  v4('224.0.0.0/4', 'multicast'),
  v4('255.255.255.255/32', 'broadcast'),
  v4('240.0.0.0/4', 'reserved'),
];

/** IPv6 ranges that are not the public internet; the first match wins. */
const IPV6_RANGES: Range<bigint>[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('64:ff9b:1::/48', 'private'),
  v6('100::/64', 'reserved'),
  v6('2001:db8::/32', 'reserved'),
  v6('2001::/23', 'reserved'),
  v6('fc00::/7', 'unique-local'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'private'),
  v6('ff00::/8', 'multicast'),
];

/** IPv6 prefixes that carry an IPv4 address in their last 32 bits (or, for 6to4, bits 16-47). */
const IPV4_MAPPED = v6('::ffff:0:0/96', 'reserved');
const IPV4_TRANSLATED = v6('::ffff:0:0:0/96', 'reserved');
const NAT64 = v6('64:ff9b::/96', 'reserved');
const SIX_TO_FOUR = v6('2002::/16', 'reserved');
const GLOBAL_UNICAST = v6('2000::/3', 'reserved');

function classifyV4(address: number): AddressRange {
  return IPV4_RANGES.find((r) => inV4(address, r.base, r.bits))?.range ?? 'public';
}

function classifyV6(address: bigint): AddressRange {
  // An IPv4 address written as IPv6 is what it carries: ::ffff:127.0.0.1 is loopback.
  for (const carrier of [IPV4_MAPPED, IPV4_TRANSLATED, NAT64])
    if (inV6(address, carrier.base, carrier.bits)) return classifyV4(Number(address & 0xffffffffn));
  if (inV6(address, SIX_TO_FOUR.base, SIX_TO_FOUR.bits))
    return classifyV4(Number((address >> 80n) & 0xffffffffn));
  const special = IPV6_RANGES.find((r) => inV6(address, r.base, r.bits));
  if (special) return special.range;
  // Everything outside 2000::/3 (the IPv4-compatible ::/96 included) is unassigned or special.
  return inV6(address, GLOBAL_UNICAST.base, GLOBAL_UNICAST.bits) ? 'public' : 'reserved';
}

/** The range an IP address (v4 or v6, brackets and zone id allowed) lies in. */
export function classifyAddress(address: string): AddressRange {
  const four = parseIPv4(address);
  if (four !== undefined) return classifyV4(four);
  const six = parseIPv6(address);
  return six === undefined ? 'invalid' : classifyV6(six);
}

// ---------------------------------------------------------------------------------------------
// The allow-list (LMS_ALLOWED_HOSTS)
// ---------------------------------------------------------------------------------------------

/** Host names, `.example.edu` (that domain's hosts), IP addresses and CIDR ranges an LMS may be at. */
export type AllowList = {
  hosts: string[];
  domains: string[];
  v4: { base: number; bits: number }[];
  v6: { base: bigint; bits: number }[];
};

export const EMPTY_ALLOW_LIST: AllowList = Object.freeze({ hosts: [], domains: [], v4: [], v6: [] });

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const normaliseHost = (host: string) =>
  host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');

/** Parses LMS_ALLOWED_HOSTS; throws an Error naming the first entry that is none of the accepted forms. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const list: AllowList = { hosts: [], domains: [], v4: [], v6: [] };
  for (const raw of entries) {
    const entry = normaliseHost(raw);
    if (entry === '') continue;
    const pieces = entry.split('/');
    const address = pieces[0]!;
    const bitsText = pieces[1];
    const four = parseIPv4(address);
    const six = four === undefined ? parseIPv6(address) : undefined;
    if (four !== undefined || six !== undefined) {
      const max = four !== undefined ? 32 : 128;
      const bits = bitsText === undefined ? max : Number(bitsText);
      if (pieces.length > 2 || !/^\d+$/.test(bitsText ?? String(max)) || bits > max)
        throw new Error(`"${raw.trim()}" is not a CIDR range`);
      if (four !== undefined) list.v4.push({ base: four, bits });
      else list.v6.push({ base: six!, bits });
    } else if (bitsText === undefined && entry.startsWith('.') && HOST_NAME.test(entry.slice(1)))
      list.domains.push(entry);
    else if (bitsText === undefined && HOST_NAME.test(entry)) list.hosts.push(entry);
    else throw new Error(`"${raw.trim()}" is not a host name, IP address or CIDR range`);
  }
  return list;
}

/** Whether the allow-list names this host (by name, or as an IP literal within an allowed range). */
export function hostAllowed(list: AllowList, host: string): boolean {
  const name = normaliseHost(host);
  if (list.hosts.includes(name) || list.domains.some((d) => name.endsWith(d))) return true;
  return addressAllowed(list, name);
}

/** Whether an IP address lies in one of the allow-list's ranges. */
export function addressAllowed(list: AllowList, address: string): boolean {
  const four = parseIPv4(address);
  if (four !== undefined) return list.v4.some((r) => inV4(four, r.base, r.bits));
  const six = parseIPv6(address);
  if (six === undefined) return false;
  if (list.v6.some((r) => inV6(six, r.base, r.bits))) return true;
  // An allowed IPv4 range covers that range written as IPv4-mapped IPv6 too.
  return inV6(six, IPV4_MAPPED.base, IPV4_MAPPED.bits)
    ? list.v4.some((r) => inV4(Number(six & 0xffffffffn), r.base, r.bits))
    : false;
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

export type OutboundPolicy = {
  /** In production: refuse every address that is not public, unless the allow-list names it. */
  publicOnly: boolean;
  allowList: AllowList;
  /** For the whole exchange, connection to last byte. */
  timeoutMs: number;
  /** The most bytes of an answer's body read; more ends the request. */
  maxBytes: number;
  /** Resolves a host name to all its addresses (default: dns.lookup with `all`); for tests. */
  resolve?: (host: string) => Promise<LookupAddress[]>;
};

export type OutboundFailure =
  'invalid_url' | 'disallowed_address' | 'dns_failed' | 'timeout' | 'too_large' | 'network';

/** Why an outgoing request failed; the message is for the log, never for the caller. */
export class OutboundError extends Error {
  constructor(
    readonly reason: OutboundFailure,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export type OutboundAnswer = { status: number; headers: IncomingHttpHeaders; body: Buffer };

const defaultResolve = (host: string) =>
  new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );

/** Throws unless the policy lets Laurel connect to this address of this host. */
function checkAddress(policy: OutboundPolicy, host: string, address: string): void {
  if (!policy.publicOnly) return;
  const range = classifyAddress(address);
  if (range === 'public' || addressAllowed(policy.allowList, address)) return;
  throw new OutboundError(
    'disallowed_address',
    `${host} is at ${address}, a ${range} address; an LMS there needs LMS_ALLOWED_HOSTS`,
  );
}

/**
 * The addresses of a host Laurel may connect to: all of them checked, since the connection may take
 * any. Throws an OutboundError when the name does not resolve or any address is refused.
 */
export async function resolveAllowed(policy: OutboundPolicy, host: string): Promise<LookupAddress[]> {
  const name = normaliseHost(host);
  const family = isIP(name);
  if (family) {
    if (!hostAllowed(policy.allowList, name)) checkAddress(policy, name, name);
    return [{ address: name, family }];
  }
  let addresses: LookupAddress[];
  try {
    addresses = await (policy.resolve ?? defaultResolve)(name);
  } catch (err) {
    throw new OutboundError('dns_failed', `${name} does not resolve: ${(err as Error).message}`);
  }
  if (addresses.length === 0) throw new OutboundError('dns_failed', `${name} has no addresses`);
  if (!hostAllowed(policy.allowList, name)) for (const a of addresses) checkAddress(policy, name, a.address);
  return addresses;
}

/** Parses an http(s) URL Laurel is about to call; throws an OutboundError otherwise. */
export function outboundUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OutboundError('invalid_url', `"${value.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new OutboundError('invalid_url', `${url.protocol} URLs are not called`);
  if (url.username || url.password)
    throw new OutboundError('invalid_url', 'URLs with credentials in them are not called');
  return url;
}

/** Checks, without connecting, that a URL is one Laurel may call later (its host resolves to allowed addresses). */
export async function checkOutboundUrl(policy: OutboundPolicy, value: string): Promise<void> {
  await resolveAllowed(policy, outboundUrl(value).hostname);
}

/**
 * One HTTP request under the policy: redirects are not followed (the answer is the 3xx), the body
 * is read up to `maxBytes`, and every failure is an OutboundError.
 */
export async function outboundRequest(
  policy: OutboundPolicy,
  value: string,
  init: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; headers?: Record<string, string>; body?: string } = {},
): Promise<OutboundAnswer> {
  const url = outboundUrl(value);
  const host = normaliseHost(url.hostname);
  // An IP literal is never looked up, so it is checked here; a name is checked inside the socket's lookup.
  if (isIP(host)) await resolveAllowed(policy, host);

  const lookup = (
    hostname: string,
    options: { family?: number | string; all?: boolean },
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    resolveAllowed(policy, hostname).then(
      (all) => {
        const family = Number(options.family) || 0;
        const usable = family ? all.filter((a) => a.family === family) : all;
        if (usable.length === 0)
          return callback(new OutboundError('dns_failed', `${hostname} has no IPv${family} address`), '');
        if (options.all) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: Error) => callback(err, ''),
    );
  };

  const body = init.body === undefined ? undefined : Buffer.from(init.body, 'utf8');
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<OutboundAnswer>((resolve, reject) => {
    const req = client.request(url, {
      method: init.method ?? 'GET',
      headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      lookup: lookup as never,
      agent: false,
    });
    let settled = false;
    const finish = (err: Error | null, answer?: OutboundAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(
          err instanceof OutboundError ? err : new OutboundError('network', `${url.host}: ${err.message}`),
        );
      } else resolve(answer!);
    };
    const timer = setTimeout(
      () => finish(new OutboundError('timeout', `${url.host} did not answer within ${policy.timeoutMs} ms`)),
      policy.timeoutMs,
    );
    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > policy.maxBytes) {
        res.destroy();
        finish(tooLarge(url, policy));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > policy.maxBytes) {
          res.destroy();
          finish(tooLarge(url, policy));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', (err) => finish(err));
      res.on('close', () => {
        if (!res.complete) finish(new OutboundError('network', `${url.host} ended the answer early`));
      });
    });
    req.end(body);
  });
}

const tooLarge = (url: URL, policy: OutboundPolicy) =>
  new OutboundError('too_large', `${url.host} answered more than ${policy.maxBytes} bytes`);
