import ltijs, { type ProviderInstance } from 'ltijs';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Connection } from 'mongoose';
import type { Context } from '../context.js';
import type { PlatformHooks } from '../platforms/service.js';
import { canvasConfiguration } from './canvas.js';
import { LtiDatabase } from './database.js';
import { cookielessRoutes } from './cookieless.js';
import { TOKEN_MAX_AGE_S } from './id-token.js';
import { setupLaunchPathCounters } from './launch-paths.js';
import { launchHandler, preLaunchChecks, type LaunchDeps } from './launch.js';
import { LoginStateStore } from './login-states.js';
import { ltiPlatformStore, type LtiPlatformStore } from './platforms.js';
import { refusal, refusalForLtijsError, sendRefusal, type PageRenderer } from './refusals.js';
import { registrationRouter } from './registration.js';
import { MOODLE_PLUGIN_PATH, moodlePluginHandler } from './moodlePlugin.js';
import { keepOpenerOfLaunches, launchFramingPolicy } from '../web/framing.js';
import { catchAsyncErrors } from './catchAsyncErrors.js';
import { ltiRequestGuard, type FieldProblem } from './requestGuard.js';
import { HttpError } from '../errors.js';
import { handLtiKeyToJsonwebtoken } from './ltik.js';

/**
 * LTI 1.3 through ltijs, inside Laurel's express app:
 * - a Provider of Laurel's own: ltijs exports one instance per process, but its class makes more, so
 *   each Laurel instance (and each test's) has its own, storing through its own connection (LtiDatabase);
 * - no `deploy()`: it would only connect ltijs's mongoose 7 singleton and install a SIGINT handler
 *   that exits the process before Laurel's graceful stop;
 * - `ltiaas` mode: no session cookie, the ltik alone carries the launch (cookies in an LMS iframe are
 *   unreliable), while the one-minute state cookie of the OIDC login is still checked;
 * - where the browser keeps that cookie out of the LMS's frame, cookieless.ts takes the login and the
 *   launch before ltijs (platform storage, storage access, or a new top-level window);
 * - its app serves only /lti/login, /lti/launch and /lti/keys; /lti/register, /lti/canvas.json and the
 *   course pages are Laurel's own routes (ltijs would read an `Authorization: Bearer` as an ltik).
 */
export type Lti = {
  provider: ProviderInstance;
  db: LtiDatabase;
  /** The OIDC states of Laurel's logins (which path each took; the cookieless ones in full). */
  states: LoginStateStore;
  platforms: LtiPlatformStore;
  /** For registerPlatform and deletePlatform (admin API, CLI): keeps ltijs's platform records in step. */
  platformHooks: PlatformHooks;
  /**
   * Mounts the /lti routes on `app` (ltijs's express 4 app through `app.use`, which restores the
   * request and response prototypes when it hands back), rendering pages with `app`'s views.
   */
  mount(app: Express): void;
};

export const LTI_ROUTES = {
  login: '/login',
  launch: '/launch',
  keys: '/keys',
  register: '/register',
} as const;

/** Renders a view with the app's engine, for handlers running inside ltijs's own express app. */
export function renderWith(app: Pick<Express, 'render'>): PageRenderer {
  return (view, locals) =>
    new Promise((resolve, reject) =>
      app.render(view, locals, (err: Error | null, html?: string) =>
        err ? reject(err) : resolve(html ?? ''),
      ),
    );
}

