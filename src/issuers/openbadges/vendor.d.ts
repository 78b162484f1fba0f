/**
 * The parts of the untyped Verifiable Credential libraries that Laurel calls, as read from their
 * sources in node_modules (ESM, JavaScript only). Only what src/issuers and the tests use is declared.
 */

declare module '@digitalbazaar/vc' {
  export type LoadedDocument = { contextUrl: string | null; documentUrl: string; document: unknown };
  export type DocumentLoader = (url: string) => Promise<LoadedDocument>;
  export type VerifyResult = {
    verified: boolean;
    error?: Error & { errors?: Error[] };
    results?: {
      verified: boolean;
      error?: Error;
      verificationMethod?: { id?: string; controller?: string };
    }[];
    statusResult?: unknown;
  };
  export function issue(options: {
    credential: Record<string, unknown>;
    suite: unknown;
    documentLoader: DocumentLoader;
    now?: string | Date;
  }): Promise<Record<string, unknown>>;
  export function verifyCredential(options: {
    credential: Record<string, unknown>;
    suite: unknown;
    documentLoader: DocumentLoader;
    checkStatus?: (options: unknown) => Promise<{ verified: boolean }>;
    /** The controller document to check the key against, instead of loading it. */
    controller?: { id: string; assertionMethod: string[] };
    now?: string | Date;
    maxClockSkew?: number;
  }): Promise<VerifyResult>;
}

declare module '@digitalbazaar/data-integrity' {
  export class DataIntegrityProof {
    constructor(options: { signer?: unknown; cryptosuite: unknown; date?: string | Date });
  }
}

declare module '@digitalbazaar/eddsa-rdfc-2022-cryptosuite' {
  export const cryptosuite: { name: string };
}

declare module '@digitalbazaar/ed25519-multikey' {
  export type Ed25519KeyPair = {
    id?: string;
    controller?: string;
    publicKeyMultibase: string;
    secretKeyMultibase?: string;
    publicKey: Uint8Array;
    secretKey?: Uint8Array;
    signer(): { id?: string; algorithm: string; sign(o: { data: Uint8Array }): Promise<Uint8Array> };
    verifier(): {
      id?: string;
      algorithm: string;
      verify(o: { data: Uint8Array; signature: Uint8Array }): Promise<boolean>;
    };
    export(options?: {
      publicKey?: boolean;
      secretKey?: boolean;
      includeContext?: boolean;
    }): Promise<Record<string, unknown>>;
  };
  export function generate(options?: {
    id?: string;
    controller?: string;
    seed?: Uint8Array;
  }): Promise<Ed25519KeyPair>;
  export function from(key: Record<string, unknown>): Promise<Ed25519KeyPair>;
}

declare module '@digitalbazaar/vc-bitstring-status-list' {
  export class BitstringStatusList {
    constructor(options: { length?: number; buffer?: Uint8Array });
    length: number;
    setStatus(index: number, status: boolean): void;
    getStatus(index: number): boolean;
    encode(): Promise<string>;
  }
  export function createList(options: { length: number }): Promise<BitstringStatusList>;
  export function decodeList(options: { encodedList: string }): Promise<BitstringStatusList>;
  export function createCredential(options: {
    id: string;
    list: BitstringStatusList;
    statusPurpose: string;
    context?: string[];
  }): Promise<Record<string, unknown>>;
  export function checkStatus(options: {
    credential: Record<string, unknown>;
    documentLoader: (url: string) => Promise<{ document: unknown }>;
    suite: unknown;
    verifyBitstringStatusListCredential?: boolean;
    verifyMatchingIssuers?: boolean;
  }): Promise<{
    verified: boolean;
    error?: Error;
    results?: { verified: boolean; status?: boolean; credentialStatus?: Record<string, unknown> }[];
  }>;
}

declare module 'png-chunks-extract' {
  export type PngChunk = { name: string; data: Uint8Array };
  export default function extract(data: Uint8Array): PngChunk[];
}

declare module 'png-chunks-encode' {
  export default function encode(chunks: { name: string; data: Uint8Array }[]): Uint8Array;
}

declare module 'rdf-canonize' {
  export function canonize(
    input: unknown,
    options: { algorithm: 'RDFC-1.0'; inputFormat?: string; format?: string },
  ): Promise<string>;
}

declare module 'jsonld' {
  const jsonld: {
    toRDF(
      input: unknown,
      options: { documentLoader: unknown; format?: string; safe?: boolean; base?: string | null },
    ): Promise<unknown>;
    expand(input: unknown, options: { documentLoader: unknown; safe?: boolean }): Promise<unknown[]>;
  };
  export default jsonld;
}
