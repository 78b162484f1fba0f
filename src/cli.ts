import { randomBytes } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Connection } from 'mongoose';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import type { Context } from './context.js';
import { connectDatabase } from './db/connection.js';
import { createModels } from './db/models/index.js';
import { HttpError } from './errors.js';
import type { JobQueue } from './jobs/queue.js';
import { LtiDatabase } from './lti/database.js';
import { ltiPlatformStore } from './lti/platforms.js';
import { platformInputSchema, type PlatformInput } from './platforms/schema.js';
import {
  approvePlatform,
  createRegistrationLink,
  deletePlatform,
  changeDeployment,
  updatePlatformSettings,
  listPlatforms,
  listRegistrationLinks,
  registerPlatform,
  revokeRegistrationLink,
  rotateWebhookSecret,
  toPublicRegistrationLink,
  type PlatformHooks,
} from './platforms/service.js';
import { formatIssues } from './rules/index.js';
import { createSealer } from './security/encryption.js';
import { approvePlatformSchema } from './web/api/platforms.js';
import { registrationLinkInputSchema } from './web/api/registrationLinks.js';

/**
 * `npm run cli -- platform add|list|remove|approve` and `registration-link create|list|revoke`:
 * registers LMS platforms from scripts, with the admin API's validation and the same two stores kept
 * in step (Laurel's platforms and ltijs's), and makes the one-time links LTI Dynamic Registration
 * needs. Reads the environment as `npm start` does, but only the settings each command needs (COMMANDS);
 * `--demo` reaches a running `npm run demo` instead; `--help` needs nothing at all.
 * Exit codes: 0 done, 1 failed (not found, conflict, database), 2 bad usage or input.
 */

export type CliIo = {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
};

/** Each command: how to call it, what it does, and the settings it needs (no others are asked for). */
const COMMANDS = {
  'platform add': {
    usage:
      'platform add --name <name> --lms moodle|canvas|other --issuer <iss> --client-id <id>\n' +
      '      --auth-login-url <url> --auth-token-url <url> --jwks-url <url> [--deployment-id <id>]... [--json]',
    what: 'Registers an LMS by hand and prints its webhook secret (shown only then).',
    needs: ['MONGODB_URI', 'LTI_KEY', 'ENCRYPTION_KEY'],
  },
  'platform list': {
    usage: 'platform list [--json]',
    what: 'Lists the registered LMSs, pending ones included.',
    needs: ['MONGODB_URI'],
  },
  'platform remove': {
    usage: 'platform remove <platform id>',
    what: 'Removes an LMS (its launches stop at once).',
    needs: ['MONGODB_URI', 'LTI_KEY'],
  },
  'platform approve': {
    usage: 'platform approve <platform id> [--name <name>] [--json]',
    what: 'Approves an LMS that registered without a link, under the name given, and prints its webhook secret.',
    needs: ['MONGODB_URI', 'LTI_KEY', 'ENCRYPTION_KEY'],
  },
  'platform add-deployment': {
    usage: 'platform add-deployment <platform id> <deployment id>',
    what: 'Accepts launches from another installation (deployment) of Laurel in that LMS, or approves a pending one.',
    needs: ['MONGODB_URI'],
  },
  'platform rotate-secret': {
    usage: 'platform rotate-secret <platform id> [--json]',
    what: 'Gives the LMS a new webhook secret (printed only now); the previous one keeps working for 24 hours.',
    needs: ['MONGODB_URI', 'ENCRYPTION_KEY'],
  },
  'platform remove-deployment': {
    usage: 'platform remove-deployment <platform id> <deployment id>',
    what: 'Stops accepting launches from one deployment.',
    needs: ['MONGODB_URI'],
  },
  'platform deployment-policy': {
    usage: 'platform deployment-policy <platform id> auto|approve',
    what: 'What a signed launch from a new deployment does: auto accepts and records it; approve lists it for approval.',
    needs: ['MONGODB_URI'],
  },
  'registration-link create': {
    usage:
      'registration-link create [--name <name>] [--lms moodle|canvas|other] [--expires-in-minutes <minutes>] [--json]',
    what: 'Makes a one-time link that lets an LMS register itself (LTI Dynamic Registration).',
    needs: ['MONGODB_URI', 'PUBLIC_URL'],
  },
  'registration-link list': {
    usage: 'registration-link list [--json]',
    what: 'Lists registration links (never their codes).',
    needs: ['MONGODB_URI'],
  },
  'registration-link revoke': {
    usage: 'registration-link revoke <link id>',
    what: 'Revokes a link nobody has used yet.',
    needs: ['MONGODB_URI'],
  },
} as const satisfies Record<string, { usage: string; what: string; needs: readonly Setting[] }>;