export async function createLti(ctx: Context, connection: Connection): Promise<Lti> {
  const db = new LtiDatabase(connection);
  await db.setup();
  const platforms = ltiPlatformStore(db, ctx.config.ltiKey);
  await platforms.reconcile(ctx.models, ctx.logger);
  const states = new LoginStateStore(() => {
    if (!connection.db) throw new Error('the LTI login states need an open database connection');
    return connection.db;
  }, ctx.now);
  await states.setup();
  await setupLaunchPathCounters(ctx);

  const ProviderClass = Object.getPrototypeOf(ltijs.Provider).constructor as new () => ProviderInstance;
  const provider = new ProviderClass();
  // Set once the outer app exists; ltijs's handlers render Laurel's pages through it.
  let render: PageRenderer = () => Promise.reject(new Error('LTI routes are not mounted yet'));
  const deps: LaunchDeps = { ctx, render: (view, locals) => render(view, locals), states };
  const routes = { login: LTI_ROUTES.login, launch: LTI_ROUTES.launch };

  // ltijs signs ltiks with the key as a string: jsonwebtoken gets it as a KeyObject (ltik.ts).
  handLtiKeyToJsonwebtoken(ctx.config.ltiKey);
  provider.setup(
    ctx.config.ltiKey,
    { plugin: db },
    {
      appRoute: LTI_ROUTES.launch,
      loginRoute: LTI_ROUTES.login,
      keysetRoute: LTI_ROUTES.keys,
      dynRegRoute: LTI_ROUTES.register,
      // Inside an LMS iframe only SameSite=None cookies travel, and browsers want Secure with it.
      cookies: { secure: true, sameSite: 'None' },
      devMode: false,
      ltiaas: true,
      tokenMaxAge: TOKEN_MAX_AGE_S,
      cors: false,
      serverAddon: (app) => {
        app.use(keepOpenerOfLaunches);
        app.use((_req, _res, next) => db.readOncePerRequest(next));
        // First: every LTI field is text (a bad `state` used to end the process inside ltijs).
        app.use(ltiRequestGuard('types', refuseMalformed));
        // Who may frame the login and launch answers: their own LMS, known once the body is parsed.
        app.use(launchFramingPolicy(ctx, db));
        app.use(preLaunchChecks(deps, routes));
        // Before ltijs's own login and launch: the paths for browsers that keep Laurel's cookies out.
        app.use(cookielessRoutes({ ...deps, db }, routes));
        // Last before ltijs: states and tokens have the exact shape ltijs turns into cookie names.
        app.use(ltiRequestGuard('shapes', refuseMalformed));
      },
    },
  );
  provider.onConnect(launchHandler(deps, 'resource'));
  provider.onDeepLinking(launchHandler(deps, 'deep-linking'));
  provider.onInvalidToken((req: Request, res: Response, next?: NextFunction) => {
    const details = (res.locals.err as { details?: { message?: unknown } } | undefined)?.details;
    const idToken = (req.body as Record<string, unknown> | undefined)?.id_token;
    refusalForLtijsError(
      typeof details?.message === 'string' ? details.message : '',
      typeof idToken === 'string' ? idToken : undefined,
      ctx.models,
    )
      .then((refused) => sendRefusal(deps.render, req, res, refused, ctx.logger))
      .catch((err: unknown) => (next ? next(err) : res.status(500).end()));
  });
  const refuseWith =
    (make: typeof refusal.noLaunch) => (req: Request, res: Response, next?: NextFunction) => {
      sendRefusal(deps.render, req, res, make(), ctx.logger).catch((err: unknown) =>
        next ? next(err) : res.status(500).end(),
      );
    };
  provider.onSessionTimeout(refuseWith(refusal.sessionExpired));
  provider.onUnregisteredPlatform(refuseWith(refusal.unknownPlatform));
  provider.onInactivePlatform(refuseWith(refusal.inactivePlatform));
  catchAsyncErrors(provider.app as unknown as Parameters<typeof catchAsyncErrors>[0]);
  // Login and launch answers are never cached (forms posted once): no ETag, a hash of each body.
  (provider.app as unknown as { set(name: string, value: unknown): void }).set('etag', false);

  return {
    provider,
    db,
    states,
    platforms,
    platformHooks: platforms.hooks(),
    mount(app) {
      render = renderWith(app);
      app.get('/lti/canvas.json', (_req, res) => {
        res.set('Cache-Control', 'public, max-age=300').json(canvasConfiguration(ctx.config.publicUrl));
      });
      app.use(registrationRouter(ctx, platforms));
      app.get(MOODLE_PLUGIN_PATH, moodlePluginHandler());
      app.use('/lti', ltijsErrorsInLaurelShape, provider.app);
    },
  };
}

/**
 * ltijs answers some failures itself as `{ status, error, details: { message } }` (a path it cannot
 * decode, a login it cannot start): those leave in Laurel's error shape like every other 4xx/5xx.
 */
function refuseMalformed(problems: FieldProblem[], _req: Request, _res: Response, next: NextFunction): void {
  next(
    new HttpError(
      400,
      'invalid_request',
      `The LTI request is malformed: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}.`,
      problems,
    ),
  );
}

function ltijsErrorsInLaurelShape(_req: Request, res: Response, next: NextFunction): void {
  const send = res.send.bind(res);
  res.send = function sendInLaurelShape(body?: unknown) {
    const b = body as { status?: unknown; error?: unknown; details?: { message?: unknown } } | undefined;
    if (
      b &&
      typeof b === 'object' &&
      !Buffer.isBuffer(b) &&
      typeof b.status === 'number' &&
      b.status >= 400 &&
      typeof b.error === 'string'
    ) {
      const status = b.status;
      const reason = typeof b.details?.message === 'string' ? b.details.message : b.error;
      res.status(status);
      return send(
        status >= 500
          ? {
              error: 'internal_error',
              message: 'Something went wrong on our side. Please try again.',
              details: [],
            }
          : { error: 'invalid_request', message: `The LTI request was refused: ${reason}.`, details: [] },
      );
    }
    return send(body as never);
  } as typeof res.send;
  next();
}
