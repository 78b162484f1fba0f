/**
 * Declarations for the fast signing path (sign.ts, canonicalTemplates.ts), beside vendor.d.ts:
 * the parts of the stock stack it calls directly, as read from their sources in node_modules.
 */

declare module 'jsonld-signatures' {
  type LoadedDocument = import('@digitalbazaar/vc').LoadedDocument;
  const jsigs: {
    /** A loader that answers jsonld-signatures' bundled security contexts first, then `loader`'s. */
    extendContextLoader(
      loader: (url: string) => Promise<LoadedDocument>,
    ): (url: string) => Promise<LoadedDocument>;
  };
  export default jsigs;
}

declare module '@digitalbazaar/vc' {
  /** The checks `issue` runs on a credential before signing it (throws on the first failure). */
  export function _checkCredential(options: {
    credential: Record<string, unknown>;
    mode: 'issue' | 'verify';
    now?: string | Date;
    maxClockSkew?: number;
  }): void;
}
