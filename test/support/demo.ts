import { rmSync, writeFileSync } from 'node:fs';
import { loadConfig, ConfigError } from '../../src/config.js';
import { startLaurel, type Laurel } from '../../src/laurel.js';
import { platformInputSchema } from '../../src/platforms/schema.js';
import { deletePlatform, registerPlatform } from '../../src/platforms/service.js';
import { publicKeysInProduction, withDevDefaults } from './dev-env.js';
import { demoFile } from '../../src/cli.js';
import { startTestDatabase } from './database.js';
import { announceDemoActivities, eventPanelRouter } from './demo-panel.js';
import { startTestPlatform, type Flavour, type TestPlatform } from './lms-platform/index.js';
import { FakeCredly } from './fakes/credly.js';
import { saveSettings } from '../../src/providers/settings.js';
import { syncTemplates } from '../../src/providers/sync.js';
import { Types } from 'mongoose';
import { Router } from 'express';
import { digestsNow, mailboxRouter, RecordingMailer } from './demo-mailbox.js';

/**
 * `npm run demo`: Laurel with an embedded database and development defaults, and two demo LMSs
 * (Moodle-like and Canvas-like) registered with it, so a newcomer sees Laurel work with no setup.
 * Reads the same environment as `npm start`. The LMSs run on 127.0.0.1 while Laurel is reached as
 * localhost: two different sites, as an LMS and Laurel are in real life.
 */

const DEMO_ACTOR = { type: 'system' as const, id: 'demo' };

/** A demo LMS, registered afresh (a database kept from an earlier run may hold an older record). */
async function startDemoPlatform(
  laurel: Laurel,
  flavour: Flavour,
  port: number,
  mailbox: RecordingMailer | null = null,
): Promise<{ platform: TestPlatform; webhookSecret: string }> {
  // Filled in once the platform runs and is registered; the event panel reads them on each request.
  const live: { registered?: { id: string; webhookSecret: string }; started?: TestPlatform } = {};
  const demoOf = () => live.started?.demo;
  const options = {
    toolUrl: laurel.config.publicUrl,
    flavour,
    host: '127.0.0.1',
    seedDemo: true,
    clientId: `laurel-demo-${flavour}`,
    deploymentId: `demo-${flavour}-1`,
    // As the real ones: Canvas offers its platform storage (lti_storage_target), Moodle 5.1 does not.
    platformStorage: flavour === 'canvas',
    // The event panel: play this LMS sending grades and completions for its demo learners.
    extraPages: {
      router: eventPanelRouter({
        laurelUrl: laurel.config.publicUrl,
        adminApiKey: laurel.config.adminApiKey,
        lmsUrl: () => (live.started ? `${live.started.url}/` : undefined),
        platformId: () => live.registered?.id,
        webhookSecret: () => live.registered?.webhookSecret,
        courses: () =>
          demoOf() ? Object.values(demoOf()!.courses).map((c) => ({ id: c.id, title: c.title })) : [],
        learners: () =>
          demoOf()
            ? [demoOf()!.users.ada, demoOf()!.users.grace].map((u) => ({
                id: u.lmsUserId,
                name: u.name,
                email: u.email,
              }))
            : [],
      }),
      links: [
        {
          href: '/lms-panel',
          label: 'Play the LMS: send grades and completions to Laurel (opens a new tab)',
        },
      ],
    },
  };
  // Without SMTP_URL, the mails Laurel would send are shown on this LMS too (test/support/demo-mailbox.ts).
  if (mailbox) {
    const lmsUrl = () => (live.started ? `${live.started.url}/` : undefined);
    const sendDigestsNow = () => digestsNow(laurel.ctx, mailbox);
    const router = Router().use(
      options.extraPages.router,
      mailboxRouter(mailbox, { lmsUrl, sendDigestsNow }),
    );
    options.extraPages = {
      router,
      links: [
        ...options.extraPages.links,
        { href: '/laurel-mail', label: 'Mails Laurel would send (SMTP_URL is unset)' },
      ],
    };
  }
  let platform: TestPlatform;
  try {
    platform = await startTestPlatform({ ...options, port });
  } catch {
    platform = await startTestPlatform({ ...options, port: 0 }); // the usual port is taken
  }
  const { ctx } = laurel;
  const hooks = laurel.lti.platformHooks;
  const old = await ctx.models.platforms
    .findOne({ issuer: platform.issuer, clientId: platform.clientId })
    .lean();
  if (old) await deletePlatform(ctx, String(old._id), { actor: DEMO_ACTOR, hooks });
  const input = platformInputSchema.parse(platform.registrationInfo());
  const { platform: record, webhookSecret } = await registerPlatform(ctx, input, {
    actor: DEMO_ACTOR,
    via: 'demo',
    hooks,
  });
  live.started = platform;
  live.registered = { id: String(record._id), webhookSecret };
  // An administrator of the LMS, to try Laurel's page for them (a launch button on every course).
  platform.addUser({ name: 'Alan Admin', admin: true });
  // The Moodle plugin tells Laurel each course's activities; the demo Moodle does the same, so the
  // badge builder offers them by name (Canvas's come with its events and gradebook columns).
  if (flavour === 'moodle') {
    const courses = Object.values(platform.demo!.courses).map((c) => ({ id: c.id, title: c.title }));
    const status = await announceDemoActivities(
      laurel.config.publicUrl,
      String(record._id),
      webhookSecret,
      courses,
    );
    if (status !== 200)
      laurel.ctx.logger.warn({ status }, 'the demo Moodle could not announce its activities');
  }
  return { platform, webhookSecret };
}

