import type { Context } from '../context.js';
import type { ImportedBadgeDoc } from '../db/models/importedBadge.js';
import type { Fetcher } from '../issuers/openbadges/fetcher.js';
import { laurelResolver } from '../issuers/openbadges/laurelDocuments.js';
import { verifyBadge, type VerificationResult } from '../issuers/openbadges/verify.js';
import { isObject, str } from '../issuers/openbadges/verifyChecks.js';
import { EMPTY_ALLOW_LIST, outboundRequest, type OutboundPolicy } from '../security/outboundFetch.js';

/**
 * Badges earned elsewhere: verified by Laurel's own verifier (src/issuers/openbadges/verify.ts) before
 * they are kept. Other issuers' documents (and a badge given by URL) are fetched through
 * outboundFetch: public addresses only in production, 1 MiB and 5 seconds at most, redirects
 * followed by hand so that every hop is checked. Laurel's own documents come from the database.
 */
export type ImportInput =
  { source: 'file'; bytes: Buffer } | { source: 'text'; text: string } | { source: 'url'; url: string };

export function importPolicy(ctx: Context): OutboundPolicy {
  return {
    publicOnly: ctx.config.env === 'production',
    allowList: EMPTY_ALLOW_LIST,
    timeoutMs: 5000,
    maxBytes: 1024 * 1024,
  };
}

export function outboundFetcher(policy: OutboundPolicy): Fetcher {
  return async (url, options = {}) => {
    let target = url;
    for (let hop = 0; hop < 4; hop++) {
      const answer = await outboundRequest(policy, target, {
        headers: { accept: options.accept ?? 'application/ld+json, application/json;q=0.9, */*;q=0.1' },
      });
      const location = answer.headers.location;
      if (answer.status >= 300 && answer.status < 400 && typeof location === 'string') {
        target = new URL(location, target).toString();
        continue;
      }
      const type = answer.headers['content-type'];
      return {
        url: target,
        status: answer.status,
        contentType: typeof type === 'string' ? type : null,
        body: answer.body.toString('utf8'),
      };
    }
    throw new Error(`Not fetching ${url}: too many redirects`);
  };
}

function verifierInput(payload: string, encoding: ImportedBadgeDoc['payloadEncoding']): Uint8Array | string {
  return encoding === 'base64' ? new Uint8Array(Buffer.from(payload, 'base64')) : payload;
}

export async function verifyPayload(
  ctx: Context,
  payload: string,
  encoding: ImportedBadgeDoc['payloadEncoding'],
): Promise<VerificationResult> {
  return verifyBadge(verifierInput(payload, encoding), {
    now: ctx.now(),
    resolvers: [laurelResolver(ctx)],
    fetcher: outboundFetcher(importPolicy(ctx)),
  });
}

export function payloadOf(input: ImportInput): {
  payload: string;
  encoding: ImportedBadgeDoc['payloadEncoding'];
} {
  if (input.source === 'file') return { payload: input.bytes.toString('base64'), encoding: 'base64' };
  if (input.source === 'url') return { payload: input.url.trim(), encoding: 'utf8' };
  return { payload: input.text.trim(), encoding: 'utf8' };
}

const httpsOnly = (url: string | null) => (url && /^https:\/\//.test(url) ? url : null);

/** What the badge's page and list show, from a verification result. */
export function summaryOf(result: VerificationResult) {
  const c = result.credential;
  const id = c ? (str(c.id) ?? (isObject(c.badge) ? str(c.badge.id) : null)) : null;
  return {
    badgeId: id,
    name: result.achievement?.name ?? 'A badge',
    description: result.achievement?.description ?? null,
    issuerName: result.issuer?.name ?? null,
    issuerUrl: httpsOnly(result.issuer?.url ?? null),
    imageUrl: httpsOnly(result.achievement?.image ?? null),
  };
}
