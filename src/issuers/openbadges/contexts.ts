import clr200 from './contexts/clr-v2p0-context-2.0.0.json' with { type: 'json' };
import clr201 from './contexts/clr-v2p0-context-2.0.1.json' with { type: 'json' };
import bitstringStatusListV1 from './contexts/bitstring-status-list-v1.json' with { type: 'json' };
import credentialsV1 from './contexts/credentials-v1.json' with { type: 'json' };
import credentialsV2 from './contexts/credentials-v2.json' with { type: 'json' };
import dataIntegrityV1 from './contexts/data-integrity-v1.json' with { type: 'json' };
import dataIntegrityV2 from './contexts/data-integrity-v2.json' with { type: 'json' };
import didV1 from './contexts/did-v1.json' with { type: 'json' };
import ed25519V1 from './contexts/ed25519-2020-v1.json' with { type: 'json' };
import multikeyV1 from './contexts/multikey-v1.json' with { type: 'json' };
import ob300 from './contexts/ob-v3p0-context-3.0.0.json' with { type: 'json' };
import ob301 from './contexts/ob-v3p0-context-3.0.1.json' with { type: 'json' };
import ob302 from './contexts/ob-v3p0-context-3.0.2.json' with { type: 'json' };
import ob303 from './contexts/ob-v3p0-context-3.0.3.json' with { type: 'json' };
import obExtensions from './contexts/ob-v3p0-extensions.json' with { type: 'json' };
import openBadgesV2 from './contexts/openbadges-v2.json' with { type: 'json' };
import securityV1 from './contexts/security-v1.json' with { type: 'json' };
import securityV2 from './contexts/security-v2.json' with { type: 'json' };

/** Context URLs Laurel writes into the documents it signs and publishes. */
export const CONTEXT = {
  credentialsV2: 'https://www.w3.org/ns/credentials/v2',
  credentialsV1: 'https://www.w3.org/2018/credentials/v1',
  ob: 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
  obExtensions: 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json',
  multikey: 'https://w3id.org/security/multikey/v1',
  securityV2: 'https://w3id.org/security/v2',
  dataIntegrityV2: 'https://w3id.org/security/data-integrity/v2',
  openBadgesV2: 'https://w3id.org/openbadges/v2',
  clr: 'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json',
} as const;

/**
 * Every JSON-LD context a credential Laurel issues or accepts may name, copied from the published
 * files (contexts/SOURCES.json says where each came from), so that signing and verifying never
 * fetch one over the network.
 */
export const CONTEXTS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ['https://www.w3.org/ns/credentials/v2', credentialsV2],
  ['https://www.w3.org/2018/credentials/v1', credentialsV1],
  ['https://www.w3.org/ns/credentials/status/v1', bitstringStatusListV1],
  ['https://w3id.org/security/data-integrity/v1', dataIntegrityV1],
  ['https://w3id.org/security/data-integrity/v2', dataIntegrityV2],
  ['https://w3id.org/security/multikey/v1', multikeyV1],
  ['https://w3id.org/security/suites/ed25519-2020/v1', ed25519V1],
  ['https://w3id.org/security/v1', securityV1],
  ['https://w3id.org/security/v2', securityV2],
  ['https://www.w3.org/ns/did/v1', didV1],
  ['https://purl.imsglobal.org/spec/ob/v3p0/context.json', ob300],
  ['https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json', ob301],
  ['https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json', ob302],
  ['https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json', ob303],
  ['https://purl.imsglobal.org/spec/ob/v3p0/extensions.json', obExtensions],
  ['https://w3id.org/openbadges/v2', openBadgesV2],
  // Comprehensive Learner Record 2.0 (src/records): 2.0.1, and 2.0.0 for records signed before it.
  ['https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json', clr201],
  ['https://purl.imsglobal.org/spec/clr/v2p0/context.json', clr200],
  // The OB 2.0 context is also published under its versioned and http names.
  ['https://openbadgespec.org/v2/context.json', openBadgesV2],
  ['http://w3id.org/openbadges/v2', openBadgesV2],
]);
