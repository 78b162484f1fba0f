import type { DocumentLoader, LoadedDocument } from '@digitalbazaar/vc';
import { CONTEXT, CONTEXTS } from './contexts.js';

export type { DocumentLoader };

/** Finds the document a URL names, or answers undefined when it does not know the URL. */
export type DocumentResolver = (url: string) => Promise<unknown> | unknown;

const loaded = (url: string, document: unknown): LoadedDocument => ({
  contextUrl: null,
  documentUrl: url,
  document,
});

/**
 * A JSON-LD document loader that never goes to the network by itself: the bundled contexts
 * first, then each resolver in turn (Laurel's own documents from the database, documents a
 * caller supplied, did:key). Anything else is an error naming the URL.
 */
export function createDocumentLoader(resolvers: readonly DocumentResolver[] = []): DocumentLoader {
  const loader: DocumentLoader = async (url: string) => {
    const context = CONTEXTS.get(url);
    if (context !== undefined) return loaded(url, context);
    for (const resolve of resolvers) {
      const document = await resolve(url);
      if (document !== undefined && document !== null) return loaded(url, document);
    }
    throw new Error(`Document loader has no document for ${url} (it never fetches; give a resolver)`);
  };
  bundledLoaders.add(loader);
  return loader;
}

/**
 * Loaders made by createDocumentLoader: they answer every bundled context from CONTEXTS before
 * any resolver, so what they load for a context URL is known without calling them (the signing
 * templates of canonicalTemplates.ts rely on it).
 */
const bundledLoaders = new WeakSet<DocumentLoader>();
export const isBundledLoader = (loader: DocumentLoader) => bundledLoaders.has(loader);

/** Resolves a fixed set of documents by URL (tests, and documents a caller already holds). */
export function staticResolver(documents: Readonly<Record<string, unknown>>): DocumentResolver {
  return (url) => (Object.hasOwn(documents, url) ? documents[url] : undefined);
}

const ED25519_MULTIKEY = /^z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/;

/**
 * did:key for Ed25519 keys, resolved locally: `did:key:z6Mk…` is the DID document and
 * `did:key:z6Mk…#z6Mk…` the Multikey in it. A bare `did:key:z6Mk…` used as a verification method
 * answers with the DID document; verify.ts turns it into the key.
 */
export const didKeyResolver: DocumentResolver = (url) => {
  const m = /^did:key:(z[1-9A-HJ-NP-Za-km-z]+)(?:#(z[1-9A-HJ-NP-Za-km-z]+))?$/.exec(url);
  if (!m || !ED25519_MULTIKEY.test(m[1]!)) return undefined;
  const did = `did:key:${m[1]}`;
  const key = didKeyMultikey(did, m[1]!);
  if (m[2] !== undefined) return m[2] === m[1] ? key : undefined;
  const { '@context': _context, ...embedded } = key;
  return {
    '@context': ['https://www.w3.org/ns/did/v1', CONTEXT.multikey],
    id: did,
    verificationMethod: [embedded],
    assertionMethod: [key.id],
    authentication: [key.id],
  };
};

/** The Multikey document of a did:key (the DID's only key, `did:key:z…#z…`). */
export function didKeyMultikey(did: string, publicKeyMultibase: string) {
  return {
    '@context': CONTEXT.multikey,
    id: `${did}#${publicKeyMultibase}`,
    type: 'Multikey',
    controller: did,
    publicKeyMultibase,
  };
}