type Setting = 'MONGODB_URI' | 'LTI_KEY' | 'ENCRYPTION_KEY' | 'PUBLIC_URL';
type CommandName = keyof typeof COMMANDS;

const USAGE = [
  'Usage: npm run cli -- [--demo] <command> [options]      (add --help to any command for its help)',
  '',
  ...Object.values(COMMANDS).flatMap((c) => [`  ${c.usage}`, `      ${c.what}`]),
  '',
  'Settings come from the environment, as for `npm start`; each command reads only those it needs.',
  '--demo talks to a running `npm run demo` on this machine instead (its database and development keys).',
].join('\n');

function commandHelp(name: CommandName): string {
  const c = COMMANDS[name];
  return [
    `Usage: npm run cli -- ${c.usage}`,
    '',
    c.what,
    `Needs: ${c.needs.join(', ')} (from the environment, or --demo for a running demo).`,
  ].join('\n');
}

/** Flag names for the fields of the platform body, so that errors name what the user typed. */
const FLAGS: Partial<Record<keyof PlatformInput, string>> = {
  name: '--name',
  lms: '--lms',
  issuer: '--issuer',
  clientId: '--client-id',
  authLoginUrl: '--auth-login-url',
  authTokenUrl: '--auth-token-url',
  jwksUrl: '--jwks-url',
  deploymentIds: '--deployment-id',
};

class UsageError extends Error {}

/** parseArgs, with its complaints as usage errors. */
function parseFlags(args: string[], options: ParseArgsConfig['options'], positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args, strict: true, allowPositionals: positionals > 0, options });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.positionals.length !== positionals)
    throw new UsageError(`Expected ${positionals} argument(s), got ${parsed.positionals.length}.`);
  return parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
}

/** The schema's complaints about CLI input, each named by the flag the user typed. */
function invalid(what: string, issues: Parameters<typeof formatIssues>[0], flags: Record<string, string>) {
  const details = formatIssues(issues).map((d) => `${flags[d.path] ?? d.path}: ${d.message}`);
  return new UsageError(`Invalid ${what}: ${details.join('; ')}.`);
}

function parsePlatformAdd(args: string[]): { input: PlatformInput; json: boolean } {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        name: { type: 'string' },
        lms: { type: 'string' },
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        'auth-login-url': { type: 'string' },
        'auth-token-url': { type: 'string' },
        'jwks-url': { type: 'string' },
        'deployment-id': { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const required = Object.entries(FLAGS).filter(([field]) => field !== 'deploymentIds') as [string, string][];
  const missing = required.filter(([, flag]) => values[flag.slice(2)] === undefined).map(([, flag]) => flag);
  if (missing.length) throw new UsageError(`Missing ${missing.join(', ')}.`);
  const parsed = platformInputSchema.safeParse({
    name: values.name,
    lms: values.lms,
    issuer: values.issuer,
    clientId: values['client-id'],
    authLoginUrl: values['auth-login-url'],
    authTokenUrl: values['auth-token-url'],
    jwksUrl: values['jwks-url'],
    deploymentIds: values['deployment-id'] ?? [],
  });
  if (!parsed.success) {
    const details = formatIssues(parsed.error).map((d) => {
      const [field, ...rest] = d.path.split('.');
      const flag = FLAGS[field as keyof PlatformInput] ?? field;
      return `${flag}${rest.length ? ` (${rest.join('.')})` : ''}: ${d.message}`;
    });
    throw new UsageError(`Invalid platform: ${details.join('; ')}.`);
  }
  return { input: parsed.data, json: values.json === true };
}

type Session = { ctx: Context; hooks: PlatformHooks; close(): Promise<void> };

/**
 * The configuration for one command: the settings it needs must be set (else the error names the
 * first one), and those it does not need are given placeholders nothing reads, so that a CLI run
 * never asks for ADMIN_API_KEY, say, to list platforms.
 */
export function cliConfig(env: NodeJS.ProcessEnv, needs: readonly Setting[]) {
  const placeholders: Record<string, string> = {
    MONGODB_URI: 'mongodb://unused.invalid/unused',
    LTI_KEY: randomBytes(32).toString('hex'),
    ADMIN_API_KEY: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    PUBLIC_URL: 'http://unused.invalid',
  };
  const filled: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(placeholders))
    if (!needs.includes(name as Setting) && !filled[name]) filled[name] = value;
  return loadConfig(filled);
}