/**
 * A local stand-in for Credly with a few badge templates, set up for the Moodle-like platform and
 * synced, so that a Credly-sourced badge can be tried end to end without a Credly account.
 */
async function startDemoCredly(laurel: Laurel, platformId: string, port: number): Promise<FakeCredly> {
  const credly = new FakeCredly({ name: 'Demo Credly organisation' });
  try {
    await credly.start(port);
  } catch {
    await credly.start(0);
  }
  credly.addTemplate({
    name: 'Lab safety (Credly)',
    description: 'Knows how to work safely in the chemistry lab.',
  });
  credly.addTemplate({ name: 'Historian (Credly)', description: 'Completed World History.' });
  const id = new Types.ObjectId(platformId);
  await saveSettings(
    laurel.ctx,
    id,
    {
      provider: 'credly',
      organizationId: credly.organizationId,
      authToken: credly.token,
      environment: 'sandbox',
      baseUrl: credly.baseUrl,
    },
    DEMO_ACTOR,
  );
  await syncTemplates(laurel.ctx, id, 'credly');
  return credly;
}

async function demo(): Promise<void> {
  const port = process.env.PORT ?? '3000';
  const refused = publicKeysInProduction(process.env);
  if (refused) {
    process.stderr.write(`${refused}\n`);
    process.exit(1);
  }
  const { env, filled } = withDevDefaults(process.env, {
    PORT: port,
    PUBLIC_URL: `http://localhost:${port}`,
  });
  const db = env.MONGODB_URI
    ? { uri: env.MONGODB_URI, description: 'MongoDB at MONGODB_URI', stop: async () => {} }
    : await startTestDatabase({ dbName: 'laurel_demo' });
  env.MONGODB_URI = db.uri;

  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      await db.stop();
      process.exit(1);
    }
    throw err;
  }
  // Without SMTP_URL the demo keeps the mails Laurel would send and shows them (/laurel-mail).
  const mailbox = config.smtpUrl ? null : new RecordingMailer();
  const laurel = await startLaurel(config, mailbox ? { mailer: mailbox } : {});
  const base = Number(port) || 0;
  const moodle = await startDemoPlatform(laurel, 'moodle', base ? base + 1 : 0, mailbox);
  const canvas = await startDemoPlatform(laurel, 'canvas', base ? base + 2 : 0, mailbox);
  const moodleId = await laurel.ctx.models.platforms
    .findOne({ issuer: moodle.platform.issuer, clientId: moodle.platform.clientId }, { _id: 1 })
    .lean();
  const credly = await startDemoCredly(laurel, String(moodleId!._id), base ? base + 3 : 0);

  const lines = [
    '',
    'Laurel demo is running.',
    `  Database: ${db.description}`,
    `  Laurel:   ${config.publicUrl}/`,
    `  Ready:    ${config.publicUrl}/readyz`,
    '',
    '  Open a demo LMS and click "Launch as instructor" or "Launch as learner" in a course:',
    `    Moodle-like LMS: ${moodle.platform.url}/   (Chemistry 101, World History)`,
    `    Canvas-like LMS: ${canvas.platform.url}/`,
    `  Play the LMS (send grades and completions): ${moodle.platform.url}/lms-panel and ${canvas.platform.url}/lms-panel`,
    mailbox
      ? `  Mails Laurel would send (SMTP_URL is unset, so none is sent): ${moodle.platform.url}/laurel-mail`
      : '  Laurel sends its mail through SMTP_URL.',
    "  The two are other sites than Laurel: where the browser keeps Laurel's cookies out of their frame,",
    '  the Canvas-like LMS keeps the sign-in in its platform storage, and with the Moodle-like one Laurel',
    '  asks for storage access or continues in a new window.',
    `  Credly stand-in (local, set up for the Moodle-like LMS): ${credly.url}/ lists its templates and the badges`,
    '  it issued. As an instructor, "Use a Credly or Accredible badge" picks one of its templates for the course.',
    `  Their webhook secrets, for signing events to ${config.publicUrl}/api/v1/events:`,
    `    Moodle-like: ${moodle.webhookSecret}`,
    `    Canvas-like: ${canvas.webhookSecret}`,
    ...Object.entries(filled).map(
      ([key, value]) => `  ${key} was unset; using the development default ${value}`,
    ),
    ...(Object.keys(filled).some((key) => ['LTI_KEY', 'ADMIN_API_KEY', 'ENCRYPTION_KEY'].includes(key))
      ? [
          '  WARNING: the development keys above are public (they are printed here and written in',
          "  Laurel's source). Use this demo only on your own machine, never for a real school;",
          '  with NODE_ENV=production the demo refuses to use them.',
        ]
      : []),
    '  Command line against this demo: npm run cli -- --demo platform list   (npm run cli -- --help for more)',
    '  Stop with Ctrl+C.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  // `npm run cli -- --demo …` reads how to reach this demo from here (readable by this user only).
  const cliFile = demoFile(process.env);
  writeFileSync(
    cliFile,
    JSON.stringify({
      NODE_ENV: config.env,
      MONGODB_URI: db.uri,
      LTI_KEY: env.LTI_KEY,
      ENCRYPTION_KEY: env.ENCRYPTION_KEY,
      PUBLIC_URL: config.publicUrl,
    }),
    { mode: 0o600 },
  );

  const stop = async () => {
    rmSync(cliFile, { force: true });
    await Promise.all([moodle.platform.close(), canvas.platform.close(), credly.stop()]);
    await laurel.close();
    await db.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

demo().catch((err: unknown) => {
  process.stderr.write(`The demo could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
