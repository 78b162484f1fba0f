/**
 * The part of ltijs 5.9.9 (CommonJS, untyped) that Laurel uses, as read from its source in
 * node_modules/ltijs/dist. Only what src/lti calls is declared.
 */
declare module 'ltijs' {
  import type { NextFunction, Request, RequestHandler, Response } from 'express';

  /** The `contexttoken` document: one per (launch context, user). */
  export interface LtiContextToken {
    contextId: string;
    user: string;
    roles?: string[] | null;
    path?: string | null;
    targetLinkUri?: string | null;
    context?: { id: string; label?: string | null; title?: string | null; type?: string[] | null } | null;
    resource?: { id: string; title?: string | null; description?: string | null } | null;
    custom?: Record<string, unknown> | null;
    launchPresentation?: Record<string, unknown> | null;
    messageType?: string | null;
    version?: string | null;
    deepLinkingSettings?: {
      deep_link_return_url: string;
      accept_types: string[];
      accept_multiple?: boolean | string;
      accept_lineitem?: boolean;
      data?: string;
      title?: string;
      text?: string;
    } | null;
    lis?: Record<string, unknown> | null;
    endpoint?: { scope?: string[]; lineitems?: string; lineitem?: string } | null;
    namesRoles?: { context_memberships_url: string; service_versions?: string[] } | null;
  }

  /** `res.locals.token`: the `idtoken` document with its context attached. */
  export interface LtiIdToken {
    iss: string;
    user: string;
    userInfo?: {
      given_name?: string | null;
      family_name?: string | null;
      name?: string | null;
      email?: string | null;
    };
    platformInfo?: Record<string, unknown> | null;
    clientId: string;
    platformId?: string;
    deploymentId: string;
    platformContext: LtiContextToken;
  }

  /** The storage ltijs accepts as `database.plugin` in place of its own mongoose 7 one. */
  export interface LtiDatabasePlugin {
    setup(): Promise<boolean>;
    Close(): Promise<boolean>;
    Get(
      key: string | false,
      collection: string,
      query?: Record<string, unknown>,
    ): Promise<Record<string, unknown>[] | false>;
    Insert(
      key: string | false,
      collection: string,
      item: Record<string, unknown>,
      index?: Record<string, unknown>,
    ): Promise<boolean>;
    Replace(
      key: string | false,
      collection: string,
      query: Record<string, unknown>,
      item: Record<string, unknown>,
      index?: Record<string, unknown>,
    ): Promise<boolean>;
    Modify(
      key: string | false,
      collection: string,
      query: Record<string, unknown>,
      modification: Record<string, unknown>,
    ): Promise<boolean>;
    Delete(collection: string, query: Record<string, unknown>): Promise<boolean>;
  }

  export type LaunchCallback = (
    token: LtiIdToken,
    req: Request,
    res: Response,
    next: NextFunction,
  ) => unknown;
  export type RefusalCallback = (req: Request, res: Response, next?: NextFunction) => unknown;

  export interface SetupOptions {
    appRoute?: string;
    loginRoute?: string;
    keysetRoute?: string;
    dynRegRoute?: string;
    cookies?: { secure?: boolean; sameSite?: 'None' | 'Lax' | 'Strict'; domain?: string };
    devMode?: boolean;
    ltiaas?: boolean;
    tokenMaxAge?: number | false;
    cors?: boolean;
    serverAddon?: (app: { use(handler: RequestHandler): unknown }) => void;
    dynReg?: { url: string; name: string; description?: string; autoActivate?: boolean };
  }

  export interface LineItem {
    id?: string;
    label: string;
    scoreMaximum: number;
    resourceId?: string;
    resourceLinkId?: string;
    tag?: string;
    startDateTime?: string;
    endDateTime?: string;
  }

  export interface GradeService {
    getLineItems(
      token: unknown,
      options?: {
        resourceLinkId?: boolean;
        resourceId?: string;
        tag?: string;
        label?: string;
        limit?: number;
        url?: string;
      },
    ): Promise<{ lineItems: LineItem[]; next?: string }>;
    createLineItem(
      token: unknown,
      lineItem: LineItem,
      options?: { resourceLinkId?: boolean },
    ): Promise<LineItem>;
    getScores(
      token: unknown,
      lineItemId: string,
      options?: { userId?: string; limit?: number; url?: string },
    ): Promise<{ scores: Record<string, unknown>[]; next?: string }>;
  }

  export interface NamesAndRolesService {
    getMembers(
      token: unknown,
      options?: {
        role?: string;
        limit?: number;
        pages?: number | false;
        url?: string;
        resourceLinkId?: boolean;
      },
    ): Promise<{
      id?: string;
      context?: Record<string, unknown>;
      members: Record<string, unknown>[];
      next?: string;
    }>;
  }

  export interface DeepLinkingService {
    createDeepLinkingMessage(
      token: unknown,
      items: Record<string, unknown>[],
      options?: { message?: string; errMessage?: string; log?: string; errLog?: string },
    ): Promise<string>;
  }

  /** One Provider: an express 4 app with the LTI routes, and the LTI Advantage services. */
  export interface ProviderInstance {
    app: RequestHandler;
    Grade: GradeService;
    NamesAndRoles: NamesAndRolesService;
    DeepLinking: DeepLinkingService;
    setup(
      key: string,
      database: { plugin: LtiDatabasePlugin } | { url: string },
      options?: SetupOptions,
    ): ProviderInstance;
    onConnect(callback: LaunchCallback): true;
    onDeepLinking(callback: LaunchCallback): true;
    onSessionTimeout(callback: RefusalCallback): true;
    onInvalidToken(callback: RefusalCallback): true;
    onUnregisteredPlatform(callback: RefusalCallback): true;
    onInactivePlatform(callback: RefusalCallback): true;
  }

  const ltijs: { Provider: ProviderInstance };
  export default ltijs;
}