/** Where a running `npm run demo` tells the CLI how to reach it (LAUREL_DEMO_FILE, else in the temp folder). */
export const demoFile = (env: NodeJS.ProcessEnv) =>
  env.LAUREL_DEMO_FILE || path.join(os.tmpdir(), 'laurel-demo.json');

/** The environment of a running demo, read from its file; a usage error when none runs. */
function demoEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = demoFile(env);
  let demo: Record<string, unknown>;
  try {
    demo = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new UsageError(
      `--demo: no running demo was found (${file} is missing). Start one with npm run demo.`,
    );
  }
  const found: NodeJS.ProcessEnv = {};
  for (const key of ['NODE_ENV', 'MONGODB_URI', 'LTI_KEY', 'ENCRYPTION_KEY', 'PUBLIC_URL'])
    if (typeof demo[key] === 'string') found[key] = demo[key];
  return found;
}

async function openSession(env: NodeJS.ProcessEnv, needs: readonly Setting[]): Promise<Session> {
  const config = cliConfig(env, needs);
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const connection: Connection = await connectDatabase(config.mongodbUri);
  try {
    const models = createModels(connection);
    // Uniqueness of (issuer, client id) must hold even when the CLI touches the database first.
    await models.platforms.createIndexes();
    await models.registrationLinks.createIndexes();
    const ctx: Context = {
      config,
      models,
      sealer: createSealer(config.encryptionKey),
      jobs: noJobs,
      logger,
      now: () => new Date(),
    };
    const ltiDb = new LtiDatabase(connection);
    await ltiDb.setup();
    return {
      ctx,
      hooks: ltiPlatformStore(ltiDb, config.ltiKey).hooks(),
      close: () => connection.close(),
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/** Registering and removing platforms queues no jobs; anything that tried would be a bug here. */
const noJobs: JobQueue = {
  get agenda(): never {
    throw new Error('the CLI runs no jobs');
  },
  startProcessing: () => Promise.reject(new Error('the CLI runs no jobs')),
  isReady: () => false,
  stop: async () => ({ drained: 0, left: 0 }),
};

const CLI_ACTOR = { type: 'admin' as const, id: 'cli' };

async function withSession<T>(
  io: CliIo,
  name: CommandName,
  work: (session: Session) => Promise<T>,
): Promise<T> {
  const session = await openSession(io.env, COMMANDS[name].needs);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

async function runRegistrationLink(command: string | undefined, rest: string[], io: CliIo): Promise<number> {
  if (command === 'create') {
    const { values } = parseFlags(rest, {
      name: { type: 'string' },
      lms: { type: 'string' },
      'expires-in-minutes': { type: 'string' },
      json: { type: 'boolean' },
    });
    const minutes = values['expires-in-minutes'] as string | undefined;
    const parsed = registrationLinkInputSchema.safeParse({
      name: values.name,
      lms: values.lms,
      expiresInMinutes: minutes === undefined ? undefined : /^\d+$/.test(minutes) ? Number(minutes) : minutes,
    });
    if (!parsed.success)
      throw invalid('registration link', parsed.error, {
        name: '--name',
        lms: '--lms',
        expiresInMinutes: '--expires-in-minutes',
      });
    return withSession(io, 'registration-link create', async ({ ctx }) => {
      const { link, url } = await createRegistrationLink(ctx, parsed.data, CLI_ACTOR);
      if (values.json) io.out(JSON.stringify({ ...toPublicRegistrationLink(link, ctx.now()), url }));
      else {
        io.out(
          `Registration link ${String(link._id)}${link.name ? ` for ${link.name}` : ''}, valid once until ${link.expiresAt.toISOString()}:`,
        );
        io.out(url);
        io.out(
          'Paste it into the LMS (Moodle: Manage tools › Tool URL; Canvas: Developer Keys › LTI Registration).',
        );
      }
      return 0;
    });
  }
  if (command === 'list') {
    const { values } = parseFlags(rest, { json: { type: 'boolean' } });
    return withSession(io, 'registration-link list', async ({ ctx }) => {
      const now = ctx.now();
      const links = (await listRegistrationLinks(ctx, { limit: 1000 })).map((l) =>
        toPublicRegistrationLink(l, now),
      );
      if (values.json) io.out(JSON.stringify(links));
      else if (links.length === 0) io.out('No registration links.');
      else
        for (const l of links)
          io.out(
            `${l.id}  ${l.state.padEnd(7)}  expires ${l.expiresAt.toISOString()}  ${l.name ?? '-'}${l.platformId ? `  platform ${l.platformId}` : ''}`,
          );
      return 0;
    });
  }
  if (command === 'revoke') {
    const { positionals } = parseFlags(rest, {}, 1);
    return withSession(io, 'registration-link revoke', async ({ ctx }) => {
      await revokeRegistrationLink(ctx, positionals[0]!, CLI_ACTOR);
      io.out(`Revoked registration link ${positionals[0]}.`);
      return 0;
    });
  }
  throw new UsageError(command ? `Unknown command "registration-link ${command}".` : 'No command given.');
}

async function run(argvIn: string[], ioIn: CliIo): Promise<number> {
  const demo = argvIn.includes('--demo');
  const argv = argvIn.filter((a) => a !== '--demo');
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    if (argv.length === 0) throw new UsageError('No command given.');
    const named = argv.slice(1).join(' ') as CommandName;
    ioIn.out(COMMANDS[named] ? commandHelp(named) : USAGE);
    return 0;
  }
  const [group, command, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h') || command === '--help' || command === '-h') {
    const named = `${group} ${command}` as CommandName;
    if (COMMANDS[named]) ioIn.out(commandHelp(named));
    else ioIn.out(USAGE);
    return 0;
  }
  const io = demo ? { ...ioIn, env: { ...ioIn.env, ...demoEnvironment(ioIn.env) } } : ioIn;
  if (group === 'registration-link') return runRegistrationLink(command, rest, io);
  if (group !== 'platform' || !command)
    throw new UsageError(group ? `Unknown command "${argv.join(' ')}".` : 'No command given.');
  if (command === 'add') {
    const { input, json } = parsePlatformAdd(rest);
    const session = await openSession(io.env, COMMANDS['platform add'].needs);
    try {
      const { platform, webhookSecret } = await registerPlatform(session.ctx, input, {
        actor: CLI_ACTOR,
        via: 'cli',
        hooks: session.hooks,
      });
      const id = String(platform._id);
      if (json)
        io.out(
          JSON.stringify({
            id,
            name: platform.name,
            issuer: platform.issuer,
            clientId: platform.clientId,
            webhookSecret,
          }),
        );
      else {
        io.out(
          `Registered platform ${id}: ${platform.name} (${platform.lms}), issuer ${platform.issuer}, client id ${platform.clientId}.`,
        );
        io.out(`Webhook secret (shown only now; store it in the LMS's Laurel plugin): ${webhookSecret}`);
      }
      return 0;
    } finally {
      await session.close();
    }
  }
  if (command === 'list') {
    let values: { json?: boolean };
    try {
      ({ values } = parseArgs({ args: rest, strict: true, options: { json: { type: 'boolean' } } }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const session = await openSession(io.env, COMMANDS['platform list'].needs);
    try {
      const platforms = await listPlatforms(session.ctx);
      if (values.json)
        io.out(
          JSON.stringify(
            platforms.map((p) => ({
              id: String(p._id),
              name: p.name,
              lms: p.lms,
              status: p.status ?? 'active',
              ...(p.suggestedName ? { suggestedName: p.suggestedName } : {}),
              issuer: p.issuer,
              clientId: p.clientId,
              deploymentIds: p.deploymentIds,
            })),
          ),
        );
      else if (platforms.length === 0) io.out('No platforms are registered.');
      else
        for (const p of platforms)
          io.out(
            `${String(p._id)}  ${p.lms.padEnd(6)}  ${(p.status ?? 'active').padEnd(7)}  ${p.name}${p.suggestedName ? ` (it calls itself ${p.suggestedName})` : ''}  issuer ${p.issuer}  client id ${p.clientId}  deployments ${p.deploymentIds.join(',') || '-'}`,
          );
      return 0;
    } finally {
      await session.close();
    }
  }
  if (command === 'remove') {
    if (rest.length !== 1 || rest[0]!.startsWith('-'))
      throw new UsageError('platform remove takes one platform id.');
    const session = await openSession(io.env, COMMANDS['platform remove'].needs);
    try {
      await deletePlatform(session.ctx, rest[0]!, { actor: CLI_ACTOR, hooks: session.hooks });
      io.out(`Removed platform ${rest[0]}.`);
      return 0;
    } finally {
      await session.close();
    }
  }
  if (command === 'approve') {
    const { values, positionals } = parseFlags(
      rest,
      { name: { type: 'string' }, json: { type: 'boolean' } },
      1,
    );
    const parsed = approvePlatformSchema.safeParse({ name: values.name });
    if (!parsed.success) throw invalid('approval', parsed.error, { name: '--name' });
    return withSession(io, 'platform approve', async (session) => {
      const { platform, webhookSecret } = await approvePlatform(session.ctx, positionals[0]!, {
        actor: CLI_ACTOR,
        name: parsed.data.name,
        hooks: session.hooks,
      });
      const id = String(platform._id);
      if (values.json) io.out(JSON.stringify({ id, name: platform.name, status: 'active', webhookSecret }));
      else {
        io.out(`Approved platform ${id}: ${platform.name} (${platform.lms}), issuer ${platform.issuer}.`);
        io.out(`Webhook secret (shown only now; store it in the LMS's Laurel plugin): ${webhookSecret}`);
      }
      return 0;
    });
  }
  if (command === 'rotate-secret') {
    const { values, positionals } = parseFlags(rest, { json: { type: 'boolean' } }, 1);
    return withSession(io, 'platform rotate-secret', async ({ ctx }) => {
      const webhookSecret = await rotateWebhookSecret(ctx, positionals[0]!, CLI_ACTOR);
      if (values.json) io.out(JSON.stringify({ id: positionals[0], webhookSecret }));
      else {
        io.out(
          `New webhook secret of platform ${positionals[0]} (shown only now; the previous one works for 24 hours):`,
        );
        io.out(webhookSecret);
      }
      return 0;
    });
  }
  if (command === 'add-deployment' || command === 'remove-deployment') {
    const [id, deploymentId] = rest;
    if (rest.length !== 2 || !id || !deploymentId?.trim() || deploymentId.startsWith('-'))
      throw new UsageError(`platform ${command} takes a platform id and a deployment id.`);
    const session = await openSession(io.env, COMMANDS[`platform ${command}`].needs);
    try {
      // A new installation of the tool in the LMS (a Canvas sub-account, a Moodle tool type) brings a
      // new deployment id; adding one that waits for approval approves it.
      const adding = command === 'add-deployment';
      const updated = await changeDeployment(
        session.ctx,
        id,
        adding ? { add: deploymentId.trim() } : { remove: deploymentId.trim() },
        CLI_ACTOR,
      );
      io.out(
        `Platform ${id} accepts launches from deployments: ${updated?.deploymentIds.join(', ') || 'none'}.`,
      );
      return 0;
    } finally {
      await session.close();
    }
  }
  if (command === 'deployment-policy') {
    const [id, policy] = rest;
    if (rest.length !== 2 || !id || (policy !== 'auto' && policy !== 'approve'))
      throw new UsageError('platform deployment-policy takes a platform id and auto or approve.');
    const session = await openSession(io.env, COMMANDS['platform deployment-policy'].needs);
    try {
      await updatePlatformSettings(session.ctx, id, { deploymentPolicy: policy }, CLI_ACTOR);
      io.out(
        policy === 'auto'
          ? `Platform ${id} accepts and records launches from new deployments.`
          : `Platform ${id} lists launches from new deployments for approval (platform add-deployment).`,
      );
      return 0;
    } finally {
      await session.close();
    }
  }
  throw new UsageError(`Unknown command "platform ${command}".`);
}

/** Runs one CLI command; answers the exit code (never exits the process itself). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      io.err(USAGE);
      return 2;
    }
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 2;
    }
    if (err instanceof HttpError) {
      io.err(err.message);
      return 1;
    }
    io.err(`The command failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

const invokedDirectly = (() => {
  try {
    return !!process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  runCli(process.argv.slice(2), {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}
