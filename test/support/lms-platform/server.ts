/**
 * Starts the test LMS platform: a real HTTP server with the LTI endpoints of one flavour, and the pre-configured
 * tool (Laurel at `toolUrl`).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { agsRouter } from './ags.js';
import { PATHS, type PlatformContext } from './context.js';
import { deepLinkingRouter } from './deep-linking.js';
import { seedDemo } from './demo.js';
import { profileFor } from './flavour.js';
import { homeRouter } from './home.js';
import { liveEventsRouter, newLiveEventsState } from './live-events.js';
import { PlatformKeys } from './keys.js';
import { nrpsRouter } from './nrps.js';
import { oidcRouter } from './oidc.js';
import { TestPlatform } from './platform.js';
import { registrationRouter } from './registration.js';
import { storageRouter } from './storage.js';
import { PlatformStore } from './store.js';
import { tokenRouter } from './token.js';
import { SERVICE_SCOPES, type Flavour, type PrivacyLevel } from './types.js';

export interface StartTestPlatformOptions {
  /** Laurel's base URL, e.g. http://localhost:3000 (its /lti/login, /lti/launch, /lti/keys). */
  toolUrl: string;
  flavour: Flavour;
  host?: string;
  /** 0 (default) = a free port. */
  port?: number;
  /** Default: the platform's own base URL. */
  issuer?: string;
  clientId?: string;
  deploymentId?: string;
  name?: string;
  /** Base URL others should use when it differs from http://host:port (a proxy, 0.0.0.0). */
  publicUrl?: string;
  /** Seeds "Chemistry 101" and "World History" with Iris Instructor, Ada Lovelace and Grace Hopper. */
  seedDemo?: boolean;
  /** Of the pre-configured tool: default [toolUrl + '/lti/launch']. */
  redirectUris?: string[];
  scopes?: string[];
  privacy?: PrivacyLevel;
  /** Custom parameter templates of the pre-configured tool; default: what the flavour's admin would set. */
  custom?: Record<string, string>;
  /**
   * Whether the dynamic registration's answer names the new deployment (default true). Canvas names
   * it only in the first launch of the installation: pass false to behave so.
   */
  registrationAnswersDeploymentId?: boolean;
  /** Require the registration token on the openid configuration request too. */
  configurationRequiresToken?: boolean;
  /**
   * Offer platform storage (`lti_storage_target` at login and launch, postMessage responders in the page).
   * Default: what the flavour does (Canvas yes, Moodle no).
   */
  platformStorage?: boolean;
  /** More pages on the platform's own server (the demo's event panel), linked from its home page. */
  extraPages?: { router: express.Router; links: { href: string; label: string }[] };
}

function buildApp(ctx: PlatformContext, extra?: express.Router): express.Express {
  const app = express();
  app.disable('x-powered-by');
  if (extra) app.use(extra);
  app.use(express.urlencoded({ extended: false, limit: '1mb' }));
  app.use(express.json({ type: ['application/json', 'application/*+json'], limit: '1mb' }));
  app.get(PATHS.jwks, (_req, res) => {
    res.set('Cache-Control', 'no-store').json(ctx.keys.jwks());
  });
  for (const router of [
    homeRouter,
    oidcRouter,
    tokenRouter,
    nrpsRouter,
    agsRouter,
    deepLinkingRouter,
    registrationRouter,
    storageRouter,
    liveEventsRouter,
  ]) {
    app.use(router(ctx));
  }
  app.use((req: Request, res: Response) => {
    res
      .status(404)
      .json({ error: 'not_found', error_description: `${req.method} ${req.path} is not a route here` });
  });
  app.use(
    (err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
      const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
      ctx.store.refuse(req.path, status === 500 ? 'server_error' : 'invalid_request', err.message);
      res
        .status(status)
        .json({ error: status === 500 ? 'server_error' : 'invalid_request', error_description: err.message });
    },
  );
  return app;
}

export async function startTestPlatform(opts: StartTestPlatformOptions): Promise<TestPlatform> {
  const profile = profileFor(opts.flavour);
  const host = opts.host ?? '127.0.0.1';
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = (opts.publicUrl ?? `http://${shownHost}:${port}`).replace(/\/+$/, '');
  const toolUrl = opts.toolUrl.replace(/\/+$/, '');
  const store = new PlatformStore(profile);
  const clientId = opts.clientId ?? store.newClientId();
  const ctx: PlatformContext = {
    store,
    keys: new PlatformKeys(),
    profile,
    url,
    issuer: opts.issuer ?? url,
    name: opts.name ?? profile.defaultName,
    toolUrl,
    defaultClientId: clientId,
    configurationRequiresToken: opts.configurationRequiresToken ?? false,
    registrationAnswersDeploymentId: opts.registrationAnswersDeploymentId ?? true,
    storageTarget:
      (opts.platformStorage ?? !!profile.storageTarget) ? (profile.storageTarget ?? 'lti_storage') : null,
    homeLinks: opts.extraPages?.links ?? [],
    liveEvents: newLiveEventsState(url),
  };
  store.clients.set(clientId, {
    clientId,
    name: 'Laurel',
    deploymentIds: [opts.deploymentId ?? store.newDeploymentId()],
    initiateLoginUri: `${toolUrl}/lti/login`,
    redirectUris: opts.redirectUris ?? [`${toolUrl}/lti/launch`],
    targetLinkUri: `${toolUrl}/lti/launch`,
    jwksUri: `${toolUrl}/lti/keys`,
    scopes: opts.scopes ?? [...SERVICE_SCOPES],
    privacy: opts.privacy ?? profile.defaultPrivacy,
    custom: opts.custom ?? { ...profile.defaultCustom },
    dynamic: false,
  });
  server.on('request', buildApp(ctx, opts.extraPages?.router));
  const demo = opts.seedDemo ? seedDemo(store) : undefined;
  return new TestPlatform(ctx, server, demo);
}
