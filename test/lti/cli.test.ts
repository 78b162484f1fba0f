import { spawn } from 'node:child_process';
import path from 'node:path';
import { runCli } from '../../src/cli.js';
import { registerPlatform } from '../../src/platforms/service.js';
import { admin } from '../support/api.js';
import { withDevDefaults } from '../support/dev-env.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch, startTestPlatform, type TestPlatform } from '../support/lms-platform/index.js';
import { follow, startLaurelForLti } from './helpers.js';

describe('CLI: platform add, list, remove', () => {
  let t: TestLaurel;
  let platform: TestPlatform;
  const out: string[] = [];
  const err: string[] = [];
  const io = () => ({
    env: withDevDefaults({ NODE_ENV: 'test', MONGODB_URI: t.db.uri, PUBLIC_URL: t.laurel.config.publicUrl })
      .env,
    out: (line: string) => out.push(line),
    err: (line: string) => err.push(line),
  });
  const flagsOf = (info: ReturnType<TestPlatform['registrationInfo']>) => [
    '--name',
    info.name,
    '--lms',
    info.lms,
    '--issuer',
    info.issuer,
    '--client-id',
    info.clientId,
    '--auth-login-url',
    info.authLoginUrl,
    '--auth-token-url',
    info.authTokenUrl,
    '--jwks-url',
    info.jwksUrl,
    ...info.deploymentIds.flatMap((d) => ['--deployment-id', d]),
  ];

  beforeAll(async () => {
    t = await startLaurelForLti();
    platform = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour: 'moodle',
      seedDemo: true,
    });
  });
  afterAll(async () => {
    await platform?.close();
    await t?.stop();
  });
  beforeEach(() => {
    out.length = 0;
    err.length = 0;
  });

  it('adds a platform to both stores, prints the webhook secret once, and the platform then launches', async () => {
    const code = await runCli(['platform', 'add', ...flagsOf(platform.registrationInfo())], io());
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const secret = /Webhook secret[^:]*: ([0-9a-f]{64})$/.exec(out.join('\n'))?.[1];
    expect(secret).toBeTruthy();
    const listed = await admin(t, 'GET', '/platforms');
    const stored = listed.body.items.find((p: any) => p.issuer === platform.issuer);
    expect(stored).toMatchObject({
      clientId: platform.clientId,
      registeredBy: 'cli',
      deploymentIds: [platform.deploymentId],
    });
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const page = await launch(platform, {
      courseId: platform.demo!.courses.chemistry.id,
      sub: platform.demo!.users.ada.sub,
    });
    expect(page.status).toBe(200);
    expect(new URL(page.url).pathname).toBe('/course/learner');

    // A new installation in the LMS brings a deployment id Laurel refuses until it is added.
    const chemistry = platform.demo!.courses.chemistry.id;
    const other = { courseId: chemistry, sub: platform.demo!.users.ada.sub, deploymentId: 'second-install' };
    expect((await launch(platform, other)).status).toBe(403);
    expect(await runCli(['platform', 'add-deployment', stored.id, 'second-install'], io())).toBe(0);
    expect(out.at(-1)).toContain('second-install');
    expect((await launch(platform, other)).status).toBe(200);

    out.length = 0;
    expect(await runCli(['platform', 'list', '--json'], io())).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: stored.id })]),
    );

    // The same issuer and client id twice is a conflict, as in the API.
    expect(await runCli(['platform', 'add', ...flagsOf(platform.registrationInfo())], io())).toBe(1);
    expect(err.join('\n')).toMatch(/already registered/);

    out.length = 0;
    expect(await runCli(['platform', 'remove', stored.id], io())).toBe(0);
    expect(await t.laurel.lti.db.Get(false, 'platform', { platformUrl: platform.issuer })).toBe(false);
    const after = await launch(platform, {
      courseId: platform.demo!.courses.chemistry.id,
      sub: platform.demo!.users.ada.sub,
    });
    expect(after.status).toBe(401);
    expect(await runCli(['platform', 'remove', stored.id], io())).toBe(1);
  });

  it('refuses bad flags with exit code 2, naming them, before touching the database', async () => {
    const info = platform.registrationInfo();
    const bad = flagsOf({ ...info, lms: 'blackboard' as never, jwksUrl: 'not a url' });
    expect(await runCli(['platform', 'add', ...bad], { ...io(), env: {} })).toBe(2);
    expect(err[0]).toContain('--lms');
    expect(err[0]).toContain('--jwks-url');
    err.length = 0;
    expect(await runCli(['platform', 'add', '--name', 'X'], { ...io(), env: {} })).toBe(2);
    expect(err[0]).toMatch(/Missing .*--lms.*--issuer.*--client-id/);
    err.length = 0;
    expect(await runCli(['platform', 'add', '--colour', 'red'], { ...io(), env: {} })).toBe(2);
    expect(err[0]).toContain('--colour');
    expect(await runCli(['platform', 'frobnicate'], { ...io(), env: {} })).toBe(2);
  });

  it('creates, lists and revokes registration links; a created link registers a platform', async () => {
    const code = await runCli(
      [
        'registration-link',
        'create',
        '--name',
        'CLI College',
        '--lms',
        'moodle',
        '--expires-in-minutes',
        '60',
      ],
      io(),
    );
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const url = out.find((l) => l.startsWith(`${t.laurel.config.publicUrl}/lti/register?code=`));
    expect(url).toBeTruthy();
    expect(out.join('\n')).toContain('CLI College');

    out.length = 0;
    expect(await runCli(['registration-link', 'list', '--json'], io())).toBe(0);
    const links = JSON.parse(out.join('')) as {
      id: string;
      state: string;
      name: string;
      expiresAt: string;
    }[];
    const link = links.find((l) => l.name === 'CLI College')!;
    expect(link.state).toBe('open');
    expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(60 * 60_000);
    expect(out.join('')).not.toContain(new URL(url!).searchParams.get('code')!);

    const lms = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour: 'moodle',
      host: '127.0.0.1',
    });
    try {
      const res = await follow(t, lms.registrationStartUrl({ registrationUrl: url! }));
      expect(res.status).toBe(200);
      const stored = await t.laurel.ctx.models.platforms.findOne({ issuer: lms.issuer }).lean();
      expect(stored).toMatchObject({ name: 'CLI College', status: 'active' });
    } finally {
      await lms.close();
    }

    out.length = 0;
    expect(await runCli(['registration-link', 'create', '--json'], io())).toBe(0);
    const other = JSON.parse(out.join('')) as { id: string; url: string };
    expect(await runCli(['registration-link', 'revoke', other.id], io())).toBe(0);
    expect(await runCli(['registration-link', 'revoke', other.id], io())).toBe(1);
    expect(err.join('\n')).toMatch(/not found/);
  });

  it('refuses bad registration-link flags with exit code 2', async () => {
    for (const args of [
      ['--expires-in-minutes', '0'],
      ['--expires-in-minutes', 'soon'],
      ['--expires-in-minutes', '50000'],
      ['--lms', 'blackboard'],
      ['--name', ''],
      ['--colour', 'red'],
    ]) {
      err.length = 0;
      expect(await runCli(['registration-link', 'create', ...args], { ...io(), env: {} })).toBe(2);
      expect(err[0]).toContain(args[0]);
    }
    expect(await runCli(['registration-link', 'frobnicate'], { ...io(), env: {} })).toBe(2);
    expect(await runCli(['registration-link', 'revoke'], { ...io(), env: {} })).toBe(2);
    expect(await runCli(['platform', 'approve'], { ...io(), env: {} })).toBe(2);
  });

  it('approves a pending platform, printing its new webhook secret once; it launches only then', async () => {
    const pending = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour: 'moodle',
      seedDemo: true,
    });
    try {
      const { platform } = await registerPlatform(t.laurel.ctx, pending.registrationInfo(), {
        actor: { type: 'lms', id: pending.issuer },
        via: 'dynamic-registration',
        hooks: t.laurel.lti.platformHooks,
        status: 'pending',
      });
      const id = String(platform._id);
      const as = { courseId: pending.demo!.courses.chemistry.id, sub: pending.demo!.users.ada.sub };
      expect((await launch(pending, as)).status).toBe(403);
      expect(await runCli(['platform', 'list'], io())).toBe(0);
      expect(out.find((l) => l.startsWith(id))).toContain('pending');

      out.length = 0;
      expect(await runCli(['platform', 'approve', id, '--name', 'Approved College'], io())).toBe(0);
      const secret = /Webhook secret[^:]*: ([0-9a-f]{64})$/.exec(out.join('\n'))?.[1];
      expect(secret).toBeTruthy();
      expect((await launch(pending, as)).status).toBe(200);
      expect(await t.laurel.ctx.models.platforms.findById(id).lean()).toMatchObject({
        name: 'Approved College',
        status: 'active',
      });
      expect(await runCli(['platform', 'approve', id], io())).toBe(1);
      expect(err.join('\n')).toMatch(/not waiting for approval/);
    } finally {
      await pending.close();
    }
  });

  it('runs as `npm run cli` does (tsx), with exit code 2 for bad input', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const child = spawn(
      path.join(root, 'node_modules/.bin/tsx'),
      ['src/cli.ts', 'platform', 'add', '--lms', 'nope'],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/Missing --name/);
    expect(stderr).toContain('Usage:');
  });
});
